package main

// Agent and workflow scenarios with the article's LangChainGo pieces: a zero-shot ReAct
// agent (agents.NewOneShotAgent + agents.NewExecutor) over three local tools, and a router
// workflow built from explicit chains.LLMChain values (router chain, then the math or prose
// chain).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/tmc/langchaingo/agents"
	"github.com/tmc/langchaingo/callbacks"
	"github.com/tmc/langchaingo/chains"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/prompts"
	"github.com/tmc/langchaingo/schema"
	"github.com/tmc/langchaingo/tools"
)

// fstringPrompt is a langchaingo prompt template over a Python-style ({name}) template, the
// form the scenario parameters carry so every contestant sends the model the same words.
func fstringPrompt(template string, inputs []string) prompts.PromptTemplate {
	tmpl := prompts.NewPromptTemplate(template, inputs)
	tmpl.TemplateFormat = prompts.TemplateFormatFString
	return tmpl
}

// reactPrompt is params.react_prompt with the tools filled in the way LangChain Python's
// create_react_agent does (render_text_description): {tools} one "name - description" line
// per tool, {tool_names} comma-separated. Python also writes each tool function's Python
// signature after the name ("WordLengthTool(text: 'str') -> 'str' - ..."), which has no Go
// equivalent and is left out. langchaingo supplies {input} and {agent_scratchpad}.
func reactPrompt(template string, ts []tools.Tool) prompts.PromptTemplate {
	descriptions := make([]string, len(ts))
	names := make([]string, len(ts))
	for i, t := range ts {
		descriptions[i] = t.Name() + " - " + t.Description()
		names[i] = t.Name()
	}
	tmpl := fstringPrompt(template, []string{"input", "agent_scratchpad"})
	tmpl.PartialVariables = map[string]any{
		"tools":      strings.Join(descriptions, "\n"),
		"tool_names": strings.Join(names, ", "),
	}
	return tmpl
}

// fallbackEnv, when set to 1, turns the empty-input fallback below on. By default the agent
// runs with langchaingo's parser exactly as released: the article's Go side, as shipped. (The
// scripted synthetic model writes a value after every "Action Input:", so the stock parser
// handles every spec scenario.)
const fallbackEnv = "CHAINMARK_LANGCHAINGO_PARSE_FALLBACK"

// emptyInputAction is a ReAct step whose Action Input is empty ("Action Input:" ending the
// reply), after the chain has trimmed the reply.
var emptyInputAction = regexp.MustCompile(`(?i)Action:[ \t]*([^\n]*?)\s*\nAction\s*Input:\s*$`)

// fallbackAgent is langchaingo's zero-shot ReAct agent with one addition. langchaingo
// v0.1.14 cannot parse a tool call without an argument: its LLMChain trims the reply, and
// the MRKL output regex needs at least one character after "Action Input:", so a reply
// ending in "Action Input: " fails with ErrUnableToParseOutput and the executor stops.
// LangChain Python's ReAct parser reads it as the empty input. The fallback gives such a
// reply the same reading (and nothing else), and counts how often it did, so the report
// can show the difference (output "parse_fallbacks").
type fallbackAgent struct {
	*agents.OneShotZeroAgent
	fallbacks int
}

// Plan is the agent's own Plan, with the empty-input reading where it could not parse.
func (a *fallbackAgent) Plan(ctx context.Context, steps []schema.AgentStep,
	inputs map[string]string, options ...chains.ChainCallOption,
) ([]schema.AgentAction, *schema.AgentFinish, error) {
	actions, finish, err := a.OneShotZeroAgent.Plan(ctx, steps, inputs, options...)
	if !errors.Is(err, agents.ErrUnableToParseOutput) {
		return actions, finish, err
	}
	// The error carries the reply: "unable to parse agent output: <reply>".
	reply := strings.TrimPrefix(err.Error(), agents.ErrUnableToParseOutput.Error()+": ")
	m := emptyInputAction.FindStringSubmatch(reply)
	if m == nil || strings.TrimSpace(m[1]) == "" {
		return actions, finish, err
	}
	a.fallbacks++
	return []schema.AgentAction{{Tool: strings.TrimSpace(m[1]), ToolInput: "", Log: reply}}, nil, nil
}

