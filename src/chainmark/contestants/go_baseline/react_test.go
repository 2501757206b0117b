package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestParseReply(t *testing.T) {
	cases := []struct {
		reply   string
		want    Step
		problem string // the parse error's observation, when it fails
	}{
		{" I need to find the length.\nAction: WordLengthTool\nAction Input: phenomenon",
			Step{Tool: "WordLengthTool", Input: "phenomenon"}, ""},
		// Spaces and double quotes around the input go, single quotes stay (the tool strips
		// them); the action name is stripped; "Action 1:" numbering is read.
		{"Action:  SimpleCalculator \nAction Input:  \"25*4\" ", Step{Tool: "SimpleCalculator", Input: "25*4"}, ""},
		{"Action 1: CounterTool\nAction 1 Input 1: 'x'", Step{Tool: "CounterTool", Input: "'x'"}, ""},
		// Everything after "Action Input:" is the input, newlines included.
		{"Action: T\nAction Input: a\nb", Step{Tool: "T", Input: "a\nb"}, ""},
		{" I now know the final answer.\nFinal Answer: It has 10 characters. ",
			Step{Final: true, Answer: "It has 10 characters."}, ""},
		{"Final Answer: first\nFinal Answer: last", Step{Final: true, Answer: "last"}, ""},
		{"I should use a tool now.", Step{}, msgMissingAction},
		{" I should use a tool now.\nAction: SimpleCalculator", Step{}, msgMissingActionInput},
		{"Action: T\nAction Input: x\nFinal Answer: 3", Step{}, msgIncomplete},
	}
	for _, c := range cases {
		got, err := parseReply(c.reply)
		if c.problem != "" {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Observation != c.problem || pe.Reply != c.reply {
				t.Errorf("parseReply(%q) = %+v, %v; want observation %q", c.reply, got, err, c.problem)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("parseReply(%q) = %+v, %v; want %+v", c.reply, got, err, c.want)
		}
	}
}

// scriptedLLM is an httptest /api/generate that answers with replies in turn and keeps every
// prompt and stop list it was sent. A fake rather than chainmark-server: the test reads the
// exact prompts, which the real server does not log.
type scriptedLLM struct {
	mu      sync.Mutex
	replies []string
	prompts []string
	stops   [][]string
}

func (s *scriptedLLM) start(t *testing.T) *Ollama {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req generateRequest
		if r.URL.Path != "/api/generate" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		reply := "Final Answer: out of replies"
		if len(s.replies) > 0 {
			reply, s.replies = s.replies[0], s.replies[1:]
		}
		s.prompts = append(s.prompts, req.Prompt)
		s.stops = append(s.stops, req.Options.Stop)
		s.mu.Unlock()
		if err := json.NewEncoder(w).Encode(map[string]any{"response": reply, "done": true}); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(srv.Close)
	return &Ollama{base: srv.URL, model: "m", http: srv.Client()}
}

func reactParams() *Params {
	return &Params{
		Question: "How long is 'knowledge'?",
		ReactPrompt: "Tools:\n{tools}\nPick one of [{tool_names}]\n\nQuestion: {input}\n" +
			"Thought:{agent_scratchpad}",
		MaxIter: 4,
		Tools: map[string]ToolSpec{"word": {"W", "word length"}, "calc": {"C", "calculator"},
			"counter": {"N", "counter"}},
		NumPredict: 256,
	}
}

func TestAgentLoopPromptsScratchpadAndStop(t *testing.T) {
	llm := &scriptedLLM{replies: []string{
		" I need the length.\nAction: W\nAction Input: knowledge",
		" Oops.\nAction: Nope\nAction Input: x",
		" I now know the final answer.\nFinal Answer: 9 characters.",
	}}
	p := reactParams()
	agent, err := newAgent(llm.start(t), p)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	if err := runAgentOnce(context.Background(), agent, p, out, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	if out["text"] != "9 characters." || out["counter"] != 0 {
		t.Fatalf("output %v", out)
	}
	calls := out["tool_calls"].([]ToolCall)
	if len(calls) != 1 || calls[0] != (ToolCall{"W", "knowledge", "9"}) {
		t.Fatalf("calls %v", calls)
	}
	head := "Tools:\nW: word length\nC: calculator\nN: counter\nPick one of [W, C, N]\n\n" +
		"Question: How long is 'knowledge'?\nThought:"
	step1 := " I need the length.\nAction: W\nAction Input: knowledge\nObservation: 9\nThought: "
	step2 := " Oops.\nAction: Nope\nAction Input: x\nObservation: Nope is not a valid tool, " +
		"try one of [W, C, N].\nThought: "
	want := []string{head, head + step1, head + step1 + step2}
	if strings.Join(llm.prompts, "|") != strings.Join(want, "|") {
		t.Fatalf("prompts:\n%q\nwant:\n%q", llm.prompts, want)
	}
	for _, stop := range llm.stops {
		if len(stop) != 1 || stop[0] != "\nObservation" {
			t.Fatalf("stop %q", stop)
		}
	}
}

func TestParseErrorsAreFedBackOrEndTheRun(t *testing.T) {
	replies := []string{" I should use a tool now.\nAction: C",
		" Fine.\nAction: C\nAction Input: 25*4", "Final Answer: 100"}
	p := reactParams()

	llm := &scriptedLLM{replies: append([]string(nil), replies...)}
	agent, err := newAgent(llm.start(t), p)
	if err != nil {
		t.Fatal(err)
	}
	agent.feedParseErrors = true
	out := map[string]any{}
	if err := runAgentOnce(context.Background(), agent, p, out, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	if out["parse_errors"] != 1 || out["text"] != "100" || len(out["tool_calls"].([]ToolCall)) != 1 {
		t.Fatalf("output %v", out)
	}
	if !strings.HasSuffix(llm.prompts[1], replies[0]+"\nObservation: "+msgMissingActionInput+"\nThought: ") {
		t.Fatalf("the complaint is not the observation: %q", llm.prompts[1])
	}

	llm = &scriptedLLM{replies: append([]string(nil), replies...)}
	agent, err = newAgent(llm.start(t), p)
	if err != nil {
		t.Fatal(err)
	}
	var pe *ParseError
	if err := runAgentOnce(context.Background(), agent, p, map[string]any{}, "", nil, nil); !errors.As(err, &pe) {
		t.Fatalf("without feedback the parse error ends the run, got %v", err)
	}
	if len(llm.prompts) != 1 {
		t.Fatalf("%d calls after the parse error", len(llm.prompts))
	}
}

func TestToolErrorEndsTheRunAndStepLimit(t *testing.T) {
	p := reactParams()
	llm := &scriptedLLM{replies: []string{"Action: W\nAction Input: x"}}
	agent, err := newAgent(llm.start(t), p)
	if err != nil {
		t.Fatal(err)
	}
	failure := errors.New("simulated tool failure")
	err = runAgentOnce(context.Background(), agent, p, map[string]any{}, "word", failure, nil)
	var te *ToolError
	if !errors.As(err, &te) || !errors.Is(err, failure) || te.Tool != "W" {
		t.Fatalf("got %v", err)
	}

	loop := []string{}
	for range 10 {
		loop = append(loop, "Action: N\nAction Input: 1")
	}
	llm = &scriptedLLM{replies: loop}
	agent, err = newAgent(llm.start(t), p)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	err = runAgentOnce(context.Background(), agent, p, out, "", nil, nil)
	if err != nil || out["text"] != iterationLimitAnswer || len(llm.prompts) != p.MaxIter || out["counter"] != p.MaxIter {
		t.Fatalf("err %v after %d calls, output %v", err, len(llm.prompts), out)
	}
}

func TestNewAgentNeedsEveryPromptField(t *testing.T) {
	p := reactParams()
	p.ReactPrompt = "{tools} {tool_names} {input}"
	if _, err := newAgent(&Ollama{}, p); err == nil || !strings.Contains(err.Error(), "agent_scratchpad") {
		t.Fatalf("got %v", err)
	}
}

func TestFString(t *testing.T) {
	f, err := compileFString("a {x} {{literal}} {y}!")
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.partial(map[string]string{"x": "1"}).render(map[string]string{"y": "{2}"})
	if err != nil || got != "a 1 {literal} {2}!" {
		t.Fatalf("%q %v", got, err)
	}
	if _, err := f.render(map[string]string{"x": "1"}); err == nil {
		t.Fatal("a missing value must be an error")
	}
	for _, bad := range []string{"{", "}", "{x:>3}", "{}"} {
		if _, err := compileFString(bad); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}

func TestRouteLabel(t *testing.T) {
	for raw, want := range map[string]string{"math": "math", " Math.\n": "math", "mathematics": "math",
		"prose": "prose", "It is math": "prose", "": "prose"} {
		if got := routeLabel(raw); got != want {
			t.Errorf("routeLabel(%q) = %q, want %q", raw, got, want)
		}
	}
}
