package main

// LLM scenarios with the article's LangChainGo pieces: the llms/ollama client and
// llms.GenerateFromSinglePrompt, plain and streamed.

import (
	"context"
	"errors"
	"strings"

	"github.com/tmc/langchaingo/chains"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/ollama"
)

// newLLM is one reusable Ollama client for the chat model. langchaingo's client talks to
// /api/chat (LangChain Python's OllamaLLM uses /api/generate).
func newLLM(e *Endpoints) (*ollama.LLM, error) {
	if e.LLMURL == "" || e.Model == "" {
		return nil, errors.New("endpoints.llm_url and endpoints.model are required")
	}
	return ollama.New(ollama.WithServerURL(e.LLMURL), ollama.WithModel(e.Model))
}

// callOptions are the sampling options for every generation. langchaingo maps MaxTokens to
// Ollama's num_predict, Temperature to temperature and Seed to seed (llms/ollama
// makeOllamaOptionsFromOptions), and always sends temperature, so 0 reaches the server.
func callOptions(p *Params) []llms.CallOption {
	return []llms.CallOption{
		llms.WithTemperature(p.Temperature),
		llms.WithSeed(p.Seed),
		llms.WithMaxTokens(p.NumPredict),
	}
}

// chainOptions are the same options in the form chains pass on to their LLM calls.
func chainOptions(p *Params) []chains.ChainCallOption {
	return []chains.ChainCallOption{
		chains.WithTemperature(p.Temperature),
		chains.WithSeed(p.Seed),
		chains.WithMaxTokens(p.NumPredict),
	}
}

func llmLatency(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	var llm *ollama.LLM
	opts := callOptions(p)
	if err := rec.Setup(func() (err error) {
		llm, err = newLLM(e)
		return err
	}); err != nil {
		return err
	}
	for range p.Warmup {
		if _, err := llms.GenerateFromSinglePrompt(ctx, llm, p.Prompt, opts...); err != nil {
			return err
		}
	}
	rec.Begin()
	for range p.Loop() {
		rec.Op("invoke", func(op *Op) error {
			text, err := llms.GenerateFromSinglePrompt(ctx, llm, p.Prompt, opts...)
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

// stream runs one streamed generation; onChunk sees every chunk the streaming callback gets.
func stream(ctx context.Context, llm llms.Model, prompt string, opts []llms.CallOption,
	onChunk func(chunk []byte)) error {
	all := append(append([]llms.CallOption{}, opts...),
		llms.WithStreamingFunc(func(_ context.Context, chunk []byte) error {
			onChunk(chunk)
			return nil
		}))
	_, err := llms.GenerateFromSinglePrompt(ctx, llm, prompt, all...)
	return err
}

func llmTTFT(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	var llm *ollama.LLM
	opts := callOptions(p)
	if err := rec.Setup(func() (err error) {
		llm, err = newLLM(e)
		return err
	}); err != nil {
		return err
	}
	for range p.Warmup {
		if err := stream(ctx, llm, p.Prompt, opts, func([]byte) {}); err != nil {
			return err
		}
	}
	rec.Begin()
	for range p.Loop() {
		rec.Op("stream", func(op *Op) error {
			var text strings.Builder
			chunks := 0
			var ttft *int64
			err := stream(ctx, llm, p.Prompt, opts, func(chunk []byte) {
				if ttft == nil && len(chunk) > 0 {
					ns := op.SinceStart().Nanoseconds()
					ttft = &ns
				}
				chunks++
				text.Write(chunk)
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
