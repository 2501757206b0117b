package main

// Resilience scenarios: a client deadline on a long generation, a tool that fails, and a
// reply the ReAct parser cannot read. Each records what LangChainGo does; the operation is
// ok whichever way the framework handles the fault, as long as it does not hang or crash.

import (
	"context"
	"errors"
	"strings"

	"github.com/tmc/langchaingo/agents"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/ollama"
)

// healthPrompt is the tiny call that checks the server still answers after an abandoned
// request: the Python twin's words (the scenario has no parameter for it).
const healthPrompt = "Say OK."

// maxOutcomeErrorChars bounds the error text kept in a resilience operation's output, as the
// Python twin does.
const maxOutcomeErrorChars = 300

func resilienceTimeout(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	if p.Iterations <= 0 {
		return errors.New("params.iterations must be positive")
	}
	limit, err := seconds("client_timeout_s", p.ClientTimeoutS)
	if err != nil {
		return err
	}
	var llm *ollama.LLM
	if err := rec.Setup(func() (err error) {
		llm, err = newLLM(e)
		return err
	}); err != nil {
		return err
	}
	opts := callOptions(p)
	healthOpts := []llms.CallOption{llms.WithMaxTokens(1), llms.WithTemperature(0)}
	rec.Begin()
	for range p.Loop() {
		rec.Op("timeout", func(op *Op) error {
			callCtx, cancel := context.WithTimeout(ctx, limit)
			defer cancel()
			text, returned := llms.GenerateFromSinglePrompt(callCtx, llm, p.Prompt, opts...)
			// What langchaingo itself returned, before the caller looks at its deadline.
			if returned != nil {
				op.Output["langchaingo_error"] = truncate(returned.Error(), maxOutcomeErrorChars)
			} else {
				op.Output["langchaingo_error"] = nil
			}
			if err := deadlineCheck(callCtx, returned); err != nil {
				op.Output["outcome"] = "error"
				op.Output["error_kind"] = errorKind(callCtx, err)
				op.Output["error"] = truncate(err.Error(), maxOutcomeErrorChars)
				if returned == nil {
					op.Output["returned_chars"] = len([]rune(text))
				}
				return nil
			}
			op.Output["outcome"] = "completed"
			op.Output["text"] = text
			return nil
		})
		// The server must still answer after the abandoned request.
		rec.Op("health", func(op *Op) error {
			text, err := llms.GenerateFromSinglePrompt(ctx, llm, healthPrompt, healthOpts...)
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

// agentRunnerFor builds the runner of agent.single (one LLM client; executors and tools per
// run) as the set-up step.
func agentRunnerFor(p *Params, e *Endpoints, rec *Recorder) (*agentRunner, error) {
	if err := checkAgentParams(p); err != nil {
		return nil, err
	}
	if p.Iterations <= 0 {
		return nil, errors.New("params.iterations must be positive")
	}
	runner := &agentRunner{params: p, opts: chainOptions(p)}
	err := rec.Setup(func() (err error) {
		runner.llm, err = newLLM(e)
		return err
	})
	return runner, err
}

// toolFailure: the tool of kind params.failing_tool returns an error with
// params.failure_message, as a failing Go tool does. langchaingo's executor returns a tool's
// error from Call (executor.go doAction), so the run ends with it: "surfaced". Were the run
// to finish anyway, it would be "recovered".
func toolFailure(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	if p.FailingTool == "" || p.FailureMessage == "" {
		return errors.New("params.failing_tool and params.failure_message are required")
	}
	failure := errors.New(p.FailureMessage)
	cfg := agentConfig{tools: []toolOption{withFailingTool(p.FailingTool, failure)}}
	// A failing_tool that names no tool is a bad request, not the agent's failure.
	if _, err := makeTools(p.Tools, &Counter{}, cfg.tools...); err != nil {
		return err
	}
	runner, err := agentRunnerFor(p, e, rec)
	if err != nil {
		return err
	}
	rec.Begin()
	for range p.Loop() {
		rec.Op("agent", func(op *Op) error {
			out := map[string]any{}
			if err := runner.runWith(ctx, p.Question, out, cfg); err != nil {
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

// parseComplaint is the observation the parser-error handler gives the model for a reply it
// could not parse, in the words of LangChain Python's ReAct parser (handle_parsing_errors=
// True sends the model its parser's observation). langchaingo's handler passes its error
// text to this formatter; without one, the observation would be langchaingo's own error,
// "unable to parse agent output: <the reply>".
func parseComplaint(langchaingoError string) string {
	reply := strings.TrimPrefix(langchaingoError, agents.ErrUnableToParseOutput.Error()+":")
	if strings.Contains(strings.ToLower(reply), "action:") {
		return "Invalid Format: Missing 'Action Input:' after 'Action:'"
	}
	return "Invalid Format: Missing 'Action:' after 'Thought:'"
}

// parseError runs agent.single's question on a model whose first ReAct reply cannot be
// parsed. With params.handle_parsing_errors, langchaingo's equivalent of LangChain Python's
// handle_parsing_errors=True is used: agents.WithParserErrorHandler, which turns the parse
// error into an observation and lets the agent try again.
func parseError(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	runner, err := agentRunnerFor(p, e, rec)
	if err != nil {
		return err
	}
	var cfg agentConfig
	if p.HandleParseErr {
		cfg.parseErrors = agents.NewParserErrorHandler(parseComplaint)
	}
	rec.Begin()
	for range p.Loop() {
		rec.Op("agent", func(op *Op) error {
			out := map[string]any{}
			if err := runner.runWith(ctx, p.Question, out, cfg); err != nil {
				op.Output["outcome"] = "error"
				op.Output["error_kind"] = errorKind(ctx, err)
				op.Output["error"] = truncate(err.Error(), maxOutcomeErrorChars)
				op.Output["parse_error"] = errors.Is(err, agents.ErrUnableToParseOutput)
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
