package main

import (
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chainmark/server/synth"
)

const question = "Why is the sky blue?"

func TestRootVersionTags(t *testing.T) {
	ts := newTestServer(t)
	if r := ts.do(http.MethodGet, "/", ""); r.status != 200 || string(r.body) != "Ollama is running" {
		t.Fatalf("GET /: %d %q", r.status, r.body)
	}
	if r := ts.do(http.MethodHead, "/", ""); r.status != 200 || len(r.body) != 0 {
		t.Fatalf("HEAD /: %d %q", r.status, r.body)
	}
	if v := ts.do(http.MethodGet, "/api/version", "").json(t); v["version"] != ollamaVersion {
		t.Fatalf("version: %v", v)
	}
	r := ts.do(http.MethodGet, "/api/tags", "")
	var names []string
	for _, m := range r.json(t)["models"].([]any) {
		entry := m.(map[string]any)
		names = append(names, entry["name"].(string))
		for _, key := range []string{"model", "modified_at", "size", "digest", "details"} {
			if _, ok := entry[key]; !ok {
				t.Errorf("tag entry lacks %q: %v", key, entry)
			}
		}
	}
	want := []string{"synthetic:zero", "synthetic:slow", "synthetic-liar:zero", "synthetic-liar:slow",
		"synthetic-malformed:zero", "synthetic-malformed:slow"}
	if !slices.Equal(names, want) {
		t.Fatalf("tags: %v, want %v", names, want)
	}
	if r := ts.do(http.MethodHead, "/api/tags", ""); r.status != 200 {
		t.Fatalf("HEAD /api/tags: %d", r.status)
	}
}

func TestShow(t *testing.T) {
	ts := newTestServer(t)
	v := ts.post("/api/show", `{"model": "Synthetic"}`).json(t)
	info := v["model_info"].(map[string]any)
	if info["synthetic.embedding_length"] != float64(576) || info["synthetic.context_length"] != float64(2048) {
		t.Fatalf("model_info numbers: %v", info)
	}
	if info["profile"] != "zero" {
		t.Fatalf("profile: %v", info)
	}
	caps := v["capabilities"].([]any)
	if !slices.Contains(caps, any("completion")) || slices.Contains(caps, any("thinking")) {
		t.Fatalf("capabilities: %v", caps)
	}
	for _, key := range []string{"details", "template", "parameters", "modified_at", "modelfile"} {
		if _, ok := v[key]; !ok {
			t.Errorf("show lacks %q", key)
		}
	}
	if r := ts.post("/api/show", `{"name": "nope:1b"}`); r.status != 404 {
		t.Fatalf("unknown model: %d %s", r.status, r.body)
	}
}

func TestPsListsOnlyUsedModels(t *testing.T) {
	ts := newTestServer(t)
	ps := func() []string {
		var names []string
		for _, m := range ts.do(http.MethodGet, "/api/ps", "").json(t)["models"].([]any) {
			names = append(names, m.(map[string]any)["name"].(string))
		}
		return names
	}
	if got := ps(); len(got) != 0 {
		t.Fatalf("nothing used yet, ps lists %v", got)
	}
	ts.post("/api/generate", `{"model": "synthetic", "prompt": "hi", "stream": false}`)
	ts.post("/api/embed", `{"model": "synthetic-liar:zero", "input": "hi"}`)
	if got := ps(); !slices.Equal(got, []string{"synthetic:zero", "synthetic-liar:zero"}) {
		t.Fatalf("ps: %v", got)
	}
	ts.post("/api/generate", `{"model": "synthetic", "keep_alive": 0}`)
	if got := ps(); !slices.Equal(got, []string{"synthetic-liar:zero"}) {
		t.Fatalf("ps after unload: %v", got)
	}
}

func TestPull(t *testing.T) {
	ts := newTestServer(t)
	if r := ts.post("/api/pull", `{"model": "synthetic:slow"}`); r.status != 200 || !strings.Contains(string(r.body), `"success"`) {
		t.Fatalf("pull: %d %s", r.status, r.body)
	}
	if v := ts.post("/api/pull", `{"model": "synthetic", "stream": false}`).json(t); v["status"] != "success" {
		t.Fatalf("pull: %v", v)
	}
	r := ts.post("/api/pull", `{"model": "llama9:70b"}`)
	if r.status != 404 || r.json(t)["error"] == "" {
		t.Fatalf("unknown pull: %d %s", r.status, r.body)
	}
}

// finalFields are the fields of Ollama's last object of an answer.
var finalFields = []string{"model", "created_at", "done", "done_reason", "total_duration",
	"load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration"}

