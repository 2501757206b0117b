package main

// Part 1: one prompt through one reused client, whole or streamed.

import (
	"context"
	"strings"
)

// llmClient is the set-up every LLM scenario shares: one HTTP client, one Ollama client.
func llmClient(e *Endpoints, rec *Recorder, conns int) (*Ollama, error) {
	var llm *Ollama
	err := rec.Setup(func() (err error) {
		llm, err = newOllama(e, newHTTPClient(conns))
		return err
	})
	return llm, err
}

// llmLatency: /api/generate, not streamed (the whole answer is wanted).
func llmLatency(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	llm, err := llmClient(e, rec, 1)
	if err != nil {
		return err
	}
	opts := sampling(p)
	for range p.Warmup {
		if _, err := llm.Generate(ctx, p.Prompt, opts); err != nil {
			return err
		}
	}
	rec.Begin()
	for range p.Loop() {
		rec.Op("generate", func(op *Op) error {
			text, err := llm.Generate(ctx, p.Prompt, opts)
			if err != nil {
				return err
			}
			op.Output["text"] = text
			return nil
		})
	}
	rec.End()
	return nil
}

// llmTTFT: /api/generate streamed; the time to the first non-empty chunk is taken on the
// operation's monotonic clock, and the stream is read to its end.
func llmTTFT(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	llm, err := llmClient(e, rec, 1)
	if err != nil {
		return err
	}
	opts := sampling(p)
	for range p.Warmup {
		if err := llm.Stream(ctx, p.Prompt, opts, func(string) {}); err != nil {
			return err
		}
	}
	rec.Begin()
	for range p.Loop() {
		rec.Op("stream", func(op *Op) error {
			var text strings.Builder
			chunks := 0
			var ttft int64
			err := llm.Stream(ctx, p.Prompt, opts, func(chunk string) {
				if chunks == 0 {
					ttft = op.SinceStart().Nanoseconds()
				}
				chunks++
				text.WriteString(chunk)
			})
			if err != nil {
				return err
			}
			op.Output["text"] = text.String()
			op.Output["chunks"] = chunks
			op.Output["ttft_ns"] = ttft
			return nil
		})
	}
	rec.End()
	return nil
}
