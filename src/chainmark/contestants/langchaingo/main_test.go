package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// roundTrip writes a request file, runs the binary's entry point on it, and reads the
// result file back as plain JSON, the way the harness does.
func roundTrip(t *testing.T, scenario string, params map[string]any, endpoints map[string]any) (map[string]any, int) {
	t.Helper()
	dir := t.TempDir()
	reqPath, resPath := filepath.Join(dir, "request.json"), filepath.Join(dir, "result.json")
	req := map[string]any{"contract": contractVersion, "scenario": scenario, "params": params,
		"endpoints": endpoints, "timeout_s": 60}
	data, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(reqPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	code := run([]string{"langchaingo", reqPath, resPath}, os.Stdout)
	raw, err := os.ReadFile(resPath)
	if err != nil {
		t.Fatalf("no result file (exit %d): %v", code, err)
	}
	var res map[string]any
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("result is not JSON: %v", err)
	}
	return res, code
}

func endpointsFor(llmURL, chromaURL string) map[string]any {
	e := map[string]any{"llm_url": llmURL, "model": "fake", "chroma_url": nil}
	if chromaURL != "" {
		e["chroma_url"] = chromaURL
	}
	return e
}

// checkResult asserts the contract's fields and returns the operations.
func checkResult(t *testing.T, res map[string]any, scenario string, wantOps int) []map[string]any {
	t.Helper()
	if res["contract"] != float64(contractVersion) || res["contestant"] != "langchaingo" ||
		res["scenario"] != scenario || res["language"] != "go" {
		t.Fatalf("header: %v", res)
	}
	if rt, _ := res["runtime"].(string); !strings.HasPrefix(rt, "go") {
		t.Fatalf("runtime %v", res["runtime"])
	}
	fw, _ := res["frameworks"].(map[string]any)
	if _, ok := fw[langchaingoPath]; !ok {
		t.Fatalf("frameworks %v", fw)
	}
	if res["error"] != nil {
		t.Fatalf("error: %v", res["error"])
	}
	extras, _ := res["extras"].(map[string]any)
	for _, key := range []string{"total_alloc_bytes", "heap_alloc_bytes", "num_gc", "gc_pause_total_ns"} {
		if _, ok := extras[key]; !ok {
			t.Errorf("extras lack %s: %v", key, extras)
		}
	}
	rawOps, _ := res["operations"].([]any)
	if len(rawOps) != wantOps {
		t.Fatalf("%d operations, want %d: %v", len(rawOps), wantOps, rawOps)
	}
	start, _ := res["measure_start_ns"].(float64)
	end, _ := res["measure_end_ns"].(float64)
	ops := make([]map[string]any, len(rawOps))
	for i, raw := range rawOps {
		op := raw.(map[string]any)
		ops[i] = op
		if op["ok"] != true || op["error"] != nil {
			t.Fatalf("operation %d failed: %v", i, op)
		}
		s, e, el := op["start_ns"].(float64), op["end_ns"].(float64), op["elapsed_ns"].(float64)
		if s < start || e > end || e < s || el <= 0 {
			t.Errorf("operation %d times: start %v end %v elapsed %v (measure %v..%v)", i, s, e, el, start, end)
		}
		if _, ok := op["output"].(map[string]any); !ok {
			t.Fatalf("operation %d has no output: %v", i, op)
		}
	}
	return ops
}

func TestBadInvocation(t *testing.T) {
	for _, args := range [][]string{{"only-one"}, {"--scenarios", "extra"},
		{filepath.Join(t.TempDir(), "missing.json"), "x"}} {
		var out bytes.Buffer
		if code := run(append([]string{"langchaingo"}, args...), &out); code != 2 || out.Len() != 0 {
			t.Fatalf("%v: exit %d, stdout %q; want 2 and nothing", args, code, out.String())
		}
	}
}

func TestUnknownScenario(t *testing.T) {
	res, code := roundTrip(t, "stress.unknown", map[string]any{}, endpointsFor("http://127.0.0.1:1", ""))
	if code != 3 {
		t.Fatalf("exit %d, want 3", code)
	}
	if msg, _ := res["error"].(string); !strings.HasPrefix(msg, "not implemented") {
		t.Fatalf("error %q", res["error"])
	}
	if ops, _ := res["operations"].([]any); ops == nil || len(ops) != 0 {
		t.Fatalf("operations %v", res["operations"])
	}
}

