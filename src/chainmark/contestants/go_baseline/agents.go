package main

// Part 3: the ReAct agent scenarios (react.go) and a router workflow: a router prompt, then
// the math or prose prompt, each one /api/generate call.

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// runAgentOnce runs the agent over fresh tools and one fresh counter (runs never share one)
// and fills output with what the harness verifies, also when the run fails.
func runAgentOnce(ctx context.Context, agent *Agent, p *Params, output map[string]any,
	failing string, failure error, obs Observer,
) error {
	counter := &Counter{}
	tools, err := makeTools(p.Tools, counter, failing, failure)
	if err != nil {
		return err
	}
	run, err := agent.Run(ctx, p.Question, tools, obs)
	calls := run.Calls
	if calls == nil {
		calls = []ToolCall{}
	}
	output["text"] = run.Answer
	output["tool_calls"] = calls
	output["counter"] = counter.Value()
	if agent.feedParseErrors {
		output["parse_errors"] = run.ParseErrors
	}
	return err
}

// agentSetup is the set-up every agent scenario shares: one HTTP client (a pool for conns
// simultaneous runs), one model client, the compiled prompt.
func agentSetup(p *Params, e *Endpoints, rec *Recorder, conns int) (*Agent, error) {
	var agent *Agent
	err := rec.Setup(func() error {
		llm, err := newOllama(e, newHTTPClient(conns))
		if err != nil {
			return err
		}
		agent, err = newAgent(llm, p)
		return err
	})
	return agent, err
}

func runAgent(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	agent, err := agentSetup(p, e, rec, 1)
	if err != nil {
		return err
	}
	for range p.Warmup {
		if err := runAgentOnce(ctx, agent, p, map[string]any{}, "", nil, nil); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	rec.Begin()
	for range p.Loop() {
		rec.Op("agent", func(op *Op) error {
			return runAgentOnce(ctx, agent, p, op.Output, "", nil, nil)
		})
	}
	rec.End()
	return nil
}

// routeLabel is the router's decision: "math" if its answer starts with it, else "prose"
// (where a router with a default destination falls back).
func routeLabel(raw string) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimFunc(raw, isPySpace)), "math") {
		return "math"
	}
	return "prose"
}

// Router sends a query to the router prompt, then to the chosen route's prompt.
type Router struct {
	llm    *Ollama
	opts   Sampling
	router *fstring
	routes map[string]*fstring
}

func newRouter(llm *Ollama, p *Params) (*Router, error) {
	if p.RouterPrmt == "" || p.MathPrompt == "" || p.ProsePrompt == "" {
		return nil, errors.New("params.router_prompt, math_prompt and prose_prompt are required")
	}
	r := &Router{llm: llm, opts: sampling(p), routes: map[string]*fstring{}}
	var err error
	if r.router, err = compileFString(p.RouterPrmt); err != nil {
		return nil, fmt.Errorf("params.router_prompt: %w", err)
	}
	for name, template := range map[string]string{"math": p.MathPrompt, "prose": p.ProsePrompt} {
		if r.routes[name], err = compileFString(template); err != nil {
			return nil, fmt.Errorf("params.%s_prompt: %w", name, err)
		}
	}
	return r, nil
}

// ask fills template with the query and returns the model's answer.
func (r *Router) ask(ctx context.Context, template *fstring, query string) (string, error) {
	prompt, err := template.render(map[string]string{"input": query})
	if err != nil {
		return "", err
	}
	return r.llm.Generate(ctx, prompt, r.opts)
}

// Route answers query through the route the router picks, filling output.
func (r *Router) Route(ctx context.Context, query string, output map[string]any) error {
	raw, err := r.ask(ctx, r.router, query)
	if err != nil {
		return fmt.Errorf("router: %w", err)
	}
	choice := routeLabel(raw)
	output["query"] = query
	output["route"] = choice
	output["router_output"] = raw
	answer, err := r.ask(ctx, r.routes[choice], query)
	if err != nil {
		return fmt.Errorf("%s prompt: %w", choice, err)
	}
	output["text"] = answer
	return nil
}

func workflowRouter(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	var router *Router
	if err := rec.Setup(func() error {
		llm, err := newOllama(e, newHTTPClient(1))
		if err != nil {
			return err
		}
		router, err = newRouter(llm, p)
		return err
	}); err != nil {
		return err
	}
	for range p.Warmup {
		for _, q := range p.Queries {
			if err := router.Route(ctx, q, map[string]any{}); err != nil {
				return fmt.Errorf("warm-up: %w", err)
			}
		}
	}
	rec.Begin()
	for range p.Loop() {
		for _, q := range p.Queries {
			rec.Op("route", func(op *Op) error { return router.Route(ctx, q, op.Output) })
		}
	}
	rec.End()
	return nil
}