func checkFinal(t *testing.T, v map[string]any) {
	t.Helper()
	for _, key := range finalFields {
		if _, ok := v[key]; !ok {
			t.Errorf("final object lacks %q: %v", key, v)
		}
	}
	if v["done"] != true {
		t.Errorf("done: %v", v["done"])
	}
	if _, err := time.Parse(time.RFC3339Nano, v["created_at"].(string)); err != nil {
		t.Errorf("created_at: %v", err)
	}
	total := v["total_duration"].(float64)
	if total < v["prompt_eval_duration"].(float64)+v["eval_duration"].(float64) {
		t.Errorf("total_duration %v < prompt_eval + eval: %v", total, v)
	}
}

func TestGenerate(t *testing.T) {
	ts := newTestServer(t)
	body := `{"model": "synthetic", "prompt": "` + question + `", "stream": false, "options": {"num_predict": 12}}`
	a := ts.post("/api/generate", body).json(t)
	checkFinal(t, a)
	if a["model"] != "synthetic" || a["eval_count"] != float64(12) || a["prompt_eval_count"] != float64(5) {
		t.Fatalf("generate: %v", a)
	}
	if ctx, ok := a["context"].([]any); !ok || len(ctx) == 0 {
		t.Fatalf("context: %v", a["context"])
	}
	if b := ts.post("/api/generate", body).json(t); b["response"] != a["response"] {
		t.Fatal("answers are not deterministic")
	}
	// Streamed by default and with "stream": null: one line per token, then the final one.
	for _, stream := range []string{``, `"stream": null,`, `"stream": true,`} {
		r := ts.post("/api/generate", `{"model": "synthetic", `+stream+` "prompt": "`+question+`", "options": {"num_predict": 12}}`)
		if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
			t.Fatalf("content type %q", ct)
		}
		lines := r.lines(t)
		if len(lines) != 13 {
			t.Fatalf("%d lines, want 13", len(lines))
		}
		var text strings.Builder
		for _, l := range lines[:12] {
			if l["done"] != false {
				t.Fatalf("early done: %v", l)
			}
			text.WriteString(l["response"].(string))
		}
		checkFinal(t, lines[12])
		if text.String() != a["response"] {
			t.Fatalf("streamed %q != %q", text.String(), a["response"])
		}
		if _, ok := lines[12]["context"]; !ok {
			t.Fatal("streamed final object lacks context")
		}
	}
	// raw: no context.
	raw := ts.post("/api/generate", `{"model": "synthetic", "prompt": "go on", "raw": true, "stream": false}`).json(t)
	if _, ok := raw["context"]; ok {
		t.Fatal("raw prompt returned a context")
	}
}

func TestGenerateOptionsAndFormat(t *testing.T) {
	ts := newTestServer(t)
	gen := func(opts string) map[string]any {
		return ts.post("/api/generate", `{"model": "synthetic", "prompt": "`+question+`", "stream": false, "options": `+opts+`}`).json(t)
	}
	full := gen(`{}`)
	if full["eval_count"] != float64(250) {
		t.Fatalf("default length %v", full["eval_count"])
	}
	words := strings.Fields(full["response"].(string))
	stop := words[5]
	for _, opts := range []string{`{"stop": "` + stop + `"}`, `{"stop": ["` + stop + `", ""]}`} {
		cut := gen(opts)
		resp := full["response"].(string)
		if cut["response"] != resp[:strings.Index(resp, stop)] || cut["done_reason"] != "stop" {
			t.Fatalf("stop %s: %q", opts, cut["response"])
		}
	}
	// LangChainGo's zero values mean "unset".
	zeros := gen(`{"num_predict": 0, "temperature": 0, "seed": 0, "num_ctx": 0, "top_k": 0, "stop": [], "use_mmap": false, "mirostat": 0}`)
	if zeros["response"] != full["response"] {
		t.Fatal("zero-valued options changed the answer")
	}
	if other := gen(`{"seed": 5}`); other["response"] == full["response"] {
		t.Fatal("seed changed nothing")
	}
	for _, format := range []string{`"json"`, `{"type": "object", "properties": {"answer": {"type": "string"}}}`} {
		r := ts.post("/api/generate", `{"model": "synthetic", "prompt": "hi", "stream": false, "format": `+format+`}`)
		if r.status != 200 {
			t.Fatalf("format %s: %d %s", format, r.status, r.body)
		}
	}
	for _, format := range []string{`""`, `null`} {
		r := ts.post("/api/generate", `{"model": "synthetic", "prompt": "hi", "stream": false, "format": `+format+`, "template": ""}`)
		if r.status != 200 {
			t.Fatalf("format %s: %d %s", format, r.status, r.body)
		}
	}
}

