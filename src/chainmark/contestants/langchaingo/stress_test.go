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
		"timeout_s": 30.0, "temperature": 0.0, "seed": 42, "num_predict": 64,
		"min_duration_s": 0.0, "max_waves": 1000})
	res, code := roundTrip(t, "stress.concurrent_rag", params, ep)
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	ops := checkResult(t, res, "stress.concurrent_rag", 7)
	asked := map[any]int{}
	for _, op := range ops {
		out := op["output"].(map[string]any)
		// No minimum duration: one wave, the burst alone.
		if op["name"] != "qa" || out["documents"] != float64(2) || out["wave"] != float64(0) ||
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
	params["min_duration_s"], params["max_waves"] = 0.0, 1000
	res, code := roundTrip(t, "stress.concurrent_agent", params, endpointsFor(srv.URL, ""))
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	ops := checkResult(t, res, "stress.concurrent_agent", 6)
	for _, op := range ops {
		if op["name"] != "agent" || op["output"].(map[string]any)["wave"] != float64(0) {
			t.Fatalf("op %v", op)
		}
		checkWordAgent(t, op["output"].(map[string]any))
	}
}

// checkWaves checks that ops are n whole waves of size operations, numbered 0..n-1 in
// output.wave, each one's operations starting after the previous wave ended, and returns n
// and the end of each wave.
func checkWaves(t *testing.T, ops []map[string]any, size int) (int, []float64) {
	t.Helper()
	byWave := map[int][]map[string]any{}
	for _, op := range ops {
		w, ok := op["output"].(map[string]any)["wave"].(float64)
		if !ok {
			t.Fatalf("operation without a wave: %v", op)
		}
		byWave[int(w)] = append(byWave[int(w)], op)
	}
	n := len(byWave)
	if n == 0 || len(ops) != n*size {
		t.Fatalf("%d operations in %d waves of %d", len(ops), n, size)
	}
	ends := make([]float64, n)
	for w := range n {
		members := byWave[w]
		if len(members) != size {
			t.Fatalf("wave %d: %d operations, want %d", w, len(members), size)
		}
		for _, op := range members {
			ends[w] = max(ends[w], op["end_ns"].(float64))
			if w > 0 && op["start_ns"].(float64) < ends[w-1] {
				t.Fatalf("wave %d began before wave %d ended", w, w-1)
			}
		}
	}
	return n, ends
}

// The burst repeats until the timed region has lasted min_duration_s, and no wave starts
// after that.
func TestConcurrentAgentWavesLastTheMinimum(t *testing.T) {
	_, srv, _, _ := backends(t)
	params := wordAgentParams(1)
	params["concurrency"], params["timeout_s"] = 3, 30.0
	params["min_duration_s"], params["max_waves"] = 0.25, 1000
	res, code := roundTrip(t, "stress.concurrent_agent", params, endpointsFor(srv.URL, ""))
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	rawOps, _ := res["operations"].([]any)
	ops := checkResult(t, res, "stress.concurrent_agent", len(rawOps))
	n, ends := checkWaves(t, ops, 3)
	start, end := res["measure_start_ns"].(float64), res["measure_end_ns"].(float64)
	if end-start < 0.25e9 {
		t.Fatalf("timed region %.3f s, less than min_duration_s", (end-start)/1e9)
	}
	if n < 2 {
		t.Fatalf("%d wave(s): a fake agent burst lasts milliseconds, so it must repeat", n)
	}
	if ends[n-2]-start >= 0.25e9 {
		t.Fatalf("wave %d started %.3f s in, after the minimum had passed", n-1, (ends[n-2]-start)/1e9)
	}
	for _, op := range ops {
		checkWordAgent(t, op["output"].(map[string]any))
	}
}

