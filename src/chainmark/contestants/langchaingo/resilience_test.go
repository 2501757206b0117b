package main

import (
	"strings"
	"testing"
)

func TestTimeoutRoundTrip(t *testing.T) {
	ollama, srv, _, _ := backends(t)
	ep := endpointsFor(srv.URL, "")
	ep["model"] = fakeSlowModel
	params := map[string]any{"prompt": "Tell me a long story.", "client_timeout_s": 0.2,
		"iterations": 2, "temperature": 0.0, "seed": 42, "num_predict": 600}
	res, code := roundTrip(t, "resilience.timeout", params, ep)
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	ops := checkResult(t, res, "resilience.timeout", 4)
	for i, op := range ops {
		out := op["output"].(map[string]any)
		if i%2 == 1 {
			if op["name"] != "health" || strings.TrimSpace(out["text"].(string)) == "" {
				t.Fatalf("health op %v", op)
			}
			continue
		}
		elapsed := op["elapsed_ns"].(float64) / 1e9
		if op["name"] != "timeout" || out["outcome"] != "error" || out["error_kind"] != "timeout" ||
			elapsed < 0.2 || elapsed >= 0.5 {
			t.Fatalf("timeout op %v", op)
		}
		// What langchaingo v0.1.14 itself returned: no error, an empty reply.
		if v, ok := out["langchaingo_error"]; !ok || v != nil || out["returned_chars"] != float64(0) {
			t.Errorf("langchaingo's own return changed: %v", out)
		}
	}
	// The health call asks for one token.
	_, last := ollama.seen()
	if opts, _ := last["options"].(map[string]any); opts["num_predict"] != float64(1) {
		t.Fatalf("health call options %v", last["options"])
	}
}

func TestToolFailureRoundTrip(t *testing.T) {
	_, srv, _, _ := backends(t)
	params := wordAgentParams(2)
	params["failing_tool"], params["failure_message"] = "word", "simulated tool failure"
	res, code := roundTrip(t, "resilience.tool_failure", params, endpointsFor(srv.URL, ""))
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	for _, op := range checkResult(t, res, "resilience.tool_failure", 2) {
		out := op["output"].(map[string]any)
		// langchaingo's executor returns the tool's error from Call: the run ends with it.
		if op["name"] != "agent" || out["outcome"] != "surfaced" || out["error"] != "simulated tool failure" ||
			out["error_kind"] != "*errors.errorString" || out["tool_error"] != true {
			t.Fatalf("op %v", op)
		}
	}
	// Another tool failing is never called by this question: the run recovers (finishes).
	params["failing_tool"] = "calc"
	res, code = roundTrip(t, "resilience.tool_failure", params, endpointsFor(srv.URL, ""))
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	for _, op := range checkResult(t, res, "resilience.tool_failure", 2) {
		out := op["output"].(map[string]any)
		if out["outcome"] != "recovered" {
			t.Fatalf("op %v", op)
		}
		checkWordAgent(t, out)
	}
	params["failing_tool"] = "nope"
	if res, code = roundTrip(t, "resilience.tool_failure", params, endpointsFor(srv.URL, "")); code != 1 ||
		!strings.Contains(res["error"].(string), `no "nope" tool`) {
		t.Fatalf("an unknown tool kind: exit %d, %v", code, res["error"])
	}
}

func TestParseErrorRoundTrip(t *testing.T) {
	ollama, srv, _, _ := backends(t)
	ep := endpointsFor(srv.URL, "")
	ep["model"] = fakeMalformedModel
	params := wordAgentParams(2)
	params["handle_parsing_errors"] = true
	res, code := roundTrip(t, "resilience.parse_error", params, ep)
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	for _, op := range checkResult(t, res, "resilience.parse_error", 2) {
		out := op["output"].(map[string]any)
		if out["outcome"] != "recovered" || out["parse_errors"] != float64(1) {
			t.Fatalf("op %v", op)
		}
		checkWordAgent(t, out)
	}
	// The model was told what was wrong, in LangChain Python's words.
	_, last := ollama.seen()
	prompt := last["messages"].([]any)[0].(map[string]any)["content"].(string)
	if !strings.Contains(prompt, "Observation: Invalid Format: Missing 'Action Input:' after 'Action:'") {
		t.Fatalf("last prompt %q", prompt)
	}

	// Without the handler langchaingo stops at the first unparsable reply.
	params["handle_parsing_errors"] = false
	res, code = roundTrip(t, "resilience.parse_error", params, ep)
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	for _, op := range checkResult(t, res, "resilience.parse_error", 2) {
		out := op["output"].(map[string]any)
		if out["outcome"] != "error" || out["parse_error"] != true ||
			!strings.Contains(out["error"].(string), "unable to parse agent output") {
			t.Fatalf("op %v", op)
		}
	}
}

func TestParseComplaint(t *testing.T) {
	for in, want := range map[string]string{
		"unable to parse agent output: I should use a tool.\nAction: WordLengthTool": "Invalid Format: Missing 'Action Input:' after 'Action:'",
		"unable to parse agent output: I am thinking.":                               "Invalid Format: Missing 'Action:' after 'Thought:'",
	} {
		if got := parseComplaint(in); got != want {
			t.Errorf("parseComplaint(%q) = %q", in, got)
		}
	}
}
