package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chainmark/server/synth"
)

// badBodies are requests a client may get wrong; each must be a 4xx with a JSON error, never a
// 5xx, and the server must keep serving.
var badBodies = []struct {
	path, body string
	status     int
}{
	{"/api/generate", `{not json`, 400},
	{"/api/generate", ``, 400},
	{"/api/generate", `   `, 400},
	{"/api/generate", `[1, 2]`, 400},
	{"/api/generate", `null`, 400},
	{"/api/generate", `"text"`, 400},
	{"/api/generate", `{"prompt": "no model"}`, 400},
	{"/api/generate", `{"model": "  ", "prompt": "x"}`, 400},
	{"/api/generate", `{"model": 3}`, 400},
	{"/api/generate", `{"model": "synthetic", "prompt": "x", "options": {"num_predict": "x"}}`, 400},
	{"/api/generate", `{"model": "synthetic", "prompt": "x", "options": {"temperature": "hot"}}`, 400},
	{"/api/generate", `{"model": "synthetic", "prompt": "x", "options": {"stop": 5}}`, 400},
	{"/api/generate", `{"model": "synthetic", "prompt": "x", "options": {"stop": [5]}}`, 400},
	{"/api/generate", `{"model": "synthetic", "prompt": "x", "options": {"use_mmap": 1}}`, 400},
	{"/api/generate", `{"model": "synthetic", "prompt": "x", "options": "fast"}`, 400},
	{"/api/generate", `{"model": "synthetic", "prompt": 42}`, 400},
	{"/api/generate", `{"model": "synthetic", "prompt": "x", "stream": "yes"}`, 400},
	{"/api/generate", `{"model": "synthetic", "prompt": "x", "format": "xml"}`, 400},
	{"/api/generate", `{"model": "synthetic", "prompt": "x", "format": 5}`, 400},
	{"/api/generate", `{"model": "synthetic", "prompt": "x"} trailing`, 400},
	{"/api/chat", `{not json`, 400},
	{"/api/chat", `{"model": "synthetic", "messages": [{"content": "no role"}]}`, 400},
	{"/api/chat", `{"model": "synthetic", "messages": "hi"}`, 400},
	{"/api/chat", `{"model": "synthetic", "messages": [null]}`, 400},
	{"/api/chat", `{"model": "synthetic", "messages": [{"role": "user", "content": 5}]}`, 400},
	{"/api/chat", `{"model": "synthetic", "messages": [{"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": 5}}]}]}`, 400},
	{"/api/chat", `{"model": "synthetic", "messages": [{"role": "user", "content": "x"}], "tools": "all"}`, 400},
	{"/api/chat", `{"model": 3}`, 400},
	{"/api/chat", `null`, 400},
	{"/api/embed", `{"model": "synthetic", "input": [1, 2]}`, 400},
	{"/api/embed", `{"model": "synthetic", "input": 5}`, 400},
	{"/api/embed", `{"model": "synthetic", "input": "x", "dimensions": "many"}`, 400},
	{"/api/embed", `{"model": 3}`, 400},
	{"/api/embed", `{`, 400},
	{"/api/embeddings", `{"prompt": "no model"}`, 400},
	{"/api/embeddings", `{"model": "synthetic", "prompt": ["x"]}`, 400},
	{"/api/show", `{}`, 400},
	{"/api/show", `{"model": 1}`, 400},
	{"/api/pull", ``, 400},
	{"/v1/completions", `{"model": "synthetic", "prompt": ["a", "b"]}`, 400},
	{"/v1/embeddings", `{"model": "synthetic", "input": {"a": 1}}`, 400},
}

func TestBadRequestsAre4xx(t *testing.T) {
	ts := newTestServer(t)
	for _, c := range badBodies {
		r := ts.post(c.path, c.body)
		if r.status != c.status {
			t.Errorf("%s %q: status %d, want %d: %s", c.path, c.body, r.status, c.status, r.body)
			continue
		}
		v := r.json(t)
		msg, _ := v["error"].(string)
		if e, ok := v["error"].(map[string]any); ok {
			msg, _ = e["message"].(string)
		}
		if msg == "" {
			t.Errorf("%s %q: no error message: %s", c.path, c.body, r.body)
		}
		if rec := ts.lastRecord(); rec["error"] == nil || rec["status"] != float64(c.status) {
			t.Errorf("%s %q: logged %v", c.path, c.body, rec)
		}
	}
	// The error names the field.
	for _, c := range []struct{ body, field string }{
		{`{"model": "synthetic", "prompt": 42}`, "prompt"},
		{`{"model": "synthetic", "prompt": "x", "options": {"num_predict": "x"}}`, "num_predict"},
		{`{"model": "synthetic", "messages": [{"role": "user", "content": 5}]}`, "messages.content"},
	} {
		path := "/api/generate"
		if strings.Contains(c.body, "messages") {
			path = "/api/chat"
		}
		if msg := ts.post(path, c.body).json(t)["error"].(string); !strings.Contains(msg, c.field) {
			t.Errorf("%s: error %q does not name %q", c.body, msg, c.field)
		}
	}
	if r := ts.post("/api/generate", `{"model": "synthetic", "prompt": "still alive", "stream": false}`); r.status != 200 {
		t.Fatalf("after bad requests: %d %s", r.status, r.body)
	}
}