// TestScenariosFlag: `--scenarios` prints exactly the dispatch map's names, sorted, as one
// JSON list (what the harness reads), and every listed name is one the program runs.
func TestScenariosFlag(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"langchaingo", "--scenarios"}, &out); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var listed []string
	if err := json.Unmarshal(out.Bytes(), &listed); err != nil {
		t.Fatalf("stdout is not a JSON list of strings: %v: %q", err, out.String())
	}
	if len(listed) != len(scenarios) {
		t.Fatalf("listed %d scenarios, the dispatch map has %d: %v", len(listed), len(scenarios), listed)
	}
	for i, name := range listed {
		if _, ok := scenarios[name]; !ok {
			t.Errorf("listed %q, which the dispatch map lacks", name)
		}
		if i > 0 && listed[i-1] >= name {
			t.Errorf("not sorted or repeated: %q then %q", listed[i-1], name)
		}
	}
	// The harness runs rag.prepare before any retrieval scenario.
	if _, ok := scenarios["rag.prepare"]; !ok {
		t.Error("rag.prepare is not dispatched")
	}
}

func llmParams(iterations int) map[string]any {
	return map[string]any{"prompt": "Why is the sky blue?", "iterations": iterations, "warmup": 1,
		"num_predict": 48, "temperature": 0.0, "seed": 42}
}

func TestLLMLatencyRoundTrip(t *testing.T) {
	ollama, srv, _, _ := backends(t)
	res, code := roundTrip(t, "llm.latency", llmParams(3), endpointsFor(srv.URL, ""))
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	for _, op := range checkResult(t, res, "llm.latency", 3) {
		if op["name"] != "invoke" || op["output"].(map[string]any)["text"] != "the sky is blue because of scattering" {
			t.Fatalf("op %v", op)
		}
	}
	chats, last := ollama.seen()
	if chats != 4 { // 1 warm-up + 3
		t.Fatalf("%d chat calls", chats)
	}
	// The sampling options reach the server, temperature 0 included.
	opts, _ := last["options"].(map[string]any)
	if opts["num_predict"] != float64(48) || opts["seed"] != float64(42) || opts["temperature"] != float64(0) {
		t.Fatalf("options sent: %v", opts)
	}
}

func TestLLMTTFTRoundTrip(t *testing.T) {
	_, srv, _, _ := backends(t)
	res, code := roundTrip(t, "llm.ttft", llmParams(2), endpointsFor(srv.URL, ""))
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	for _, op := range checkResult(t, res, "llm.ttft", 2) {
		out := op["output"].(map[string]any)
		ttft, _ := out["ttft_ns"].(float64)
		// 7 words, then the final, empty chunk.
		if out["text"] != "the sky is blue because of scattering" || out["chunks"] != float64(8) ||
			ttft <= 0 || ttft > op["elapsed_ns"].(float64) {
			t.Fatalf("output %v", out)
		}
	}
}

func TestLLMServerDown(t *testing.T) {
	params := llmParams(2)
	params["warmup"] = 0
	res, code := roundTrip(t, "llm.latency", params, endpointsFor("http://127.0.0.1:1", ""))
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	ops, _ := res["operations"].([]any)
	if len(ops) != 2 {
		t.Fatalf("operations %v", ops)
	}
	for _, raw := range ops {
		op := raw.(map[string]any)
		if op["ok"] != false || op["error"] == nil {
			t.Fatalf("a failed call must be recorded: %v", op)
		}
	}
}

