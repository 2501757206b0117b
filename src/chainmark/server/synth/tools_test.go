package synth

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// specTools are the three tools as a client offers them (LangChain's bind_tools shape).
func specTools() []Tool {
	param := func(name, typ string) map[string]any {
		return map[string]any{
			"type":       "object",
			"properties": map[string]any{name: map[string]any{"type": typ}},
			"required":   []any{name},
		}
	}
	return []Tool{
		{Name: "WordLengthTool", Description: "Calculates the character length of a single word.", Parameters: param("text", "string")},
		{Name: "SimpleCalculator", Description: "Evaluates arithmetic like '1+2*3'.", Parameters: param("expression", "string")},
		{Name: "CounterTool", Description: "Increments a counter.", Parameters: map[string]any{"type": "object"}},
	}
}

// runToolLoop plays a tool-calling client: it runs each call and appends the result as a
// "tool" message until the model answers in text.
func runToolLoop(t *testing.T, m *Model, tools []Tool, question string) (answer string, calls []string) {
	t.Helper()
	msgs := []Message{{Role: "system", Content: "You are a helpful assistant."}, {Role: "user", Content: question}}
	counter := 0
	for i := 0; i < 60; i++ {
		a := m.Answer(Prompt{Kind: "chat", Messages: msgs}, Options{Seed: 1}, tools, nil)
		if len(a.ToolCalls) == 0 {
			return join(a.Tokens), calls
		}
		if len(a.ToolCalls) != 1 || len(a.Tokens) != 0 || a.Generated < 1 || a.DoneReason != "stop" {
			t.Fatalf("a tool call answer: %+v", a)
		}
		call := a.ToolCalls[0]
		if _, err := json.Marshal(call.Arguments); err != nil {
			t.Fatal(err)
		}
		var input string
		for _, v := range call.Arguments {
			switch v := v.(type) {
			case string:
				input = v
			case int64:
				input = strconv.FormatInt(v, 10)
			}
		}
		obs := runTool(call.Name, input, &counter)
		calls = append(calls, call.Name+"("+input+")="+obs)
		msgs = append(msgs, Message{Role: "assistant", ToolCalls: []ToolCall{call}},
			Message{Role: "tool", ToolName: call.Name, Content: obs})
	}
	t.Fatal("no final answer")
	return "", nil
}

func TestToolCallingFullLoop(t *testing.T) {
	tools := specTools()
	m := zeroModel(BehaviourCorrect, 250)
	answer, calls := runToolLoop(t, m, tools,
		"What is 25 multiplied by 4, and what is the character length of the word 'knowledge'?")
	if strings.Join(calls, " ") != "SimpleCalculator(25*4)=100 WordLengthTool(knowledge)=9" {
		t.Fatalf("calls %v", calls)
	}
	if answer != "25*4 = 100; the word 'knowledge' has 9 characters." {
		t.Fatalf("answer %q", answer)
	}
	answer, calls = runToolLoop(t, m, tools, "Count from 1 to 3 with the counter.")
	if len(calls) != 3 || answer != "I counted to 3 with 3 counter calls." {
		t.Fatalf("%v %q", calls, answer)
	}
	answer, _ = runToolLoop(t, zeroModel(BehaviourLiar, 250), tools,
		"What is 25 multiplied by 4, and what is the character length of the word 'knowledge'?")
	if answer != "25*4 = 101; the word 'knowledge' has 10 characters." {
		t.Fatalf("liar %q", answer)
	}
	// The malformed behaviour calls tools correctly.
	_, calls = runToolLoop(t, zeroModel(BehaviourMalformed, 250), tools, "What is 2 plus 2?")
	if strings.Join(calls, " ") != "SimpleCalculator(2+2)=4" {
		t.Fatalf("malformed %v", calls)
	}
}