func TestChat(t *testing.T) {
	ts := newTestServer(t)
	msgs := `[{"role": "system", "content": "Be terse."}, {"role": "user", "content": "` + question + `"}]`
	whole := ts.post("/api/chat", `{"model": "synthetic:zero", "messages": `+msgs+`, "stream": false, "options": {"num_predict": 6}, "tools": [], "think": false}`).json(t)
	checkFinal(t, whole)
	msg := whole["message"].(map[string]any)
	if msg["role"] != "assistant" || msg["content"] == "" {
		t.Fatalf("message: %v", msg)
	}
	if _, ok := whole["context"]; ok {
		t.Fatal("chat answer has a context")
	}
	lines := ts.post("/api/chat", `{"model": "synthetic:zero", "messages": `+msgs+`, "options": {"num_predict": 6}}`).lines(t)
	var text strings.Builder
	for _, l := range lines {
		text.WriteString(l["message"].(map[string]any)["content"].(string))
	}
	if text.String() != msg["content"] {
		t.Fatalf("streamed %q != %q", text.String(), msg["content"])
	}
	// Earlier tool calls and tool results are accepted.
	history := `[{"role": "user", "content": "weather in Paris?"},
		{"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "weather", "arguments": {"city": "Paris"}}}]},
		{"role": "tool", "content": "sunny", "tool_name": "weather"}]`
	tools := `[{"type": "function", "function": {"name": "weather", "description": "Weather of a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]`
	if r := ts.post("/api/chat", `{"model": "synthetic", "stream": false, "messages": `+history+`, "tools": `+tools+`}`); r.status != 200 {
		t.Fatalf("tool history: %d %s", r.status, r.body)
	}
}

func TestChatToolCalls(t *testing.T) {
	ts := newTestServer(t)
	call := synth.ToolCall{Name: "weather", Arguments: map[string]any{"city": "Paris", "days": 2}}
	name := ts.addFake("tools", 0, fakeEngine{tokens: 3, toolCalls: []synth.ToolCall{call}}, fakePace{})
	tools := `[{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]`
	body := `{"model": "` + name + `", "messages": [{"role": "user", "content": "weather?"}], "tools": ` + tools
	whole := ts.post("/api/chat", body+`, "stream": false}`).json(t)
	calls := whole["message"].(map[string]any)["tool_calls"].([]any)
	fn := calls[0].(map[string]any)["function"].(map[string]any)
	if fn["name"] != "weather" || fn["arguments"].(map[string]any)["city"] != "Paris" {
		t.Fatalf("tool call: %v", calls)
	}
	if id := calls[0].(map[string]any)["id"].(string); !strings.HasPrefix(id, "call_") || len(id) != 13 {
		t.Fatalf("tool call id %q", id)
	}
	lines := ts.post("/api/chat", body+`}`).lines(t)
	if len(lines) != 2 || lines[0]["message"].(map[string]any)["tool_calls"] == nil || lines[1]["done"] != true {
		t.Fatalf("streamed tool call: %v", lines)
	}
}

func TestLoadAndUnload(t *testing.T) {
	ts := newTestServer(t)
	for _, c := range []struct{ path, body, reason string }{
		{"/api/generate", `{"model": "synthetic"}`, "load"},
		{"/api/generate", `{"model": "synthetic", "prompt": "", "keep_alive": 0}`, "unload"},
		{"/api/generate", `{"model": "synthetic", "keep_alive": "0s"}`, "unload"},
		{"/api/generate", `{"model": "synthetic", "keep_alive": "5m"}`, "load"},
		{"/api/chat", `{"model": "synthetic", "messages": []}`, "load"},
		{"/api/chat", `{"model": "synthetic", "keep_alive": "0"}`, "unload"},
	} {
		v := ts.post(c.path, c.body).json(t)
		if v["done"] != true || v["done_reason"] != c.reason {
			t.Errorf("%s %s: %v", c.path, c.body, v)
		}
		if rec := ts.lastRecord(); rec["done_reason"] != c.reason {
			t.Errorf("logged done_reason %v", rec["done_reason"])
		}
	}
}

