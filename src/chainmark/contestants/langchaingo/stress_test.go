package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// wordAgentParams is agentParams asking agent.single's kind of question, which the fake
// answers with one WordLengthTool call that langchaingo's stock parser reads.
func wordAgentParams(iterations int) map[string]any {
	p := agentParams(iterations)
	p["question"] = "What is the character length of the word 'phenomenon'?"
	p["warmup"] = 0
	return p
}

// checkWordAgent checks one run of the word question against the fake.
func checkWordAgent(t *testing.T, out map[string]any) {
	t.Helper()
	calls, _ := out["tool_calls"].([]any)
	if out["text"] != "The word has 10 characters." || len(calls) != 1 || out["counter"] != float64(0) {
		t.Fatalf("output %v", out)
	}
	call := calls[0].(map[string]any)
	if call["tool"] != "WordLengthTool" || call["input"] != "phenomenon" || call["observation"] != "10" {
		t.Fatalf("call %v", call)
	}
}

// overlapped reports whether every operation started before any of them ended: they ran at
// once, not one after another.
func overlapped(ops []map[string]any) bool {
	firstEnd := ops[0]["end_ns"].(float64)
	for _, op := range ops {
		firstEnd = min(firstEnd, op["end_ns"].(float64))
	}
	for _, op := range ops {
		if op["start_ns"].(float64) > firstEnd {
			return false
		}
	}
	return true
}

func TestConcurrentRAGRoundTrip(t *testing.T) {
	ollama, llm, _, chromaSrv := backends(t)
	ep := endpointsFor(llm.URL, chromaSrv.URL)
	corpus := testCorpus(t)
	if res, code := roundTrip(t, "rag.prepare", ragParams(corpus, nil), ep); code != 0 {
		t.Fatalf("rag.prepare exit %d: %v", code, res["error"])
	}
	before, _ := ollama.seen()
	queries := []string{"first?", "second?", "third?"}
	params := ragParams(corpus, map[string]any{"concurrency": 7, "queries": queries, "k": 2,
		"timeout_s": 30.0, "temperature": 0.0, "seed": 42, "num_predict": 64})
	res, code := roundTrip(t, "stress.concurrent_rag", params, ep)
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	ops := checkResult(t, res, "stress.concurrent_rag", 7)
	asked := map[any]int{}
	for _, op := range ops {
		out := op["output"].(map[string]any)
		if op["name"] != "qa" || out["documents"] != float64(2) ||
			out["text"] != "the sky is blue because of scattering" {
			t.Fatalf("op %v", op)
		}
		asked[out["query"]]++
	}
	// The queries are cycled over: 7 operations over 3 queries.
	if asked["first?"] != 3 || asked["second?"] != 2 || asked["third?"] != 2 {
		t.Fatalf("queries asked %v", asked)
	}
	if after, _ := ollama.seen(); after-before != 7 {
		t.Fatalf("%d chat calls, want 7", after-before)
	}
}

func TestConcurrentAgentRoundTrip(t *testing.T) {
	_, srv, _, _ := backends(t)
	params := wordAgentParams(1)
	params["concurrency"], params["timeout_s"] = 6, 30.0
	res, code := roundTrip(t, "stress.concurrent_agent", params, endpointsFor(srv.URL, ""))
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	ops := checkResult(t, res, "stress.concurrent_agent", 6)
	for _, op := range ops {
		if op["name"] != "agent" {
			t.Fatalf("op %v", op)
		}
		checkWordAgent(t, op["output"].(map[string]any))
	}
}

func TestSaturationRoundTrip(t *testing.T) {
	ollama, srv, _, _ := backends(t)
	params := llmParams(0)
	params["concurrency"], params["duration_s"], params["timeout_s"] = 3, 0.3, 30.0
	res, code := roundTrip(t, "stress.saturation", params, endpointsFor(srv.URL, ""))
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	rawOps, _ := res["operations"].([]any)
	if len(rawOps) <= 3 {
		t.Fatalf("%d operations in 0.3 s from 3 workers", len(rawOps))
	}
	ops := checkResult(t, res, "stress.saturation", len(rawOps))
	for _, op := range ops {
		if op["name"] != "generate" || op["output"].(map[string]any)["text"] != "the sky is blue because of scattering" {
			t.Fatalf("op %v", op)
		}
	}
	// Every operation started before the deadline (a call under way then finishes).
	deadline := res["measure_start_ns"].(float64) + 0.3e9
	for _, op := range ops {
		if op["start_ns"].(float64) > deadline+5e6 {
			t.Fatalf("an operation started after duration_s: %v", op)
		}
	}
	if chats, _ := ollama.seen(); chats != len(ops) {
		t.Fatalf("%d chat calls for %d operations", chats, len(ops))
	}
}

