package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// recordFields are the log's field names, in order: the harness reads them by name.
var recordFields = []string{"seq", "path", "method", "model", "status", "stream", "start_ns",
	"end_ns", "server_s", "queue_s", "load_s", "prompt_eval_s", "eval_s", "prompt_eval_count",
	"prompt_cached_count", "eval_count", "inputs", "response_chars", "done_reason", "error",
	"bytes_out", "upstream", "upstream_durations"}

func TestLogRecordMatchesClient(t *testing.T) {
	ts := newTestServer(t)
	for _, stream := range []bool{false, true} {
		seq := ts.nextSeq()
		t0 := time.Now()
		r := ts.post("/api/generate", fmt.Sprintf(`{"model": "synthetic:slow", "prompt": %q, "stream": %v, "options": {"num_predict": 6}}`, question, stream))
		t1 := time.Now()
		start, end := t0.UnixNano(), t1.UnixNano()
		var text string
		final := map[string]any{}
		if stream {
			for _, l := range r.lines(t) {
				text += l["response"].(string)
				final = l
			}
		} else {
			final = r.json(t)
			text = final["response"].(string)
		}
		recs := ts.logSince(seq)
		if len(recs) != 1 {
			t.Fatalf("%d records", len(recs))
		}
		e := recs[0]
		var keys []string
		raw := ts.do(http.MethodGet, fmt.Sprintf("/chainmark/requests?since=%d", seq), "").body
		dec := json.NewDecoder(strings.NewReader(string(raw)[strings.Index(string(raw), "[")+1:]))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Fatalf("record: %v %v", tok, err)
		}
		for dec.More() {
			k, _ := dec.Token()
			keys = append(keys, k.(string))
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(keys, recordFields) {
			t.Fatalf("fields %v\nwant %v", keys, recordFields)
		}
		if e["path"] != "/api/generate" || e["method"] != "POST" || e["model"] != "synthetic:slow" ||
			e["status"] != float64(200) || e["stream"] != stream || e["error"] != nil || e["upstream"] != false {
			t.Fatalf("record: %v", e)
		}
		startNS, endNS := int64(e["start_ns"].(float64)), int64(e["end_ns"].(float64))
		// No margin for scheduling: the server takes its end time before it writes the last
		// byte (TestLogWindowEndsBeforeTheClientsLastByte), so even a client that stops its
		// clock the instant that byte arrives ends later. Only a step of the wall clock during
		// the request can move start_ns and end_ns against the client's times, by at most the
		// step. float64 drops the last digits of a Unix time in ns, but rounding never reverses
		// an order, so the comparisons hold after it.
		step := float64(wallStepBack(t0, t1))
		if float64(startNS) < float64(start)-step || startNS > endNS || float64(endNS) > float64(end)+step {
			t.Fatalf("stream %v: window [%d, %d] not inside the client's [%d, %d]: start %+d end %+d", stream, startNS, endNS, start, end, startNS-start, endNS-end)
		}
		if math.Abs(e["server_s"].(float64)-float64(endNS-startNS)/1e9) > 1e-5 {
			t.Fatalf("server_s %v", e["server_s"])
		}
		if e["response_chars"] != float64(len([]rune(text))) || e["bytes_out"] != float64(len(r.body)) {
			t.Fatalf("response_chars %v (text %d), bytes_out %v (body %d)", e["response_chars"], len(text), e["bytes_out"], len(r.body))
		}
		if e["eval_count"] != final["eval_count"] || e["eval_count"] != float64(6) ||
			e["prompt_eval_count"] != final["prompt_eval_count"] || e["done_reason"] != final["done_reason"] {
			t.Fatalf("counts: %v vs %v", e, final)
		}
		if e["prompt_eval_s"].(float64) < 0.19 || e["eval_s"].(float64) < 0.1 || e["queue_s"].(float64) < 0 || e["load_s"] != float64(0) {
			t.Fatalf("durations: %v", e)
		}
		if math.Round(e["eval_s"].(float64)*1e9) != final["eval_duration"] {
			t.Fatalf("eval_s %v vs eval_duration %v", e["eval_s"], final["eval_duration"])
		}
		if final["total_duration"].(float64) > e["server_s"].(float64)*1e9 {
			t.Fatalf("total_duration %v > server_s %v", final["total_duration"], e["server_s"])
		}
	}
}