func TestLenientBodies(t *testing.T) {
	ts := newTestServer(t)
	for _, c := range []struct{ path, body string }{
		// LangChainGo's and the Python client's shapes.
		{"/api/generate", `{"model": "synthetic", "prompt": "x", "stream": null, "format": "", "template": "", "system": "", "options": {"num_predict": 0, "temperature": 0, "stop": null}, "images": null, "context": [1, 2, 3]}`},
		{"/api/chat", `{"model": "synthetic", "messages": [{"role": "USER", "content": "x", "images": null}], "tools": [], "think": null, "format": null, "keep_alive": "5m", "unknown": {"deep": [1]}}`},
		// Lone UTF-16 surrogates become U+FFFD.
		{"/api/generate", `{"model": "synthetic", "prompt": "\ud800 and \udfff", "stream": false}`},
		{"/api/chat", `{"model": "synthetic", "messages": [{"role": "user", "content": "\ud83d"}], "stream": false}`},
		{"/api/embed", `{"model": "synthetic", "input": ["\udc00"]}`},
		// Invalid UTF-8 in a JSON string.
		{"/api/generate", "{\"model\": \"synthetic\", \"prompt\": \"\xff\xfe\", \"stream\": false}"},
		// Case-insensitive model names and the older "name".
		{"/api/generate", `{"name": "SYNTHETIC:LATEST", "prompt": "x", "stream": false}`},
		{"/api/generate", `{"model": "synthetic", "prompt": "x", "options": {"num_predict": 1e300, "seed": -1e300, "num_ctx": 1.5}}`},
	} {
		if r := ts.post(c.path, c.body); r.status != 200 {
			t.Errorf("%s %s: %d %s", c.path, c.body, r.status, r.body)
		}
	}
}

func TestUnknownPathsAndMethods(t *testing.T) {
	ts := newTestServer(t)
	for _, c := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodGet, "/nope", 404, ""},
		{http.MethodPost, "/api/nope", 404, ""},
		{http.MethodPost, "/api/create", 404, ""},
		{http.MethodPost, "/api/copy", 404, ""},
		{http.MethodDelete, "/api/delete", 404, ""},
		{http.MethodPost, "/api/push", 404, ""},
		{http.MethodPost, "/api/blobs/sha256:abc", 404, ""},
		{http.MethodGet, "/api/create", 405, "POST"},
		{http.MethodGet, "/api/generate", 405, "POST"},
		{http.MethodPut, "/api/chat", 405, "POST"},
		{http.MethodPost, "/api/tags", 405, "GET, HEAD"},
		{http.MethodDelete, "/", 405, "GET, HEAD"},
		{http.MethodPost, "/v1/models", 405, "GET"},
		{http.MethodGet, "/v1/chat/completions", 405, "POST"},
		{http.MethodGet, "/v1/nope", 404, ""},
		{http.MethodGet, "/chainmark/nope", 404, ""},
		{http.MethodGet, "/chainmark/reset", 405, "POST"},
		{http.MethodGet, "/chainmark/evict", 405, "POST"},
		{http.MethodPost, "/chainmark/requests", 405, "GET"},
	} {
		r := ts.do(c.method, c.path, "")
		if r.status != c.status || r.header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d (Allow %q), want %d (%q)", c.method, c.path, r.status, r.header.Get("Allow"), c.status, c.allow)
			continue
		}
		var v map[string]any
		if err := json.Unmarshal(r.body, &v); err != nil || v["error"] == nil {
			t.Errorf("%s %s: not a JSON error: %s", c.method, c.path, r.body)
		}
		if strings.HasPrefix(c.path, "/v1/") {
			if _, ok := v["error"].(map[string]any); !ok {
				t.Errorf("%s %s: not an OpenAI error: %s", c.method, c.path, r.body)
			}
		}
	}
	if r := ts.do(http.MethodHead, "/api/blobs/sha256:abc", ""); r.status != 404 {
		t.Fatalf("HEAD blob: %d", r.status)
	}
}

