package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chainmark/server/synth"
)

func TestOpenAIChat(t *testing.T) {
	ts := newTestServer(t)
	msgs := `[{"role": "system", "content": "Be terse."}, {"role": "user", "content": [{"type": "text", "text": "` + question + `"}]}]`
	v := ts.post("/v1/chat/completions", `{"model": "synthetic", "messages": `+msgs+`, "max_tokens": 7}`).json(t)
	if v["object"] != "chat.completion" || !strings.HasPrefix(v["id"].(string), "chatcmpl-") || v["system_fingerprint"] != "fp_ollama" {
		t.Fatalf("chat completion: %v", v)
	}
	choice := v["choices"].([]any)[0].(map[string]any)
	msg := choice["message"].(map[string]any)
	if msg["role"] != "assistant" || choice["finish_reason"] == nil {
		t.Fatalf("choice: %v", choice)
	}
	usage := v["usage"].(map[string]any)
	if usage["completion_tokens"] != float64(7) || usage["prompt_tokens"] != float64(7) || usage["total_tokens"] != float64(14) {
		t.Fatalf("usage: %v", usage)
	}

	r := ts.post("/v1/chat/completions", `{"model": "synthetic", "messages": `+msgs+`, "max_tokens": 7, "stream": true, "stream_options": {"include_usage": true}}`)
	if ct := r.header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := r.events(t)
	if events[len(events)-1] != "[DONE]" {
		t.Fatalf("last event %q", events[len(events)-1])
	}
	var text strings.Builder
	var finish string
	var gotUsage map[string]any
	for i, e := range events[:len(events)-1] {
		var chunk map[string]any
		if err := json.Unmarshal([]byte(e), &chunk); err != nil {
			t.Fatalf("chunk %q: %v", e, err)
		}
		if chunk["object"] != "chat.completion.chunk" {
			t.Fatalf("chunk object %v", chunk["object"])
		}
		if u, ok := chunk["usage"].(map[string]any); ok {
			gotUsage = u
			continue
		}
		c := chunk["choices"].([]any)[0].(map[string]any)
		delta := c["delta"].(map[string]any)
		if (i == 0) != (delta["role"] == "assistant") {
			t.Fatalf("role in chunk %d: %v", i, delta)
		}
		if s, ok := delta["content"].(string); ok {
			text.WriteString(s)
		}
		if f, ok := c["finish_reason"].(string); ok {
			finish = f
		}
	}
	if text.String() != msg["content"] || finish == "" || gotUsage["completion_tokens"] != float64(7) {
		t.Fatalf("stream: %q vs %q, finish %q, usage %v", text.String(), msg["content"], finish, gotUsage)
	}
	// Without include_usage there is no usage chunk.
	for _, e := range ts.post("/v1/chat/completions", `{"model": "synthetic", "messages": `+msgs+`, "max_tokens": 3, "stream": true}`).events(t) {
		if strings.Contains(e, `"usage"`) {
			t.Fatalf("usage without include_usage: %s", e)
		}
	}
}

func TestOpenAIToolCalls(t *testing.T) {
	ts := newTestServer(t)
	call := synth.ToolCall{Name: "weather", Arguments: map[string]any{"city": "Paris"}}
	name := ts.addFake("tools", 0, fakeEngine{tokens: 3, toolCalls: []synth.ToolCall{call}}, fakePace{})
	body := `{"model": "` + name + `", "messages": [{"role": "user", "content": "weather?"},
		{"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\": \"Rome\"}"}}]},
		{"role": "tool", "tool_call_id": "call_1", "content": "sunny"}],
		"tools": [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]`
	v := ts.post("/v1/chat/completions", body+`}`).json(t)
	choice := v["choices"].([]any)[0].(map[string]any)
	tc := choice["message"].(map[string]any)["tool_calls"].([]any)[0].(map[string]any)
	fn := tc["function"].(map[string]any)
	if choice["finish_reason"] != "tool_calls" || tc["type"] != "function" || fn["name"] != "weather" {
		t.Fatalf("tool call: %v", choice)
	}
	var args map[string]any
	if err := json.Unmarshal([]byte(fn["arguments"].(string)), &args); err != nil || args["city"] != "Paris" {
		t.Fatalf("arguments %v: %v", fn["arguments"], err)
	}
	events := ts.post("/v1/chat/completions", body+`, "stream": true}`).events(t)
	joined := strings.Join(events, "\n")
	if !strings.Contains(joined, `"tool_calls":[`) || !strings.Contains(joined, `"finish_reason":"tool_calls"`) {
		t.Fatalf("streamed tool call: %s", joined)
	}
}