func TestLogPagingResetAndEviction(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.LogCapacity = 5 })
	for range 3 {
		ts.do(http.MethodGet, "/api/version", "")
	}
	ts.do(http.MethodGet, "/chainmark/health", "") // not logged
	page := func(q string) ([]float64, int64) {
		ts.inflight.Wait()
		var p struct {
			Requests []map[string]any `json:"requests"`
			NextSeq  int64            `json:"next_seq"`
		}
		if err := json.Unmarshal(ts.do(http.MethodGet, "/chainmark/requests?"+q, "").body, &p); err != nil {
			t.Fatal(err)
		}
		var seqs []float64
		for _, r := range p.Requests {
			seqs = append(seqs, r["seq"].(float64))
		}
		return seqs, p.NextSeq
	}
	if seqs, next := page("since=0"); !slices.Equal(seqs, []float64{1, 2, 3}) || next != 4 {
		t.Fatalf("all: %v next %d", seqs, next)
	}
	if seqs, next := page("since=2&limit=1"); !slices.Equal(seqs, []float64{2}) || next != 3 {
		t.Fatalf("page: %v next %d", seqs, next)
	}
	if seqs, next := page("since=99"); len(seqs) != 0 || next != 4 {
		t.Fatalf("past the end: %v next %d", seqs, next)
	}
	if seqs, _ := page("limit=0"); len(seqs) != 1 {
		t.Fatalf("limit is at least 1: %v", seqs)
	}
	reset := ts.do(http.MethodPost, "/chainmark/reset", "").json(t)
	if reset["next_seq"] != float64(4) {
		t.Fatalf("reset: %v", reset)
	}
	if seqs, next := page("since=0"); len(seqs) != 0 || next != 4 {
		t.Fatalf("after reset: %v next %d", seqs, next)
	}
	for range 7 {
		ts.do(http.MethodGet, "/", "")
	}
	// Capacity 5: seqs 4..10 were logged, 4 and 5 evicted.
	if seqs, next := page("since=0"); !slices.Equal(seqs, []float64{6, 7, 8, 9, 10}) || next != 11 {
		t.Fatalf("after eviction: %v next %d", seqs, next)
	}
	if seqs, _ := page("since=8&limit=2"); !slices.Equal(seqs, []float64{8, 9}) {
		t.Fatalf("wrapped page: %v", seqs)
	}
	health := ts.do(http.MethodGet, "/chainmark/health", "").json(t)
	if lg := health["log"].(map[string]any); lg["entries"] != float64(5) || lg["next_seq"] != float64(11) {
		t.Fatalf("health log: %v", lg)
	}
	for _, q := range []string{"since=x", "limit=1.5"} {
		if r := ts.do(http.MethodGet, "/chainmark/requests?"+q, ""); r.status != 400 {
			t.Fatalf("%s: %d", q, r.status)
		}
	}
}

func TestHealth(t *testing.T) {
	ts := newTestServer(t)
	v := ts.do(http.MethodGet, "/chainmark/health", "").json(t)
	if v["status"] != "ok" || v["upstream"] != nil || len(v["models"].([]any)) != 6 {
		t.Fatalf("health: %v", v)
	}
	if v["aliases"].(map[string]any)["synthetic"] != "synthetic:zero" {
		t.Fatalf("aliases: %v", v["aliases"])
	}
	slow := v["profiles"].(map[string]any)["slow"].(map[string]any)
	if slow["tokens_per_s"] != float64(40) || slow["provenance"].(map[string]any)["cpu_count"] != float64(2) {
		t.Fatalf("profiles: %v", v["profiles"])
	}
}

func TestRequestLogRing(t *testing.T) {
	l := newRequestLog(3)
	for i := range 10 {
		l.append(&record{path: fmt.Sprint(i)})
	}
	got, next := l.since(0, 10, nil)
	if len(got) != 3 || got[0].seq != 8 || got[2].seq != 10 || next != 11 || got[0].path != "7" {
		t.Fatalf("%v %d", got, next)
	}
	if allocs := testing.AllocsPerRun(1000, func() { l.append(&record{path: "/x"}) }); allocs != 0 {
		t.Fatalf("append allocates %v times", allocs)
	}
	if s := clip(strings.Repeat("é", 200), 9); s != "éééé…" {
		t.Fatalf("clip: %q", s)
	}
}