func TestBodyTooLarge(t *testing.T) {
	ts := newTestServer(t)
	// Through the handler: a 64 MiB upload over a socket that the server stops reading would
	// only test the client's handling of a reset.
	big := io.MultiReader(strings.NewReader(`{"model": "synthetic", "prompt": "`), bytes.NewReader(make([]byte, maxBodyBytes)))
	req := httptest.NewRequest(http.MethodPost, "/api/generate", big)
	w := httptest.NewRecorder()
	ts.ServeHTTP(w, req)
	if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "too large") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	req = httptest.NewRequest(http.MethodPost, "/api/chat", strings.NewReader("{}"))
	req.ContentLength = maxBodyBytes + 1
	w = httptest.NewRecorder()
	ts.ServeHTTP(w, req)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("declared length: %d", w.Code)
	}
}

func TestHugeModelNameIsNotKept(t *testing.T) {
	ts := newTestServer(t)
	name := strings.Repeat("m", 5<<20)
	r := ts.post("/api/generate", `{"model": "`+name+`", "prompt": "x"}`)
	if r.status != 404 {
		t.Fatalf("%d", r.status)
	}
	rec := ts.lastRecord()
	if n := len(rec["model"].(string)); n > maxLoggedString+8 {
		t.Fatalf("logged model name is %d bytes", n)
	}
	if n := len(rec["error"].(string)); n > 4*maxLoggedString+8 {
		t.Fatalf("logged error is %d bytes", n)
	}
	if n := len(ts.do(http.MethodGet, "/"+strings.Repeat("p", 10000), "").body); n > 1000 {
		t.Fatalf("404 body for a long path is %d bytes", n)
	}
}

func TestPanicIsA500AndLogged(t *testing.T) {
	ts := newTestServer(t)
	name := ts.addFake("panics", 1, fakeEngine{panics: true}, fakePace{})
	r := ts.post("/api/generate", `{"model": "`+name+`", "prompt": "x", "stream": false}`)
	if r.status != 500 || r.json(t)["error"] != "internal server error" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if rec := ts.lastRecord(); rec["status"] != float64(500) || !strings.Contains(rec["error"].(string), "fake engine failure") {
		t.Fatalf("record: %v", rec)
	}
	// The slot was released by the panicking request.
	ts.models.resolve(name).gen = fakeEngine{tokens: 2}
	if r := ts.post("/api/generate", `{"model": "`+name+`", "prompt": "x", "stream": false}`); r.status != 200 {
		t.Fatalf("after panic: %d", r.status)
	}
}

// An answer with any text at all goes out as valid JSON.
func TestAwkwardTextIsValidJSON(t *testing.T) {
	ts := newTestServer(t)
	text := []string{"<tag>&", " \"quoted\"", " \\back", " \u2028line", " \x00\x1f", " \xff", " é😀"}
	name := ts.addFake("awkward", 0, fakeEngine{}, fakePace{})
	ts.models.resolve(name).gen = fixedAnswer{synth.Answer{Tokens: text, Generated: len(text), DoneReason: "stop"}}
	want := strings.ToValidUTF8(strings.Join(text, ""), "\uFFFD")
	v := ts.post("/api/generate", `{"model": "`+name+`", "prompt": "x", "stream": false}`).json(t)
	if v["response"] != want {
		t.Fatalf("%q != %q", v["response"], want)
	}
	if rec := ts.lastRecord(); rec["response_chars"] != float64(len([]rune(strings.Join(text, "")))) {
		t.Fatalf("response_chars %v", rec["response_chars"])
	}
	var streamed strings.Builder
	for _, l := range ts.post("/api/chat", `{"model": "`+name+`", "messages": [{"role": "user", "content": "x"}]}`).lines(t) {
		streamed.WriteString(l["message"].(map[string]any)["content"].(string))
	}
	if streamed.String() != want {
		t.Fatalf("%q != %q", streamed.String(), want)
	}
	// encoding/json agrees byte for byte.
	for _, s := range append(text, "plain", "") {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, encoding/json %s", s, got, want)
		}
	}
}

type fixedAnswer struct{ ans synth.Answer }

func (f fixedAnswer) Answer(synth.Prompt, synth.Options, []synth.Tool, json.RawMessage) synth.Answer {
	return f.ans
}
