package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Fuzz targets: whatever the body, the answer is never a 5xx and is well-formed JSON (or
// NDJSON/SSE whose payloads are JSON). Run with e.g. go test -fuzz FuzzChat -fuzztime 20s.

var fuzzServer *Server

func fuzzTarget(f *testing.F, path string, seeds []string) {
	if fuzzServer == nil {
		// Only the zero profile: a mutated model name must not make an input sleep.
		zero := `{"profiles": {"zero": {"output_tokens": 250, "embed_dim": 576}}}`
		fuzzServer = NewServer(Config{Profiles: loadTestProfiles(f, zero), LogCapacity: 1000})
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	for _, c := range badBodies {
		if c.path == path {
			f.Add([]byte(c.body))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		w := httptest.NewRecorder()
		fuzzServer.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %q: %d %s", path, body, w.Code, w.Body)
		}
		checkPayloads(t, w.Header().Get("Content-Type"), w.Body.Bytes())
	})
}

// checkPayloads asserts that every JSON document of a response parses.
func checkPayloads(t *testing.T, contentType string, body []byte) {
	t.Helper()
	var docs [][]byte
	switch {
	case strings.HasPrefix(contentType, "text/event-stream"):
		for block := range bytes.SplitSeq(body, []byte("\n\n")) {
			if data, ok := bytes.CutPrefix(block, []byte("data: ")); ok && string(data) != "[DONE]" {
				docs = append(docs, data)
			}
		}
	case strings.HasPrefix(contentType, "application/x-ndjson"):
		for line := range bytes.SplitSeq(bytes.TrimRight(body, "\n"), []byte("\n")) {
			docs = append(docs, line)
		}
	default:
		docs = [][]byte{body}
	}
	for _, d := range docs {
		if !json.Valid(d) {
			t.Fatalf("invalid JSON in a %s response: %q", contentType, d)
		}
	}
}

func FuzzChat(f *testing.F) {
	fuzzTarget(f, "/api/chat", []string{
		`{"model": "synthetic", "messages": [{"role": "user", "content": "Why is the sky blue?"}]}`,
		`{"model": "synthetic", "stream": false, "messages": [{"role": "user", "content": "What is 2+2?"}], "format": "json"}`,
		`{"model": "synthetic-liar", "messages": [{"role": "user", "content": "weather in Paris?"}], "tools": [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]}`,
		`{"model": "synthetic-malformed:zero", "messages": [{"role": "system", "content": "Answer the following questions as best you can. Thought: Action: Action Input: Observation:"}, {"role": "user", "content": "Question: x"}], "options": {"stop": ["Observation:"], "num_predict": 40, "seed": 3}}`,
		`{"model": "synthetic", "messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{\"a\": 1}"}}]}, {"role": "tool", "content": "1", "tool_name": "f"}], "tools": [{"function": {"name": "f"}}], "think": false, "keep_alive": -1}`,
		`{"model": "synthetic", "messages": [{"role": "user", "content": "x"}], "format": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 3}}, "required": ["n"]}}`,
	})
}

func FuzzGenerate(f *testing.F) {
	fuzzTarget(f, "/api/generate", []string{
		`{"model": "synthetic", "prompt": "Why is the sky blue?", "options": {"num_predict": 12, "stop": ["sky"]}}`,
		`{"model": "synthetic", "prompt": "x", "raw": true, "stream": false, "system": "s", "context": [1, 2]}`,
		`{"model": "synthetic", "prompt": "", "keep_alive": "0s"}`,
		`{"model": "synthetic", "prompt": "Question: What is 37 * 12?", "format": "json", "stream": null}`,
	})
}

func FuzzEmbed(f *testing.F) {
	fuzzTarget(f, "/api/embed", []string{
		`{"model": "synthetic", "input": ["a b", ""], "dimensions": 3}`,
		`{"model": "synthetic", "input": "word word word", "truncate": false, "options": {"num_ctx": 2}}`,
	})
}

func FuzzOpenAIChat(f *testing.F) {
	fuzzTarget(f, "/v1/chat/completions", []string{
		`{"model": "synthetic", "messages": [{"role": "user", "content": "hi"}], "stream": true, "stream_options": {"include_usage": true}}`,
		`{"model": "synthetic", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}], "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "object"}}}, "max_tokens": 3, "stop": "x"}`,
		`{"model": "synthetic", "messages": [{"role": "user", "content": "weather?"}], "tools": [{"type": "function", "function": {"name": "weather"}}]}`,
	})
}

func FuzzOpenAICompletion(f *testing.F) {
	fuzzTarget(f, "/v1/completions", []string{
		`{"model": "synthetic", "prompt": "hi", "stream": true, "stream_options": {"include_usage": true}, "max_tokens": 4}`,
		`{"model": "synthetic", "prompt": "hi", "stop": ["a", "b"], "seed": 3}`,
	})
}
