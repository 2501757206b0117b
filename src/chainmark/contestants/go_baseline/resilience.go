package main

// Resilience: a client deadline on a long generation, a tool that fails, a reply the ReAct
// parser cannot read. Each operation records how the baseline handled the fault; it is ok
// whichever way, as long as nothing hangs or crashes.

import (
	"context"
	"errors"
	"strings"
	"time"
)

// healthPrompt is the tiny call that checks the server still answers after an abandoned
// request (the other contestants' words: the scenario has no parameter for it).
const healthPrompt = "Say OK."

// maxOutcomeErrorChars bounds the error text kept in a resilience operation's output.
const maxOutcomeErrorChars = 300

// seconds converts a parameter in seconds, which must be positive.
func seconds(name string, s float64) (time.Duration, error) {
	if s <= 0 {
		return 0, errors.New("params." + name + " must be positive")
	}
	return time.Duration(s * float64(time.Second)), nil
}

// resilienceTimeout: the long generation gets its own context.WithTimeout; not streamed, so
// the deadline cancels the request itself and the client returns the context's error.
func resilienceTimeout(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	if p.Iterations <= 0 {
		return errors.New("params.iterations must be positive")
	}
	limit, err := seconds("client_timeout_s", p.ClientTimeoutS)
	if err != nil {
		return err
	}
	llm, err := llmClient(e, rec, 1)
	if err != nil {
		return err
	}
	opts := sampling(p)
	health := Sampling{Temperature: 0, Seed: p.Seed, NumPredict: 1}
	rec.Begin()
	for range p.Loop() {
		rec.Op("timeout", func(op *Op) error {
			callCtx, cancel := context.WithTimeout(ctx, limit)
			defer cancel()
			text, err := llm.Generate(callCtx, p.Prompt, opts)
			if err != nil {
				op.Output["outcome"] = "error"
				op.Output["error_kind"] = errorKind(callCtx, err)
				op.Output["error"] = truncate(err.Error(), maxOutcomeErrorChars)
				return nil
			}
			op.Output["outcome"] = "completed"
			op.Output["text"] = text
			return nil
		})
		// The server must still answer after the abandoned request.
		rec.Op("health", func(op *Op) error {
			text, err := llm.Generate(ctx, healthPrompt, health)
			if err != nil {
				return err
			}
			if strings.TrimSpace(text) == "" {
				return errors.New("the health call returned no text")
			}
			op.Output["text"] = text
			return nil
		})
	}
	rec.End()
	return nil
}

// toolFailure: the tool of kind params.failing_tool returns an error with
// params.failure_message. A tool error ends the run and is returned to the caller
// ("surfaced"), as both frameworks do; a run that answered anyway would be "recovered".
func toolFailure(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	if p.FailingTool == "" || p.FailureMessage == "" {
		return errors.New("params.failing_tool and params.failure_message are required")
	}
	if p.Iterations <= 0 {
		return errors.New("params.iterations must be positive")
	}
	failure := errors.New(p.FailureMessage)
	// A failing_tool that names no tool is a bad request, not the agent's failure.
	if _, err := makeTools(p.Tools, &Counter{}, p.FailingTool, failure); err != nil {
		return err
	}
	agent, err := agentSetup(p, e, rec, 1)
	if err != nil {
		return err
	}
	rec.Begin()
	for range p.Loop() {
		rec.Op("agent", func(op *Op) error {
			out := map[string]any{}
			if err := runAgentOnce(ctx, agent, p, out, p.FailingTool, failure, nil); err != nil {
				op.Output["outcome"] = "surfaced"
				op.Output["error_kind"] = errorKind(ctx, err)
				op.Output["error"] = truncate(err.Error(), maxOutcomeErrorChars)
				op.Output["tool_error"] = errors.Is(err, failure)
				return nil
			}
			op.Output["outcome"] = "recovered"
			for k, v := range out {
				op.Output[k] = v
			}
			return nil
		})
	}
	rec.End()
	return nil
}

// parseError runs the agent on a model whose first ReAct reply cannot be parsed. With
// params.handle_parsing_errors the parser's complaint goes back to the model as the
// observation and the run goes on; without, the run ends with the parse error.
func parseError(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	if p.Iterations <= 0 {
		return errors.New("params.iterations must be positive")
	}
	agent, err := agentSetup(p, e, rec, 1)
	if err != nil {
		return err
	}
	agent.feedParseErrors = p.HandleParseErr
	rec.Begin()
	for range p.Loop() {
		rec.Op("agent", func(op *Op) error {
			out := map[string]any{}
			if err := runAgentOnce(ctx, agent, p, out, "", nil, nil); err != nil {
				var pe *ParseError
				op.Output["outcome"] = "error"
				op.Output["error_kind"] = errorKind(ctx, err)
				op.Output["error"] = truncate(err.Error(), maxOutcomeErrorChars)
				op.Output["parse_error"] = errors.As(err, &pe)
				return nil
			}
			op.Output["outcome"] = "recovered"
			for k, v := range out {
				op.Output[k] = v
			}
			return nil
		})
	}
	rec.End()
	return nil
}