func agentParams(iterations int) map[string]any {
	return map[string]any{
		"question":       "Using the CounterTool, count from 1 to 2.",
		"iterations":     iterations,
		"warmup":         1,
		"react_prompt":   "Tools:\n{tools}\nshould be one of [{tool_names}]\nAction Input / Final Answer\n\nQuestion: {input}\nThought:{agent_scratchpad}",
		"max_iterations": 10,
		"temperature":    0.0,
		"seed":           42,
		"num_predict":    256,
		"tools": map[string]any{
			"word":    map[string]any{"name": "WordLengthTool", "description": "Length of a word."},
			"calc":    map[string]any{"name": "SimpleCalculator", "description": "Arithmetic."},
			"counter": map[string]any{"name": "CounterTool", "description": "Counts."},
		},
	}
}

func TestAgentRoundTrip(t *testing.T) {
	// The fake model answers "Action Input:" with nothing after it: only the opt-in
	// fallback parses that.
	t.Setenv(fallbackEnv, "1")
	ollama, srv, _, _ := backends(t)
	res, code := roundTrip(t, "agent.high_freq", agentParams(2), endpointsFor(srv.URL, ""))
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	for _, op := range checkResult(t, res, "agent.high_freq", 2) {
		out := op["output"].(map[string]any)
		calls, _ := out["tool_calls"].([]any)
		if out["text"] != "I counted to 2." || out["counter"] != float64(2) || len(calls) != 2 ||
			out["parse_fallbacks"] != float64(2) {
			t.Fatalf("output %v", out)
		}
		for i, raw := range calls {
			call := raw.(map[string]any)
			if call["tool"] != "CounterTool" || call["input"] != "" || call["observation"] != []string{"1", "2"}[i] {
				t.Fatalf("call %d: %v", i, call)
			}
		}
	}
	chats, last := ollama.seen()
	if chats != 9 { // (warm-up + 2 runs) x 3 LLM calls
		t.Fatalf("%d chat calls", chats)
	}
	// The prompt is params.react_prompt with the tools rendered as LangChain Python does.
	msgs := last["messages"].([]any)
	prompt := msgs[0].(map[string]any)["content"].(string)
	if !strings.HasPrefix(prompt, "Tools:\nWordLengthTool - Length of a word.\nSimpleCalculator - Arithmetic.\n"+
		"CounterTool - Counts.\nshould be one of [WordLengthTool, SimpleCalculator, CounterTool]\n") {
		t.Fatalf("prompt %q", prompt)
	}
}

func TestAgentStockParser(t *testing.T) {
	// The default: langchaingo's parser as released.
	_, srv, _, _ := backends(t)
	params := agentParams(1)
	params["warmup"] = 0
	res, code := roundTrip(t, "agent.high_freq", params, endpointsFor(srv.URL, ""))
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	op := res["operations"].([]any)[0].(map[string]any)
	if op["ok"] != false || !strings.Contains(op["error"].(string), "unable to parse agent output") {
		t.Fatalf("stock langchaingo parses an empty Action Input? %v", op)
	}
}

func TestRouterRoundTrip(t *testing.T) {
	_, srv, _, _ := backends(t)
	params := map[string]any{
		"router_prompt": `Given the user query, classify it as either "math" or "prose".` + "\nQuery: {input}",
		"math_prompt":   "Evaluate this math expression: {input}",
		"prose_prompt":  "Write a creative piece based on this prompt: {input}",
		"queries":       []string{"What is 15 * 12?", "Write a haiku about a sunset."},
		"iterations":    2, "warmup": 1, "temperature": 0.0, "seed": 42, "num_predict": 64,
	}
	res, code := roundTrip(t, "workflow.router", params, endpointsFor(srv.URL, ""))
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	for i, op := range checkResult(t, res, "workflow.router", 4) {
		out := op["output"].(map[string]any)
		wantRoute := []string{"math", "prose"}[i%2]
		if out["query"] != params["queries"].([]string)[i%2] || out["route"] != wantRoute ||
			out["router_output"] != wantRoute || out["text"] == "" {
			t.Fatalf("op %d output %v", i, out)
		}
	}
}

func TestRouteLabel(t *testing.T) {
	for raw, want := range map[string]string{"math": "math", "  Math.\n": "math", "prose": "prose",
		"mathematics": "math", "It is math": "prose", "": "prose"} {
		if got := routeLabel(raw); got != want {
			t.Errorf("routeLabel(%q) = %q, want %q", raw, got, want)
		}
	}
}