// A request past its deadline fails as a timeout, although langchaingo's Ollama client
// returns no error for it (it drops the stream's read error).
func TestConcurrentTimeouts(t *testing.T) {
	_, srv, _, _ := backends(t)
	ep := endpointsFor(srv.URL, "")
	ep["model"] = fakeSlowModel
	params := llmParams(0)
	params["concurrency"], params["duration_s"], params["timeout_s"] = 4, 0.05, 0.2
	t0 := time.Now()
	res, code := roundTrip(t, "stress.saturation", params, ep)
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	if time.Since(t0) > 3*time.Second {
		t.Fatalf("took %v: the deadline did not stop the calls", time.Since(t0))
	}
	ops, _ := res["operations"].([]any)
	if len(ops) != 4 || !overlapped(asMaps(ops)) {
		t.Fatalf("operations %v", ops)
	}
	for _, raw := range ops {
		op := raw.(map[string]any)
		out := op["output"].(map[string]any)
		elapsed := op["elapsed_ns"].(float64) / 1e9
		if op["ok"] != false || out["error_kind"] != "timeout" || elapsed < 0.2 || elapsed > 1 ||
			!strings.Contains(op["error"].(string), "context deadline exceeded") {
			t.Fatalf("op %v", op)
		}
		// langchaingo v0.1.14 returned nil; the day it returns the error, this says so.
		if v, ok := out["langchaingo_error"]; !ok || v != nil {
			t.Errorf("langchaingo now reports the deadline itself? %v", out)
		}
	}
}

func asMaps(raw []any) []map[string]any {
	out := make([]map[string]any, len(raw))
	for i, r := range raw {
		out[i] = r.(map[string]any)
	}
	return out
}

func TestErrorKind(t *testing.T) {
	ctx := context.Background()
	expired, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	<-expired.Done()
	_, dialErr := http.Get("http://127.0.0.1:1/") // refused
	if dialErr == nil {
		t.Skip("something listens on port 1")
	}
	for _, c := range []struct {
		ctx  context.Context
		err  error
		want string
	}{
		{ctx, context.DeadlineExceeded, "timeout"},
		{ctx, fmt.Errorf("call: %w", context.DeadlineExceeded), "timeout"},
		{expired, errors.New("unable to parse agent output: "), "timeout"},
		{ctx, dialErr, "connection"},
		{ctx, errors.New("simulated tool failure"), "*errors.errorString"},
		{ctx, fmt.Errorf("wrapped: %w", errors.New("inner")), "*errors.errorString"},
	} {
		if got := errorKind(c.ctx, c.err); got != c.want {
			t.Errorf("errorKind(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestDeadlineCheck(t *testing.T) {
	if err := deadlineCheck(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	other := errors.New("other")
	expired, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-expired.Done()
	if err := deadlineCheck(expired, other); err != other {
		t.Fatalf("an error of the call's own is kept: %v", err)
	}
	err := deadlineCheck(expired, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, errSwallowedDeadline) {
		t.Fatalf("a nil return past the deadline: %v", err)
	}
}

func TestTruncate(t *testing.T) {
	if truncate("héllo", 2) != "hé" || truncate("abc", 5) != "abc" {
		t.Fatal("truncate")
	}
}

func TestStressBadParams(t *testing.T) {
	for _, scenario := range []string{"stress.concurrent_rag", "stress.concurrent_agent", "stress.saturation"} {
		res, code := roundTrip(t, scenario, map[string]any{"concurrency": 0}, endpointsFor("http://127.0.0.1:1", ""))
		if code != 1 || res["error"] == nil {
			t.Errorf("%s: exit %d, error %v", scenario, code, res["error"])
		}
	}
}