func TestThinkAndSuffixRefused(t *testing.T) {
	ts := newTestServer(t)
	for _, c := range []struct{ path, body, want string }{
		{"/api/chat", `{"model": "synthetic", "messages": [{"role": "user", "content": "hi"}], "think": true}`, `"synthetic" does not support thinking`},
		{"/api/generate", `{"model": "synthetic:zero", "prompt": "hi", "think": "high"}`, `"synthetic:zero" does not support thinking`},
		{"/api/generate", `{"model": "synthetic", "prompt": "hi", "suffix": "end"}`, `registry.ollama.ai/library/synthetic:latest does not support insert`},
		{"/api/generate", `{"model": "synthetic:zero", "prompt": "hi", "suffix": "end"}`, `registry.ollama.ai/library/synthetic:zero does not support insert`},
		{"/api/generate", `{"model": "synthetic", "prompt": "hi", "think": "hard"}`, `invalid think value`},
		{"/api/chat", `{"model": "synthetic", "messages": [], "think": 3}`, `think must be a boolean or string`},
	} {
		r := ts.post(c.path, c.body)
		if r.status != 400 || !strings.Contains(r.json(t)["error"].(string), c.want) {
			t.Errorf("%s: %d %s, want 400 %q", c.body, r.status, r.body, c.want)
		}
	}
	for _, body := range []string{
		`{"model": "synthetic", "prompt": "hi", "think": false, "stream": false}`,
		`{"model": "synthetic", "prompt": "hi", "suffix": "", "stream": false}`,
	} {
		if r := ts.post("/api/generate", body); r.status != 200 {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}
}

func TestUnknownModelIs404(t *testing.T) {
	ts := newTestServer(t)
	for _, c := range []struct{ path, body string }{
		{"/api/generate", `{"model": "llama9:70b", "prompt": "hi"}`},
		{"/api/generate", `{"model": "llama9:70b", "prompt": "hi", "stream": false}`},
		{"/api/chat", `{"model": "llama9:70b", "messages": [{"role": "user", "content": "hi"}]}`},
		{"/api/embed", `{"model": "llama9:70b", "input": "hi"}`},
		{"/api/embeddings", `{"model": "llama9:70b", "prompt": "hi"}`},
		{"/api/show", `{"model": "llama9:70b"}`},
	} {
		r := ts.post(c.path, c.body)
		if r.status != 404 || r.json(t)["error"] != `model "llama9:70b" not found, try pulling it first` {
			t.Errorf("%s: %d %s", c.path, r.status, r.body)
		}
	}
}

func TestEmbed(t *testing.T) {
	ts := newTestServer(t)
	norm := func(v []any) float64 {
		var s float64
		for _, f := range v {
			s += f.(float64) * f.(float64)
		}
		return math.Sqrt(s)
	}
	v := ts.post("/api/embed", `{"model": "synthetic", "input": ["the cat sat", "a cat", "stocks fell"]}`).json(t)
	embs := v["embeddings"].([]any)
	if len(embs) != 3 || len(embs[0].([]any)) != 576 || math.Abs(norm(embs[0].([]any))-1) > 1e-5 {
		t.Fatalf("embed: %d vectors", len(embs))
	}
	if v["prompt_eval_count"] != float64(7) || v["model"] != "synthetic" {
		t.Fatalf("embed: %v %v", v["prompt_eval_count"], v["model"])
	}
	if e := ts.post("/api/embed", `{"model": "synthetic", "input": ""}`).json(t)["embeddings"].([]any); len(e) != 0 {
		t.Fatalf("empty input gave %d vectors", len(e))
	}
	if e := ts.post("/api/embed", `{"model": "synthetic", "input": ["", "x"]}`).json(t)["embeddings"].([]any); len(e) != 2 {
		t.Fatalf("two inputs gave %d vectors", len(e))
	}
	cut := ts.post("/api/embed", `{"model": "synthetic", "input": "the cat sat", "dimensions": 64}`).json(t)["embeddings"].([]any)[0].([]any)
	if len(cut) != 64 || math.Abs(norm(cut)-1) > 1e-5 {
		t.Fatalf("dimensions: %d values, norm %v", len(cut), norm(cut))
	}
	long := strings.Repeat("word ", 100)
	if r := ts.post("/api/embed", `{"model": "synthetic", "input": "`+long+`", "truncate": false, "options": {"num_ctx": 10}}`); r.status != 400 {
		t.Fatalf("truncate false: %d %s", r.status, r.body)
	}
	if r := ts.post("/api/embed", `{"model": "synthetic", "input": "`+long+`", "options": {"num_ctx": 10}}`); r.json(t)["prompt_eval_count"] != float64(10) {
		t.Fatalf("truncated count: %s", r.body)
	}
	legacy := ts.post("/api/embeddings", `{"model": "synthetic", "prompt": "the cat sat"}`).json(t)["embedding"].([]any)
	if len(legacy) != 576 || legacy[0] != embs[0].([]any)[0] {
		t.Fatalf("legacy embedding: %d values", len(legacy))
	}
	if e := ts.post("/api/embeddings", `{"model": "synthetic", "prompt": ""}`).json(t)["embedding"].([]any); len(e) != 0 {
		t.Fatal("empty legacy prompt gave a vector")
	}
	rec := ts.logSince(ts.nextSeq() - 8)[0]
	if rec["inputs"] != float64(3) || rec["prompt_eval_count"] != float64(7) || rec["response_chars"] != nil {
		t.Fatalf("embed record: %v", rec)
	}
}