// agentRunner holds what agent runs share: the LLM client and the options.
type agentRunner struct {
	params *Params
	llm    llms.Model
	opts   []chains.ChainCallOption
}

// agentConfig varies one run for the stress, resilience and operations scenarios; its zero
// value is the plain agent of agent.*.
type agentConfig struct {
	// llm replaces the runner's client (observability: a client that reports to handler).
	llm llms.Model
	// handler is given to the agent, its LLM chain, the executor and the tools.
	handler callbacks.Handler
	// tools changes how the tools are built (e.g. one that fails).
	tools []toolOption
	// parseErrors, if set, is the executor's parser-error handler: an unparsable reply
	// becomes an observation instead of ending the run.
	parseErrors *agents.ParserErrorHandler
}

// run builds a fresh executor over fresh tools and one fresh counter, as the Python
// contestant does per run, and asks the question. The output is filled even when the
// executor fails (e.g. it ran out of iterations), so the report shows how far it got.
func (r *agentRunner) run(ctx context.Context, question string, output map[string]any) error {
	return r.runWith(ctx, question, output, agentConfig{})
}

// runWith is run with cfg's changes. With a parser-error handler, the steps langchaingo adds
// for replies it could not parse (no action, the complaint as observation) are counted in
// output["parse_errors"] and left out of the tool calls, as LangChain Python's "_Exception"
// steps are by the Python contestant.
func (r *agentRunner) runWith(ctx context.Context, question string, output map[string]any,
	cfg agentConfig,
) error {
	counter := &Counter{}
	toolOpts := cfg.tools
	if cfg.handler != nil {
		toolOpts = append(append([]toolOption{}, toolOpts...), withToolHandler(cfg.handler))
	}
	ts, err := makeTools(r.params.Tools, counter, toolOpts...)
	if err != nil {
		return err
	}
	llm := r.llm
	if cfg.llm != nil {
		llm = cfg.llm
	}
	agentOpts := []agents.Option{agents.WithPrompt(reactPrompt(r.params.ReactPrompt, ts))}
	executorOpts := []agents.Option{
		agents.WithMaxIterations(r.params.MaxIter),
		agents.WithReturnIntermediateSteps(),
	}
	if cfg.handler != nil {
		agentOpts = append(agentOpts, agents.WithCallbacksHandler(cfg.handler))
		executorOpts = append(executorOpts, agents.WithCallbacksHandler(cfg.handler))
	}
	if cfg.parseErrors != nil {
		executorOpts = append(executorOpts, agents.WithParserErrorHandler(cfg.parseErrors))
	}
	var agent agents.Agent = agents.NewOneShotAgent(llm, ts, agentOpts...)
	var fallback *fallbackAgent
	if os.Getenv(fallbackEnv) == "1" {
		fallback = &fallbackAgent{OneShotZeroAgent: agent.(*agents.OneShotZeroAgent)}
		agent = fallback
	}
	executor := agents.NewExecutor(agent, executorOpts...)
	result, runErr := chains.Call(ctx, executor, map[string]any{"input": question}, r.opts...)
	calls := []map[string]any{}
	parseErrors := 0
	if steps, ok := result["intermediateSteps"].([]schema.AgentStep); ok {
		for _, s := range steps {
			if cfg.parseErrors != nil && s.Action.Tool == "" && s.Action.Log == "" {
				parseErrors++
				continue
			}
			calls = append(calls, map[string]any{
				"tool": s.Action.Tool,
				// What the executor handed the tool.
				"input":       strings.TrimSuffix(s.Action.ToolInput, "\nObservation:"),
				"observation": s.Observation,
			})
		}
	}
	text, _ := result["output"].(string)
	output["text"] = text
	output["tool_calls"] = calls
	output["counter"] = counter.Value()
	if cfg.parseErrors != nil {
		output["parse_errors"] = parseErrors
	}
	if fallback != nil {
		output["parse_fallbacks"] = fallback.fallbacks
	}
	if runErr != nil {
		return runErr
	}
	if _, ok := result["output"].(string); !ok {
		return errors.New("the agent returned no output")
	}
	return nil
}

