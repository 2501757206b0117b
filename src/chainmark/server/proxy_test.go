package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeUpstream speaks just enough Ollama and OpenAI to be proxied.
type fakeUpstream struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	bodies   [][]byte
	// released lets the streamed chat go on after its first line, so a test can prove that the
	// first line reached the client before the upstream sent the rest.
	released  chan struct{}
	cancelled chan struct{}
}

const (
	upstreamChat = `{"model":"smollm2:135m","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"Hé"},"done":false}
{"model":"smollm2:135m","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":" wörld 😀"},"done":false}
{"model":"smollm2:135m","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"length","total_duration":900,"load_duration":100,"prompt_eval_count":31,"prompt_eval_duration":300,"eval_count":2,"eval_duration":400}
`
	upstreamGenerate = `{"model":"smollm2:135m","created_at":"2026-01-01T00:00:00Z","response":"Blue.","done":true,"done_reason":"stop","context":[1,2],"total_duration":5000,"load_duration":0,"prompt_eval_count":7,"prompt_eval_duration":2000,"eval_count":3,"eval_duration":2500}`
	upstreamSSE      = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n" +
		"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"},\"finish_reason\":null}]}\n\n" +
		"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
		"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}\n\n" +
		"data: [DONE]\n\n"
)

func newFakeUpstream(t *testing.T) *fakeUpstream {
	u := &fakeUpstream{released: make(chan struct{}), cancelled: make(chan struct{}, 1)}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.Close)
	return u
}

func (u *fakeUpstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.requests = append(u.requests, r)
	u.bodies = append(u.bodies, body)
	u.mu.Unlock()
	flusher := w.(http.Flusher)
	switch {
	case strings.Contains(string(body), "no role"):
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(404)
		_, _ = fmt.Fprintf(w, `{"error":"model 'x' not found on %s"}`, r.URL.Path)
	case r.URL.Path == "/api/chat" && strings.Contains(string(body), "hang"):
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(200)
		flusher.Flush()
		<-r.Context().Done()
		u.cancelled <- struct{}{}
	case r.URL.Path == "/api/chat":
		w.Header().Set("Content-Type", "application/x-ndjson")
		lines := strings.SplitAfter(upstreamChat, "\n")
		_, _ = io.WriteString(w, lines[0])
		flusher.Flush()
		select {
		case <-u.released:
		case <-time.After(5 * time.Second):
		}
		for _, l := range lines[1:] {
			_, _ = io.WriteString(w, l)
			flusher.Flush()
		}
	case r.URL.Path == "/api/generate":
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = io.WriteString(w, upstreamGenerate)
	case r.URL.Path == "/v1/chat/completions":
		w.Header().Set("Content-Type", "text/event-stream")
		for block := range strings.SplitAfterSeq(upstreamSSE, "\n\n") {
			_, _ = io.WriteString(w, block)
			flusher.Flush()
		}
	case r.URL.Path == "/api/tags":
		_, _ = io.WriteString(w, `{"models":[{"name":"smollm2:135m","model":"smollm2:135m","size":1}]}`)
	case r.URL.Path == "/api/ps":
		_, _ = io.WriteString(w, `{"models":[{"name":"smollm2:135m","model":"smollm2:135m"}]}`)
	case r.URL.Path == "/v1/models":
		_, _ = io.WriteString(w, `{"object":"list","data":[{"id":"smollm2:135m","object":"model","created":1,"owned_by":"library"}]}`)
	case r.URL.Path == "/api/version":
		_, _ = io.WriteString(w, `{"version":"0.13.5"}`)
	default:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(404)
		_, _ = fmt.Fprintf(w, `{"error":"model 'x' not found on %s"}`, r.URL.Path)
	}
}

func (u *fakeUpstream) last() (*http.Request, []byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.requests[len(u.requests)-1], u.bodies[len(u.bodies)-1]
}

func withUpstream(raw string) func(*Config) {
	return func(c *Config) {
		u, err := url.Parse(raw)
		if err != nil {
			panic(err)
		}
		c.Upstream = u
	}
}