func TestToolCallArguments(t *testing.T) {
	m := zeroModel(BehaviourCorrect, 250)
	chat := func(q string) Prompt { return Prompt{Kind: "chat", Messages: []Message{{Role: "user", Content: q}}} }
	a := m.Answer(chat("What is 6 x 7?"), Options{}, specTools(), nil)
	if !reflect.DeepEqual(a.ToolCalls, []ToolCall{{Name: "SimpleCalculator", Arguments: map[string]any{"expression": "6*7"}}}) {
		t.Fatalf("%+v", a.ToolCalls)
	}
	// No required list, no properties: "input". Properties only: the first (sorted).
	a = m.Answer(chat("count from 4 to 4"), Options{}, specTools(), nil)
	if !reflect.DeepEqual(a.ToolCalls[0].Arguments, map[string]any{"input": "4"}) {
		t.Fatalf("%+v", a.ToolCalls)
	}
	tools := []Tool{{Name: "add_one", Description: "Counts.", Parameters: map[string]any{
		"properties": map[string]any{"value": map[string]any{"type": "integer"}, "note": map[string]any{}}}}}
	a = m.Answer(chat("count from 4 to 4"), Options{}, tools, nil)
	if !reflect.DeepEqual(a.ToolCalls, []ToolCall{{Name: "add_one", Arguments: map[string]any{"note": "4"}}}) {
		t.Fatalf("%+v", a.ToolCalls)
	}
	tools[0].Parameters["required"] = []string{"value"}
	a = m.Answer(chat("count from 4 to 4"), Options{}, tools, nil)
	if !reflect.DeepEqual(a.ToolCalls[0].Arguments, map[string]any{"value": int64(4)}) {
		t.Fatalf("integer parameter: %+v", a.ToolCalls)
	}
	// Matching by description when names say nothing.
	tools = []Tool{{Name: "t1", Description: "Does math."}, {Name: "t2", Description: "Word length."}}
	a = m.Answer(chat("the length of the word 'ox' and 1+1"), Options{}, tools, nil)
	if a.ToolCalls[0].Name != "t2" {
		t.Fatalf("%+v", a.ToolCalls)
	}
}

func TestToolsWithoutAPlanAnswerInText(t *testing.T) {
	m := zeroModel(BehaviourCorrect, 20)
	p := Prompt{Kind: "chat", Messages: []Message{{Role: "user", Content: "Why is the sky blue?"}}}
	a := m.Answer(p, Options{}, specTools(), nil)
	if len(a.ToolCalls) != 0 || join(a.Tokens) != DeterministicText(p, 0, 20) {
		t.Fatalf("%+v", a)
	}
	// A plan no offered tool serves.
	p.Messages[0].Content = "What is 2 plus 2?"
	a = m.Answer(p, Options{}, []Tool{{Name: "search", Description: "Web search."}}, nil)
	if len(a.ToolCalls) != 0 || len(a.Tokens) != 20 {
		t.Fatalf("%+v", a)
	}
	// Only the served steps are planned.
	p.Messages[0].Content = "What is 2 plus 2 and the length of the word 'cat'?"
	answer, calls := runToolLoop(t, m, specTools()[:1], p.Messages[0].Content)
	if strings.Join(calls, " ") != "WordLengthTool(cat)=3" || answer != "The word 'cat' has 3 characters." {
		t.Fatalf("%v %q", calls, answer)
	}
	// Generate prompts and raw prompts never call tools.
	a = m.Answer(userPrompt("What is 2 plus 2?"), Options{}, specTools(), nil)
	if len(a.ToolCalls) != 0 {
		t.Fatal("generate prompt called a tool")
	}
	// No user message at all.
	a = m.Answer(Prompt{Kind: "chat", Messages: []Message{{Role: "system", Content: "2+2"}}}, Options{}, specTools(), nil)
	if len(a.ToolCalls) != 0 {
		t.Fatal("no user message")
	}
}

func TestToolFinalAnswerHonoursFormat(t *testing.T) {
	m := zeroModel(BehaviourCorrect, 20)
	msgs := []Message{{Role: "user", Content: "What is 2 plus 2?"},
		{Role: "assistant", ToolCalls: []ToolCall{{Name: "SimpleCalculator"}}}, {Role: "tool", Content: "4"}}
	a := m.Answer(Prompt{Kind: "chat", Messages: msgs}, Options{}, specTools(), json.RawMessage(`"json"`))
	if join(a.Tokens) != `{"answer": "2+2 = 4."}` {
		t.Fatalf("%q", join(a.Tokens))
	}
}