// checkAgentParams checks what every agent scenario needs.
func checkAgentParams(p *Params) error {
	if p.ReactPrompt == "" || p.Question == "" {
		return errors.New("params.react_prompt and params.question are required")
	}
	if p.MaxIter <= 0 {
		return fmt.Errorf("params.max_iterations must be positive, got %d", p.MaxIter)
	}
	return nil
}

func runAgent(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	if err := checkAgentParams(p); err != nil {
		return err
	}
	// The LLM client is built once; executors and tools per run (part of a request's cost in
	// the article's code too).
	runner := &agentRunner{params: p, opts: chainOptions(p)}
	if err := rec.Setup(func() (err error) {
		runner.llm, err = newLLM(e)
		return err
	}); err != nil {
		return err
	}
	for range p.Warmup {
		if err := runner.run(ctx, p.Question, map[string]any{}); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	rec.Begin()
	for range p.Loop() {
		rec.Op("agent", func(op *Op) error {
			return runner.run(ctx, p.Question, op.Output)
		})
	}
	rec.End()
	return nil
}

// routeLabel is the router's decision: "math" if its answer starts with it, else "prose"
// (the fallback a MultiPromptChain would take).
func routeLabel(raw string) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(raw)), "math") {
		return "math"
	}
	return "prose"
}

func workflowRouter(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	if p.RouterPrmt == "" || p.MathPrompt == "" || p.ProsePrompt == "" {
		return errors.New("params.router_prompt, math_prompt and prose_prompt are required")
	}
	var router *chains.LLMChain
	destinations := map[string]*chains.LLMChain{}
	if err := rec.Setup(func() error {
		llm, err := newLLM(e)
		if err != nil {
			return err
		}
		router = chains.NewLLMChain(llm, fstringPrompt(p.RouterPrmt, []string{"input"}))
		destinations["math"] = chains.NewLLMChain(llm, fstringPrompt(p.MathPrompt, []string{"input"}))
		destinations["prose"] = chains.NewLLMChain(llm, fstringPrompt(p.ProsePrompt, []string{"input"}))
		return nil
	}); err != nil {
		return err
	}
	opts := chainOptions(p)
	text := func(chain *chains.LLMChain, query string) (string, error) {
		out, err := chains.Call(ctx, chain, map[string]any{"input": query}, opts...)
		if err != nil {
			return "", err
		}
		s, ok := out[chain.OutputKey].(string)
		if !ok {
			return "", fmt.Errorf("chain returned %T, not text", out[chain.OutputKey])
		}
		return s, nil
	}
	route := func(query string, output map[string]any) error {
		raw, err := text(router, query)
		if err != nil {
			return fmt.Errorf("router: %w", err)
		}
		choice := routeLabel(raw)
		output["query"] = query
		output["route"] = choice
		output["router_output"] = raw
		answer, err := text(destinations[choice], query)
		if err != nil {
			return fmt.Errorf("%s chain: %w", choice, err)
		}
		output["text"] = answer
		return nil
	}
	for range p.Warmup {
		for _, q := range p.Queries {
			if err := route(q, map[string]any{}); err != nil {
				return fmt.Errorf("warm-up: %w", err)
			}
		}
	}
	rec.Begin()
	for range p.Loop() {
		for _, q := range p.Queries {
			rec.Op("route", func(op *Op) error { return route(q, op.Output) })
		}
	}
	rec.End()
	return nil
}
