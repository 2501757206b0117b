package main

// A minimal client for the Ollama HTTP API (the API chainmark-server and Ollama speak):
// /api/generate, plain and streamed, and /api/embed.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxErrorBody bounds how much of an error response is read into the error.
const maxErrorBody = 4096

// newHTTPClient is one shared client whose pool keeps up to conns idle connections to a host.
// Go's default keeps 2, so a burst of 50 requests to one server would open and close most of
// its connections every time; a hand-written client sizes the pool to its concurrency. No
// overall timeout: each call's context bounds it (the harness bounds the process).
func newHTTPClient(conns int) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = max(conns, 2)
	transport.MaxIdleConns = max(conns, transport.MaxIdleConns)
	return &http.Client{Transport: transport}
}

// HTTPError is a non-2xx answer.
type HTTPError struct {
	Method, URL string
	Status      int
	Body        string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, strings.TrimSpace(e.Body))
}

// postJSON sends body as JSON and returns the response if it is 2xx; the caller closes it.
func postJSON(ctx context.Context, client *http.Client, url string, body any) (*http.Response, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		text, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return nil, &HTTPError{Method: http.MethodPost, URL: url, Status: resp.StatusCode, Body: string(text)}
	}
	return resp, nil
}

// Sampling is the generation options every call sends: Ollama's temperature, seed,
// num_predict and stop.
type Sampling struct {
	Temperature float64  `json:"temperature"`
	Seed        int      `json:"seed"`
	NumPredict  int      `json:"num_predict"`
	Stop        []string `json:"stop,omitempty"`
}

// sampling is the scenario's sampling options.
func sampling(p *Params) Sampling {
	return Sampling{Temperature: p.Temperature, Seed: p.Seed, NumPredict: p.NumPredict}
}

// withStop is s with stop sequences.
func (s Sampling) withStop(stop ...string) Sampling {
	s.Stop = stop
	return s
}

type generateRequest struct {
	Model   string   `json:"model"`
	Prompt  string   `json:"prompt"`
	Stream  bool     `json:"stream"`
	Options Sampling `json:"options"`
}

// generateMessage is one /api/generate answer, or one line of a streamed one.
type generateMessage struct {
	Response string `json:"response"`
	Done     bool   `json:"done"`
	Error    string `json:"error"`
}

// Ollama is one model on one server, over a shared HTTP client.
type Ollama struct {
	base  string
	model string
	http  *http.Client
}

// newOllama checks the endpoints and returns a client for the run's model.
func newOllama(e *Endpoints, client *http.Client) (*Ollama, error) {
	if e.LLMURL == "" || e.Model == "" {
		return nil, errors.New("endpoints.llm_url and endpoints.model are required")
	}
	return &Ollama{base: strings.TrimRight(e.LLMURL, "/"), model: e.Model, http: client}, nil
}

// Generate sends one prompt to /api/generate and returns the whole answer. /api/generate,
// not /api/chat: every prompt here is one piece of text (the templates carry their own
// roles), which is what /api/generate takes; Ollama applies the model's template to it as
// /api/chat would to one user message. Not streamed: the caller wants the whole answer.
func (o *Ollama) Generate(ctx context.Context, prompt string, s Sampling) (string, error) {
	resp, err := postJSON(ctx, o.http, o.base+"/api/generate",
		generateRequest{Model: o.model, Prompt: prompt, Stream: false, Options: s})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var m generateMessage
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return "", fmt.Errorf("/api/generate: %w", err)
	}
	if m.Error != "" {
		return "", fmt.Errorf("/api/generate: %s", m.Error)
	}
	return m.Response, nil
}

// Stream sends one prompt to /api/generate with streaming on and calls onChunk with every
// non-empty piece of the answer as it arrives (NDJSON, one message per line), to the end of
// the stream. A read error is returned, never swallowed: a stream cut short is a failure.
func (o *Ollama) Stream(ctx context.Context, prompt string, s Sampling, onChunk func(string)) error {
	resp, err := postJSON(ctx, o.http, o.base+"/api/generate",
		generateRequest{Model: o.model, Prompt: prompt, Stream: true, Options: s})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var m generateMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("/api/generate: the stream ended before its last message")
			}
			return fmt.Errorf("/api/generate stream: %w", err)
		}
		if m.Error != "" {
			return fmt.Errorf("/api/generate: %s", m.Error)
		}
		if m.Response != "" {
			onChunk(m.Response)
		}
		if m.Done {
			return nil
		}
	}
}

type embedRequest struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
}

type embedResponse struct {
	Embeddings [][]float32 `json:"embeddings"`
	Error      string      `json:"error"`
}

// Embed returns one embedding per text, in order, from one /api/embed request: that endpoint
// takes a list of inputs, so a batch costs one round trip. The texts are sent as they are.
func (o *Ollama) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	resp, err := postJSON(ctx, o.http, o.base+"/api/embed", embedRequest{Model: o.model, Input: texts})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out embedResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("/api/embed: %w", err)
	}
	if out.Error != "" {
		return nil, fmt.Errorf("/api/embed: %s", out.Error)
	}
	if len(out.Embeddings) != len(texts) {
		return nil, fmt.Errorf("/api/embed: %d embeddings for %d texts", len(out.Embeddings), len(texts))
	}
	return out.Embeddings, nil
}
