package main

import (
	"bytes"
	"context"
	"log"
	"strings"
	"testing"

	"github.com/tmc/langchaingo/callbacks"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestMemoryRoundTrip(t *testing.T) {
	ollama, srv, _, _ := backends(t)
	params := map[string]any{"first_turn": "My name is John.", "next_turn": "Tell me more.",
		"turns": 3, "checkpoints": []int{1, 3}, "temperature": 0.0, "seed": 42, "num_predict": 24,
		"tracemalloc": true}
	res, code := roundTrip(t, "ops.memory", params, endpointsFor(srv.URL, ""))
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	answer := "the sky is blue because of scattering"
	history := 0
	for i, op := range checkResult(t, res, "ops.memory", 3) {
		out := op["output"].(map[string]any)
		said := "Tell me more."
		if i == 0 {
			said = "My name is John."
		}
		// The buffer holds every turn: "Human: ...\nAI: ..." lines.
		history += len("Human: "+said+"\nAI: "+answer) + min(i, 1)
		if op["name"] != "turn" || out["text"] != answer || out["turn"] != float64(i+1) ||
			out["history_chars"] != float64(history) {
			t.Fatalf("turn %d: %v (history %d)", i+1, out, history)
		}
		_, heap := out["heap_alloc_bytes"]
		_, total := out["total_alloc_bytes"]
		_, gcs := out["num_gc"]
		checkpoint := i+1 == 1 || i+1 == 3
		if heap != checkpoint || total != checkpoint || gcs != checkpoint {
			t.Fatalf("turn %d: memory figures only at checkpoints: %v", i+1, out)
		}
	}
	// The last prompt carries the whole conversation so far.
	_, last := ollama.seen()
	prompt := last["messages"].([]any)[0].(map[string]any)["content"].(string)
	if !strings.Contains(prompt, "Human: My name is John.\nAI: "+answer+"\nHuman: Tell me more.\nAI: "+answer+"\nHuman: Tell me more.\nAI:") {
		t.Fatalf("last prompt %q", prompt)
	}
}

// Events and spans of one run of the word question (one tool call, then the answer):
// executor chain, 2 x (LLM chain, LLM), 1 tool; plus the agent's action and finish.
const (
	wordRunLogged = 2 + 2*4 + 2 + 1 + 1
	wordRunSpans  = 1 + 2*2 + 1
)

func TestObservabilityRoundTrip(t *testing.T) {
	_, srv, _, _ := backends(t)
	params := wordAgentParams(1)
	params["concurrency"], params["rounds"], params["timeout_s"] = 3, 2, 30.0
	params["min_phase_s"], params["max_waves"] = 0.0, 1000
	params["modes"] = []string{"bare", "logging", "otel"}
	res, code := roundTrip(t, "ops.observability", params, endpointsFor(srv.URL, ""))
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	// No minimum phase length: one wave per phase.
	ops := checkResult(t, res, "ops.observability", 18)
	for _, op := range ops {
		checkWordAgent(t, op["output"].(map[string]any))
	}
	phases, _ := res["outputs"].(map[string]any)["phases"].([]any)
	if len(phases) != 6 {
		t.Fatalf("phases %v", phases)
	}
	for i, raw := range phases {
		phase := raw.(map[string]any)
		// Rounds alternate direction: bare logging otel, then otel logging bare.
		mode := []string{"bare", "logging", "otel", "otel", "logging", "bare"}[i]
		start, end := phase["start_ns"].(float64), phase["end_ns"].(float64)
		inside := 0
		for _, op := range ops {
			if op["name"] == mode && op["start_ns"].(float64) >= start && op["end_ns"].(float64) <= end {
				inside++
			}
		}
		if phase["mode"] != mode || inside != 3 || phase["waves"] != float64(1) {
			t.Fatalf("phase %d: %v with %d operations", i, phase, inside)
		}
		switch mode {
		case "bare":
			if _, ok := phase["events"]; ok {
				t.Fatalf("bare phase with events: %v", phase)
			}
		case "logging":
			if phase["events"] != float64(3*wordRunLogged) {
				t.Fatalf("logging phase %v, want %d events", phase, 3*wordRunLogged)
			}
		case "otel":
			if phase["events"] != float64(3*2*wordRunSpans) || phase["spans"] != float64(3*wordRunSpans) {
				t.Fatalf("otel phase %v, want %d spans", phase, 3*wordRunSpans)
			}
		}
	}
}

// Each phase repeats its burst until it has lasted min_phase_s; its handler sees every wave.
func TestObservabilityPhasesLastTheMinimum(t *testing.T) {
	_, srv, _, _ := backends(t)
	params := wordAgentParams(1)
	params["concurrency"], params["rounds"], params["timeout_s"] = 2, 1, 30.0
	params["min_phase_s"], params["max_waves"] = 0.15, 1000
	params["modes"] = []string{"bare", "logging", "otel"}
	res, code := roundTrip(t, "ops.observability", params, endpointsFor(srv.URL, ""))
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	rawOps, _ := res["operations"].([]any)
	ops := checkResult(t, res, "ops.observability", len(rawOps))
	phases, _ := res["outputs"].(map[string]any)["phases"].([]any)
	if len(phases) != 3 {
		t.Fatalf("phases %v", phases)
	}
	total := 0
	for i, raw := range phases {
		phase := raw.(map[string]any)
		mode := phase["mode"].(string)
		start, end := phase["start_ns"].(float64), phase["end_ns"].(float64)
		var inside []map[string]any
		for _, op := range ops {
			if op["name"] == mode && op["start_ns"].(float64) >= start && op["end_ns"].(float64) <= end {
				inside = append(inside, op)
			}
		}
		waves, _ := phase["waves"].(float64)
		n, ends := checkWaves(t, inside, 2)
		if float64(n) != waves || n < 2 {
			t.Fatalf("phase %d: says %v waves, its operations show %d (a fake burst lasts ms)", i, phase["waves"], n)
		}
		if end-start < 0.15e9 || ends[n-2]-start >= 0.15e9 {
			t.Fatalf("phase %d lasted %.3f s; wave %d started %.3f s in", i, (end-start)/1e9, n-1,
				(ends[n-2]-start)/1e9)
		}
		switch mode {
		case "logging":
			if phase["events"] != float64(n*2*wordRunLogged) {
				t.Fatalf("logging phase %v, want %d events", phase, n*2*wordRunLogged)
			}
		case "otel":
			if phase["spans"] != float64(n*2*wordRunSpans) {
				t.Fatalf("otel phase %v, want %d spans", phase, n*2*wordRunSpans)
			}
		}
		total += len(inside)
	}
	if total != len(ops) {
		t.Fatalf("%d of %d operations lie in a phase", total, len(ops))
	}
}

// runWordAgent runs the word question once with handler attached everywhere.
func runWordAgent(t *testing.T, srvURL string, handler callbacks.Handler) map[string]any {
	t.Helper()
	raw := wordAgentParams(1)
	p := &Params{Question: raw["question"].(string), ReactPrompt: raw["react_prompt"].(string),
		MaxIter: 10, NumPredict: 256, Seed: 42, Tools: map[string]ToolSpec{
			"word": {Name: "WordLengthTool", Description: "w"}, "calc": {Name: "SimpleCalculator", Description: "c"},
			"counter": {Name: "CounterTool", Description: "n"}}}
	llm, err := newLLM(&Endpoints{LLMURL: srvURL, Model: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	llm.CallbacksHandler = handler
	cfg := agentConfig{llm: llm, handler: handler}
	runner := &agentRunner{params: p, llm: llm, opts: chainOptions(p)}
	out := map[string]any{}
	ctx := withRun(context.Background(), &agentRun{id: 7})
	if err := runner.runWith(ctx, p.Question, out, cfg); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLoggingHandlerEvents(t *testing.T) {
	_, srv, _, _ := backends(t)
	var buf bytes.Buffer
	h := &loggingHandler{log: log.New(&buf, "", 0)}
	runWordAgent(t, srv.URL, h)
	var kinds []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		kind, rest, _ := strings.Cut(line, " ")
		if !strings.HasPrefix(rest, "run=7 ") || len(line) > 300 {
			t.Fatalf("log line %q", line)
		}
		kinds = append(kinds, kind)
	}
	want := "chain_start chain_start llm_start llm_end chain_end agent_action tool_start tool_end " +
		"chain_start llm_start llm_end chain_end agent_finish chain_end"
	if strings.Join(kinds, " ") != want || h.events.Load() != wordRunLogged {
		t.Fatalf("events %d: %s", h.events.Load(), strings.Join(kinds, " "))
	}
}

func TestTracingHandlerNesting(t *testing.T) {
	_, srv, _, _ := backends(t)
	exporter := tracetest.NewInMemoryExporter()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	h := &tracingHandler{tracer: provider.Tracer("test")}
	runWordAgent(t, srv.URL, h)
	spans := exporter.GetSpans()
	if len(spans) != wordRunSpans || h.events.Load() != 2*wordRunSpans {
		t.Fatalf("%d spans, %d events", len(spans), h.events.Load())
	}
	byID := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byID[s.SpanContext.SpanID().String()] = s
	}
	parentOf := func(s tracetest.SpanStub) string {
		if !s.Parent.IsValid() {
			return ""
		}
		return byID[s.Parent.SpanID().String()].Name
	}
	// Spans end innermost first; every span belongs to the run's one trace.
	var got []string
	for _, s := range spans {
		got = append(got, s.Name+"<"+parentOf(s))
		if s.SpanContext.TraceID() != spans[len(spans)-1].SpanContext.TraceID() {
			t.Fatal("spans of one run in different traces")
		}
	}
	want := "llm<chain chain<chain tool<chain llm<chain chain<chain chain<"
	if strings.Join(got, " ") != want {
		t.Fatalf("spans %s", strings.Join(got, " "))
	}
	if err := provider.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestObserverModes(t *testing.T) {
	dir := t.TempDir()
	for _, mode := range []string{"bare", "logging", "otel"} {
		obs, err := newObserver(mode, dir)
		if err != nil {
			t.Fatal(err)
		}
		if (obs.handler == nil) != (mode == "bare") {
			t.Fatalf("%s handler %v", mode, obs.handler)
		}
		if err := obs.close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := newObserver("nope", dir); err == nil {
		t.Fatal("an unknown mode accepted")
	}
}