func TestOpenAICompletion(t *testing.T) {
	ts := newTestServer(t)
	v := ts.post("/v1/completions", `{"model": "synthetic", "prompt": "`+question+`", "max_tokens": 5, "stop": ["zzz"]}`).json(t)
	choice := v["choices"].([]any)[0].(map[string]any)
	if v["object"] != "text_completion" || choice["text"] == "" || v["usage"].(map[string]any)["completion_tokens"] != float64(5) {
		t.Fatalf("completion: %v", v)
	}
	events := ts.post("/v1/completions", `{"model": "synthetic", "prompt": "`+question+`", "max_tokens": 5, "stream": true, "stream_options": {"include_usage": true}}`).events(t)
	var text strings.Builder
	for _, e := range events[:len(events)-1] {
		var chunk struct {
			Choices []struct {
				Text string `json:"text"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(e), &chunk); err != nil {
			t.Fatal(err)
		}
		for _, c := range chunk.Choices {
			text.WriteString(c.Text)
		}
	}
	if text.String() != choice["text"] || events[len(events)-1] != "[DONE]" {
		t.Fatalf("streamed %q != %q", text.String(), choice["text"])
	}
	if r := ts.post("/v1/completions", `{"model": "synthetic", "prompt": "x", "suffix": "y"}`); r.status != 400 {
		t.Fatalf("suffix: %d", r.status)
	}
	if r := ts.post("/v1/completions", `{"model": "synthetic", "prompt": "x", "stop": [1]}`); r.status != 400 {
		t.Fatalf("bad stop: %d", r.status)
	}
	load := ts.post("/v1/completions", `{"model": "synthetic", "prompt": ""}`).json(t)
	if load["choices"].([]any)[0].(map[string]any)["finish_reason"] != "load" {
		t.Fatalf("empty prompt: %v", load)
	}
}

func TestOpenAIEmbeddingsAndModels(t *testing.T) {
	ts := newTestServer(t)
	v := ts.post("/v1/embeddings", `{"model": "synthetic", "input": ["a b", "c"]}`).json(t)
	data := v["data"].([]any)
	if len(data) != 2 || len(data[1].(map[string]any)["embedding"].([]any)) != 576 || v["usage"].(map[string]any)["prompt_tokens"] != float64(3) {
		t.Fatalf("embeddings: %v", v["usage"])
	}
	if d := ts.post("/v1/embeddings", `{"model": "synthetic", "input": ""}`).json(t)["data"].([]any); len(d) != 1 {
		t.Fatalf(`input "" gave %d vectors`, len(d))
	}
	b64 := ts.post("/v1/embeddings", `{"model": "synthetic", "input": "a", "encoding_format": "base64", "dimensions": 8}`).json(t)
	raw, err := base64.StdEncoding.DecodeString(b64["data"].([]any)[0].(map[string]any)["embedding"].(string))
	if err != nil || len(raw) != 32 {
		t.Fatalf("base64: %d bytes, %v", len(raw), err)
	}
	for _, body := range []string{`{"model": "synthetic", "input": []}`, `{"model": "synthetic"}`,
		`{"model": "synthetic", "input": "a", "encoding_format": "int8"}`, `{"model": "synthetic", "input": [[1, 2]]}`} {
		r := ts.post("/v1/embeddings", body)
		e, _ := r.json(t)["error"].(map[string]any)
		if r.status != 400 || e["type"] != "invalid_request_error" {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}

	list := ts.do(http.MethodGet, "/v1/models", "").json(t)
	if list["object"] != "list" || len(list["data"].([]any)) != 6 {
		t.Fatalf("models: %v", list)
	}
	m := ts.do(http.MethodGet, "/v1/models/synthetic:slow", "").json(t)
	if m["id"] != "synthetic:slow" || m["object"] != "model" || m["owned_by"] != "library" {
		t.Fatalf("model: %v", m)
	}
	r := ts.do(http.MethodGet, "/v1/models/nope", "")
	e := r.json(t)["error"].(map[string]any)
	if r.status != 404 || e["type"] != "not_found_error" || e["param"] != nil || e["code"] != nil {
		t.Fatalf("unknown model: %d %s", r.status, r.body)
	}
}

func TestOpenAIErrors(t *testing.T) {
	ts := newTestServer(t)
	for _, c := range []struct {
		body   string
		status int
	}{
		{`{"model": "nope", "messages": [{"role": "user", "content": "hi"}]}`, 404},
		{`{"model": "synthetic", "messages": []}`, 400},
		{`{"model": "synthetic", "messages": [{"role": "user"}]}`, 400},
		{`{"model": "synthetic", "messages": [{"role": "user", "content": 5}]}`, 400},
		{`{"model": "synthetic", "messages": [{"role": "user", "content": [{"type": "video"}]}]}`, 400},
		{`{"model": "synthetic", "messages": [{"role": "user", "content": "hi"}], "reasoning_effort": "high"}`, 400},
		{`{"model": "synthetic", "messages": [{"role": "user", "content": "hi"}], "max_tokens": "x"}`, 400},
		{`{"messages": [{"role": "user", "content": "hi"}]}`, 400},
		{`{not json`, 400},
	} {
		r := ts.post("/v1/chat/completions", c.body)
		var v struct {
			Error struct {
				Message string  `json:"message"`
				Type    string  `json:"type"`
				Param   *string `json:"param"`
				Code    *string `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(r.body, &v); err != nil || r.status != c.status || v.Error.Message == "" || v.Error.Type == "" {
			t.Errorf("%s: %d %s", c.body, r.status, r.body)
		}
	}
	ok := ts.post("/v1/chat/completions", `{"model": "synthetic", "messages": [{"role": "user", "content": "hi"}], "reasoning_effort": "none", "stream": null, "response_format": {"type": "json_object"}}`)
	if ok.status != 200 {
		t.Fatalf("%d %s", ok.status, ok.body)
	}
}