func TestProxyStreamsNDJSONUnchanged(t *testing.T) {
	up := newFakeUpstream(t)
	ts := newTestServer(t, withUpstream(up.URL))
	seq := ts.nextSeq()
	body := `{"model": "smollm2:135m", "messages": [{"role": "user", "content": "hi"}], "options": {"num_predict": 2}}`
	req, err := http.NewRequest(http.MethodPost, ts.url+"/api/chat?x=1", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Test", "kept")
	req.Header.Set("Connection", "keep-alive, X-Hop")
	req.Header.Set("X-Hop", "dropped")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	first, err := rd.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	// The upstream is still holding back the rest: the first line was flushed through.
	close(up.released)
	rest, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	if got := first + string(rest); got != upstreamChat {
		t.Fatalf("body changed:\n%s\nwant\n%s", got, upstreamChat)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Fatalf("content type %q", ct)
	}
	fwd, fwdBody := up.last()
	if string(fwdBody) != body || fwd.URL.RawQuery != "x=1" || fwd.Header.Get("X-Test") != "kept" || fwd.Header.Get("X-Hop") != "" {
		t.Fatalf("forwarded %s %q %v: %s", fwd.URL, fwd.URL.RawQuery, fwd.Header, fwdBody)
	}
	resp.Body.Close()
	recs := ts.logSince(seq)
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	e := recs[0]
	want := map[string]any{"upstream": true, "model": "smollm2:135m", "status": float64(200), "stream": true,
		"response_chars": float64(len([]rune("Hé wörld 😀"))), "done_reason": "length", "eval_count": float64(2),
		"prompt_eval_count": float64(31), "bytes_out": float64(len(upstreamChat)), "error": nil,
		"eval_s": 400e-9, "prompt_eval_s": 300e-9, "load_s": 100e-9, "queue_s": nil}
	for k, v := range want {
		if e[k] != v {
			t.Errorf("%s: %v, want %v", k, e[k], v)
		}
	}
	d := e["upstream_durations"].(map[string]any)
	if d["total_duration"] != float64(900) || d["eval_duration"] != float64(400) {
		t.Errorf("upstream_durations %v", d)
	}
}

func TestProxyJSONAndSSE(t *testing.T) {
	up := newFakeUpstream(t)
	ts := newTestServer(t, withUpstream(up.URL+"/"))
	r := ts.post("/api/generate", `{"model": "smollm2:135m", "prompt": "why?", "stream": false}`)
	if string(r.body) != upstreamGenerate {
		t.Fatalf("generate body changed: %s", r.body)
	}
	e := ts.lastRecord()
	if e["response_chars"] != float64(5) || e["stream"] != false || e["eval_count"] != float64(3) || e["done_reason"] != "stop" {
		t.Fatalf("generate record: %v", e)
	}
	r = ts.post("/v1/chat/completions", `{"model": "gpt-x", "stream": true, "messages": [{"role": "user", "content": "hi"}]}`)
	if string(r.body) != upstreamSSE {
		t.Fatalf("SSE body changed: %s", r.body)
	}
	e = ts.lastRecord()
	if e["response_chars"] != float64(8) || e["stream"] != true || e["eval_count"] != float64(2) ||
		e["prompt_eval_count"] != float64(9) || e["done_reason"] != "stop" || e["upstream_durations"] != nil {
		t.Fatalf("SSE record: %v", e)
	}
	// A synthetic model is still served here, not upstream.
	if v := ts.post("/api/generate", `{"model": "synthetic", "prompt": "x", "stream": false}`).json(t); v["model"] != "synthetic" {
		t.Fatal(v)
	}
	if e := ts.lastRecord(); e["upstream"] != false {
		t.Fatalf("synthetic request marked upstream: %v", e)
	}
}

func TestProxyNonModelEndpointsAndErrors(t *testing.T) {
	up := newFakeUpstream(t)
	ts := newTestServer(t, withUpstream(up.URL))
	var names []string
	for _, m := range ts.do(http.MethodGet, "/api/tags", "").json(t)["models"].([]any) {
		names = append(names, m.(map[string]any)["name"].(string))
	}
	if len(names) != 7 || names[6] != "smollm2:135m" || names[0] != "synthetic:zero" {
		t.Fatalf("merged tags: %v", names)
	}
	if ps := ts.do(http.MethodGet, "/api/ps", "").json(t)["models"].([]any); len(ps) != 1 {
		t.Fatalf("merged ps: %v", ps)
	}
	if data := ts.do(http.MethodGet, "/v1/models", "").json(t)["data"].([]any); len(data) != 7 {
		t.Fatalf("merged models: %v", data)
	}
	if v := ts.do(http.MethodGet, "/api/version", "").json(t); v["version"] != "0.13.5" {
		t.Fatalf("version not forwarded: %v", v)
	}
	// Unknown models and endpoints: the upstream's answer, as it is.
	for _, c := range []struct{ method, path, body string }{
		{http.MethodPost, "/api/show", `{"model": "llama9:70b"}`},
		{http.MethodPost, "/api/create", `{"model": "mine"}`},
		{http.MethodGet, "/v1/models/llama9", ``},
		{http.MethodPost, "/api/embed", `{"model": "llama9", "input": "x"}`},
		// Not valid for this server, but the model is the upstream's: its rules apply.
		{http.MethodPost, "/api/chat", `{"model": "llama9", "messages": [{"content": "no role"}]}`},
	} {
		r := ts.do(c.method, c.path, c.body)
		want := fmt.Sprintf(`{"error":"model 'x' not found on %s"}`, c.path)
		if r.status != 404 || string(r.body) != want {
			t.Errorf("%s %s: %d %s", c.method, c.path, r.status, r.body)
		}
		if e := ts.lastRecord(); e["upstream"] != true || e["status"] != float64(404) || e["error"] == nil {
			t.Errorf("%s record: %v", c.path, e)
		}
	}
	if _, body := up.last(); string(body) != `{"model": "llama9", "messages": [{"content": "no role"}]}` {
		t.Fatalf("forwarded body %s", body)
	}
}

func TestProxyClientDisconnect(t *testing.T) {
	up := newFakeUpstream(t)
	ts := newTestServer(t, withUpstream(up.URL))
	seq := ts.nextSeq()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.url+"/api/chat", strings.NewReader(`{"model": "real", "messages": [{"role": "user", "content": "hang"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	select {
	case <-up.cancelled:
	case <-time.After(2 * time.Second):
		t.Fatal("the upstream request was not cancelled")
	}
	if e := ts.logSince(seq)[0]; e["error"] != errClientDisconnected || e["upstream"] != true {
		t.Fatalf("record: %v", e)
	}
}

func TestProxyUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	ts := newTestServer(t, withUpstream(dead))
	r := ts.post("/api/generate", `{"model": "smollm2:135m", "prompt": "x"}`)
	if r.status != 502 || !strings.Contains(r.json(t)["error"].(string), "unreachable") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = ts.post("/v1/chat/completions", `{"model": "gpt", "messages": [{"role": "user", "content": "x"}]}`)
	if e, ok := r.json(t)["error"].(map[string]any); r.status != 502 || !ok || e["type"] != "api_error" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	// Listings still answer with the synthetic models; the log says what went wrong.
	tags := ts.do(http.MethodGet, "/api/tags", "")
	if tags.status != 200 || len(tags.json(t)["models"].([]any)) != 6 {
		t.Fatalf("tags: %d %s", tags.status, tags.body)
	}
	if e := ts.lastRecord(); !strings.Contains(fmt.Sprint(e["error"]), "upstream") {
		t.Fatalf("record: %v", e)
	}
	if h := ts.do(http.MethodGet, "/chainmark/health", "").json(t); h["upstream"] != dead {
		t.Fatalf("health upstream: %v", h["upstream"])
	}
}

func TestUpstreamParserSplitsAnywhere(t *testing.T) {
	// However the bytes are cut into reads, the same figures come out.
	for _, size := range []int{1, 3, 7, 64, 4096} {
		for _, c := range []struct {
			sse  bool
			body string
		}{{false, upstreamChat}, {true, upstreamSSE}} {
			var p upstreamParser
			p.sse = c.sse
			for b := []byte(c.body); len(b) > 0; {
				n := min(size, len(b))
				p.feed(b[:n])
				b = b[n:]
			}
			p.finish()
			var rec record
			p.record(&rec, true, 200)
			if c.sse && (rec.responseChars != 8 || rec.evalCount != 2) || !c.sse && (rec.responseChars != 10 || rec.doneReason != "length") {
				t.Fatalf("size %d sse %v: %+v", size, c.sse, rec)
			}
		}
	}
	var p upstreamParser
	p.feed(bytes.Repeat([]byte("x"), maxParsedLine+10))
	p.feed([]byte("\n" + `{"response":"ok","done_reason":"stop"}`))
	p.finish()
	var rec record
	p.record(&rec, true, 200)
	if rec.responseChars != 2 {
		t.Fatalf("after an oversized line: %+v", rec)
	}
	var msg map[string]any
	if err := json.Unmarshal([]byte(`{"a":1}`), &msg); err != nil {
		t.Fatal(err)
	}
}