// max_waves caps the repetition, whatever the minimum duration.
func TestConcurrentRAGMaxWaves(t *testing.T) {
	ollama, llm, _, chromaSrv := backends(t)
	ep := endpointsFor(llm.URL, chromaSrv.URL)
	corpus := testCorpus(t)
	if res, code := roundTrip(t, "rag.prepare", ragParams(corpus, nil), ep); code != 0 {
		t.Fatalf("rag.prepare exit %d: %v", code, res["error"])
	}
	before, _ := ollama.seen()
	params := ragParams(corpus, map[string]any{"concurrency": 4, "queries": []string{"q?"},
		"k": 2, "timeout_s": 30.0, "temperature": 0.0, "seed": 42, "num_predict": 64,
		"min_duration_s": 3600.0, "max_waves": 3})
	t0 := time.Now()
	res, code := roundTrip(t, "stress.concurrent_rag", params, ep)
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res["error"])
	}
	if time.Since(t0) > 10*time.Second {
		t.Fatalf("took %v: max_waves did not stop the waves", time.Since(t0))
	}
	ops := checkResult(t, res, "stress.concurrent_rag", 12)
	if n, _ := checkWaves(t, ops, 4); n != 3 {
		t.Fatalf("%d waves, want max_waves 3", n)
	}
	if after, _ := ollama.seen(); after-before != 12 {
		t.Fatalf("%d chat calls, want 12", after-before)
	}
}

func TestInWaves(t *testing.T) {
	ctx := context.Background()
	// No minimum: exactly one wave.
	if n := inWaves(ctx, time.Now(), 0, 1000, func(int) {}); n != 1 {
		t.Fatalf("%d waves with no minimum, want 1", n)
	}
	// Waves of 10 ms until 55 ms have passed: several, numbered in order; none starts after.
	var seen []int
	var started []time.Duration
	t0 := time.Now()
	n := inWaves(ctx, t0, 55*time.Millisecond, 1000, func(w int) {
		seen = append(seen, w)
		started = append(started, time.Since(t0))
		time.Sleep(10 * time.Millisecond)
	})
	if n != len(seen) || n < 2 || time.Since(t0) < 55*time.Millisecond {
		t.Fatalf("%d waves (%v) in %v", n, seen, time.Since(t0))
	}
	for i, w := range seen {
		if w != i {
			t.Fatalf("waves numbered %v", seen)
		}
	}
	if started[n-1] >= 55*time.Millisecond {
		t.Fatalf("the last wave started at %v, after the minimum", started[n-1])
	}
	// The time counts from the origin given, not from the call: an origin 55 ms ago leaves
	// no time for a second wave.
	if n := inWaves(ctx, time.Now().Add(-55*time.Millisecond), 55*time.Millisecond, 1000, func(int) {}); n != 1 {
		t.Fatalf("%d waves after the minimum had passed", n)
	}
	// The cap wins over the minimum.
	if n := inWaves(ctx, time.Now(), time.Hour, 4, func(int) {}); n != 4 {
		t.Fatalf("%d waves with max_waves 4", n)
	}
	// A run whose context has ended starts no more waves (but always runs one).
	done, cancel := context.WithCancel(ctx)
	cancel()
	if n := inWaves(done, time.Now(), time.Hour, 1000, func(int) {}); n != 1 {
		t.Fatalf("%d waves after the run's context ended", n)
	}
}

func TestInstantOf(t *testing.T) {
	now := time.Now()
	at := instantOf(now.UnixNano())
	if d := at.Sub(now); d < -time.Millisecond || d > time.Millisecond {
		t.Fatalf("instantOf is %v off", d)
	}
	if since := time.Since(instantOf(now.Add(-time.Second).UnixNano())); since < time.Second {
		t.Fatalf("a stamp a second old is %v ago", since)
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

func TestWaveParamsChecked(t *testing.T) {
	for _, c := range []struct {
		scenario string
		set      map[string]any
		want     string
	}{
		{"stress.concurrent_agent", map[string]any{"min_duration_s": 1.0, "max_waves": 0}, "params.max_waves"},
		{"stress.concurrent_agent", map[string]any{"min_duration_s": -1.0, "max_waves": 10}, "params.min_duration_s"},
		{"stress.concurrent_rag", map[string]any{"min_duration_s": 1.0}, "params.max_waves"},
		{"ops.observability", map[string]any{"min_phase_s": -0.5, "max_waves": 10}, "params.min_phase_s"},
	} {
		params := wordAgentParams(1)
		params["concurrency"], params["timeout_s"], params["queries"] = 2, 30.0, []string{"q?"}
		params["rounds"], params["modes"] = 1, []string{"bare"}
		for k, v := range c.set {
			params[k] = v
		}
		res, code := roundTrip(t, c.scenario, params, endpointsFor("http://127.0.0.1:1", ""))
		msg, _ := res["error"].(string)
		if code != 1 || !strings.Contains(msg, c.want) {
			t.Errorf("%s %v: exit %d, error %q", c.scenario, c.set, code, msg)
		}
	}
}
