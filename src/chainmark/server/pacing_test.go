package main

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Pacing and cancellation use fake models with fixed delays, so they test the server's clock
// work whatever synth answers; TestPacingWithProfile checks a real profile end to end.

func TestStreamPacing(t *testing.T) {
	ts := newTestServer(t)
	name := ts.addFake("paced", 1, fakeEngine{tokens: 21}, fakePace{ttft: 200 * time.Millisecond, interval: 25 * time.Millisecond})
	lines, stamps, start := streamLines(t, ts.url+"/api/generate", `{"model": "`+name+`", "prompt": "go"}`)
	if len(lines) != 22 {
		t.Fatalf("%d lines", len(lines))
	}
	first, last := stamps[0], stamps[20]
	if d := first.Sub(start); d < 180*time.Millisecond {
		t.Fatalf("first token after %v, want >= 200ms", d)
	}
	// 20 intervals of 25 ms on an absolute schedule: overshoot does not accumulate.
	if d := last.Sub(first); d < 450*time.Millisecond || d > 900*time.Millisecond {
		t.Fatalf("first to last token %v, want about 500ms", d)
	}
	final := lines[21]
	if ev := final["eval_duration"].(float64); ev < 450e6 {
		t.Fatalf("eval_duration %v", ev)
	}
	if pe := final["prompt_eval_duration"].(float64); pe < 195e6 {
		t.Fatalf("prompt_eval_duration %v", pe)
	}
}

func TestNonStreamedAnswerTakesTheSameTime(t *testing.T) {
	ts := newTestServer(t)
	name := ts.addFake("paced", 1, fakeEngine{tokens: 11}, fakePace{ttft: 50 * time.Millisecond, interval: 20 * time.Millisecond})
	start := time.Now()
	v := ts.post("/api/generate", `{"model": "`+name+`", "prompt": "go", "stream": false}`).json(t)
	if d := time.Since(start); d < 240*time.Millisecond {
		t.Fatalf("answered after %v, want >= 250ms", d)
	}
	if v["eval_duration"].(float64) < 195e6 {
		t.Fatalf("eval_duration %v", v["eval_duration"])
	}
}

// TestPacingWithProfile runs the Python suite's pacing check on a real profile.
func TestPacingWithProfile(t *testing.T) {
	ts := newTestServer(t)
	if ts.models.resolve("synthetic:slow").pace.TokenInterval() == 0 {
		t.Skip("synth's profiles do not pace yet")
	}
	lines, stamps, start := streamLines(t, ts.url+"/api/generate", `{"model": "synthetic:slow", "prompt": "go"}`)
	if len(lines) != 22 {
		t.Fatalf("%d lines, want 21 tokens and the final one", len(lines))
	}
	if d := stamps[0].Sub(start); d < 160*time.Millisecond {
		t.Fatalf("first token after %v", d)
	}
	if d := stamps[20].Sub(stamps[0]); d < 400*time.Millisecond {
		t.Fatalf("tokens spread over %v", d)
	}
}

func TestRequestsQueueOnOneSlot(t *testing.T) {
	ts := newTestServer(t)
	name := ts.addFake("oneslot", 1, fakeEngine{tokens: 5}, fakePace{ttft: 50 * time.Millisecond, interval: 25 * time.Millisecond})
	seq := ts.nextSeq()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if r := ts.post("/api/generate", `{"model": "`+name+`", "prompt": "go", "stream": false}`); r.status != 200 {
				t.Errorf("%d %s", r.status, r.body)
			}
		})
	}
	wg.Wait()
	recs := ts.logSince(seq)
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	q0, q1 := recs[0]["queue_s"].(float64), recs[1]["queue_s"].(float64)
	work := recs[0]["prompt_eval_s"].(float64) + recs[0]["eval_s"].(float64)
	if max(q0, q1) < 0.8*work {
		t.Fatalf("queue times %v %v, one should have waited about %v", q0, q1, work)
	}
}

// A client that gives up on a non-streamed answer frees its slot at once (the Python server
// kept generating for a client that had timed out).
func TestCancelledRequestFreesTheSlot(t *testing.T) {
	ts := newTestServer(t)
	name := ts.addFake("cancel", 1, fakeEngine{tokens: 250}, fakePace{interval: 50 * time.Millisecond})
	seq := ts.nextSeq()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.url+"/api/generate",
		strings.NewReader(`{"model": "`+name+`", "prompt": "go", "stream": false}`))
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		if resp != nil {
			resp.Body.Close()
		}
		t.Fatalf("expected the client to time out, got %v", err)
	}
	start := time.Now()
	v := ts.post("/api/generate", `{"model": "`+name+`", "prompt": "go", "stream": false, "options": {"num_predict": 1}}`).json(t)
	if d := time.Since(start); d > 150*time.Millisecond || v["done"] != true {
		t.Fatalf("next request took %v", d)
	}
	recs := ts.logSince(seq)
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	abandoned, answered := recs[0], recs[1]
	if abandoned["error"] != errClientDisconnected || abandoned["done_reason"] != nil || abandoned["status"] != float64(statusClientClosed) {
		t.Fatalf("abandoned: %v", abandoned)
	}
	if s := abandoned["server_s"].(float64); s > 0.3 {
		t.Fatalf("abandoned request ran %vs", s)
	}
	if answered["error"] != nil || answered["queue_s"].(float64) > 0.1 || answered["done_reason"] != "length" {
		t.Fatalf("answered: %v", answered)
	}
}

func TestAbandonedStreamFreesTheSlot(t *testing.T) {
	ts := newTestServer(t)
	name := ts.addFake("abandon", 1, fakeEngine{tokens: 2000}, fakePace{interval: 10 * time.Millisecond})
	seq := ts.nextSeq()
	resp, err := http.Post(ts.url+"/api/generate", "application/json", strings.NewReader(`{"model": "`+name+`", "prompt": "go"}`))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	for range 2 {
		if !sc.Scan() {
			t.Fatal("stream ended early")
		}
	}
	resp.Body.Close()
	start := time.Now()
	if v := ts.post("/api/generate", `{"model": "`+name+`", "prompt": "go", "stream": false, "options": {"num_predict": 2}}`).json(t); v["done"] != true {
		t.Fatal(v)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("next request took %v", d)
	}
	recs := ts.logSince(seq)
	abandoned := recs[0]
	if abandoned["error"] != errClientDisconnected || abandoned["done_reason"] != nil || abandoned["status"] != float64(200) {
		t.Fatalf("abandoned: %v", abandoned)
	}
	if chars := abandoned["response_chars"].(float64); chars < 5 || chars > 2000 {
		t.Fatalf("response_chars %v", chars)
	}
}

func TestClientGoneWhileQueued(t *testing.T) {
	ts := newTestServer(t)
	name := ts.addFake("queued", 1, fakeEngine{tokens: 4}, fakePace{interval: 100 * time.Millisecond})
	seq := ts.nextSeq()
	done := make(chan struct{})
	go func() {
		defer close(done)
		ts.post("/api/generate", `{"model": "`+name+`", "prompt": "go", "stream": false}`)
	}()
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.url+"/api/chat",
		strings.NewReader(`{"model": "`+name+`", "messages": [{"role": "user", "content": "go"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("queued request was answered")
	}
	<-done
	var gone map[string]any
	for _, r := range ts.logSince(seq) {
		if r["path"] == "/api/chat" {
			gone = r
		}
	}
	if gone == nil || gone["error"] != errClientDisconnected || gone["queue_s"].(float64) < 0.05 {
		t.Fatalf("queued and abandoned: %v", gone)
	}
}
