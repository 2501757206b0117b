package main

// A ReAct agent loop written for the baseline, doing what the frameworks' zero-shot ReAct
// agents do with the classic prompt (params.react_prompt): the tools rendered into the
// prompt, one /api/generate call per step stopped before the model invents an observation,
// the reply parsed into an action or a final answer, the tool's observation appended to the
// scratchpad, at most max_iterations steps. The scratchpad, stop sequence, parser and
// parse-error feedback follow the classic ReAct agent (LangChain's create_react_agent,
// whose prompt this is) word for word; langchaingo differs in small ways (its README).

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// reactStop ends each step where the model would start writing the observation itself.
const reactStop = "\nObservation"

const finalAnswerMarker = "Final Answer:"

// The parse-error observations the model is shown, and the one for a reply that has both an
// action and a final answer.
const (
	msgMissingAction      = "Invalid Format: Missing 'Action:' after 'Thought:'"
	msgMissingActionInput = "Invalid Format: Missing 'Action Input:' after 'Action:'"
	msgIncomplete         = "Invalid or incomplete response"
)

var (
	reAction      = regexp.MustCompile(`(?s)Action\s*\d*\s*:[\s]*(.*?)Action\s*\d*\s*Input\s*\d*\s*:[\s]*(.*)`)
	reActionOnly  = regexp.MustCompile(`(?s)Action\s*\d*\s*:[\s]*(.*?)`)
	reActionInput = regexp.MustCompile(`(?s)[\s]*Action\s*\d*\s*Input\s*\d*\s*:[\s]*(.*)`)
)

// ParseError is a reply the parser could not read. Observation is what the model is told
// when parse errors are fed back.
type ParseError struct {
	Reply       string
	Observation string
	Reason      string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s: `%s`", e.Reason, e.Reply)
}

// Step is a parsed reply: an action (Tool, Input), or a final answer (Final true, Answer).
type Step struct {
	Final  bool
	Answer string
	Tool   string
	Input  string
}

// parseReply reads one ReAct reply as the classic ReAct parser does.
func parseReply(reply string) (Step, error) {
	hasAnswer := strings.Contains(reply, finalAnswerMarker)
	if m := reAction.FindStringSubmatch(reply); m != nil {
		if hasAnswer {
			return Step{}, &ParseError{Reply: reply, Observation: msgIncomplete,
				Reason: "Parsing LLM output produced both a final answer and a parse-able action"}
		}
		input := strings.Trim(strings.Trim(m[2], " "), `"`)
		return Step{Tool: strings.TrimFunc(m[1], isPySpace), Input: input}, nil
	}
	if hasAnswer {
		parts := strings.Split(reply, finalAnswerMarker)
		return Step{Final: true, Answer: strings.TrimFunc(parts[len(parts)-1], isPySpace)}, nil
	}
	switch {
	case !reActionOnly.MatchString(reply):
		return Step{}, &ParseError{Reply: reply, Observation: msgMissingAction, Reason: "Could not parse LLM output"}
	case !reActionInput.MatchString(reply):
		return Step{}, &ParseError{Reply: reply, Observation: msgMissingActionInput, Reason: "Could not parse LLM output"}
	}
	return Step{}, &ParseError{Reply: reply, Observation: msgIncomplete, Reason: "Could not parse LLM output"}
}

// Tool is one tool the agent may call. Run's error aborts the run (see Agent.Run).
type Tool struct {
	Name        string
	Description string
	Run         func(input string) (string, error)
}

// ToolCall is one tool call of a run, as the harness reads it.
type ToolCall struct {
	Tool        string `json:"tool"`
	Input       string `json:"input"`
	Observation string `json:"observation"`
}

// AgentRun is what one run did: the answer, every tool call, the replies it could not parse.
type AgentRun struct {
	Answer      string
	Calls       []ToolCall
	ParseErrors int
}

// iterationLimitAnswer is the answer of a run that used max_iterations steps without a final
// answer: the classic agent's words (as the Python baseline's), an answer the scenario's
// verification rejects rather than an error that would hide the steps taken.
const iterationLimitAnswer = "Agent stopped due to iteration limit or time limit."

// ToolError is a tool's failure, which ends the run.
type ToolError struct {
	Tool string
	Err  error
}

func (e *ToolError) Error() string { return fmt.Sprintf("tool %s: %v", e.Tool, e.Err) }
func (e *ToolError) Unwrap() error { return e.Err }

// Agent runs ReAct over one model client. Safe for concurrent runs: a run's state is its own.
type Agent struct {
	llm      *Ollama
	template *fstring
	opts     Sampling
	maxIter  int
	// feedParseErrors: an unparsable reply becomes an observation (the parser's complaint)
	// and the run goes on; otherwise it ends the run with the parse error.
	feedParseErrors bool
}

// newAgent compiles the prompt (it must have {tools}, {tool_names}, {input} and
// {agent_scratchpad}) and fixes the sampling options and step limit.
func newAgent(llm *Ollama, p *Params) (*Agent, error) {
	if p.ReactPrompt == "" || p.Question == "" {
		return nil, errors.New("params.react_prompt and params.question are required")
	}
	if p.MaxIter <= 0 {
		return nil, fmt.Errorf("params.max_iterations must be positive, got %d", p.MaxIter)
	}
	template, err := compileFString(p.ReactPrompt)
	if err != nil {
		return nil, fmt.Errorf("params.react_prompt: %w", err)
	}
	for _, field := range []string{"tools", "tool_names", "input", "agent_scratchpad"} {
		if !template.fields[field] {
			return nil, fmt.Errorf("params.react_prompt has no {%s}", field)
		}
	}
	return &Agent{llm: llm, template: template, opts: sampling(p).withStop(reactStop), maxIter: p.MaxIter}, nil
}

// toolsText is the prompt's {tools} ("Name: description" per line, the specification's
// rendering, as the Python baseline's) and {tool_names}
// (comma-separated).
func toolsText(tools []Tool) (string, string) {
	lines := make([]string, len(tools))
	names := make([]string, len(tools))
	for i, t := range tools {
		lines[i] = t.Name + ": " + t.Description
		names[i] = t.Name
	}
	return strings.Join(lines, "\n"), strings.Join(names, ", ")
}

// Run answers question with tools. The result holds whatever was done even when the run
// fails (a tool error, an unparsable reply without feedback, the step limit, a failed call).
// obs, if not nil, sees the run, every model call and tool call, and every action and
// answer.
func (a *Agent) Run(ctx context.Context, question string, tools []Tool, obs Observer) (run AgentRun, err error) {
	byName := make(map[string]Tool, len(tools))
	for _, t := range tools {
		byName[t.Name] = t
	}
	described, names := toolsText(tools)
	prompt := a.template.partial(map[string]string{"tools": described, "tool_names": names, "input": question})
	if obs != nil {
		ctx = obs.Start(ctx, KindChain, "agent", question)
		defer func() { obs.End(ctx, KindChain, "agent", run.Answer, err) }()
	}
	var scratchpad strings.Builder
	for range a.maxIter {
		text, err := prompt.render(map[string]string{"agent_scratchpad": scratchpad.String()})
		if err != nil {
			return run, err
		}
		reply, err := a.generate(ctx, text, obs)
		if err != nil {
			return run, err
		}
		step, err := parseReply(reply)
		var observation string
		switch {
		case err != nil:
			var pe *ParseError
			if !a.feedParseErrors || !errors.As(err, &pe) {
				return run, err
			}
			run.ParseErrors++
			observation = pe.Observation
		case step.Final:
			run.Answer = step.Answer
			if obs != nil {
				obs.Event(ctx, KindAgentFinish, step.Answer)
			}
			return run, nil
		default:
			if obs != nil {
				obs.Event(ctx, KindAgentAction, step.Tool+": "+step.Input)
			}
			tool, ok := byName[step.Tool]
			if !ok {
				observation = fmt.Sprintf("%s is not a valid tool, try one of [%s].", step.Tool, names)
				break
			}
			observation, err = callTool(ctx, tool, step.Input, obs)
			if err != nil {
				return run, &ToolError{Tool: tool.Name, Err: err}
			}
			run.Calls = append(run.Calls, ToolCall{Tool: tool.Name, Input: step.Input, Observation: observation})
		}
		scratchpad.WriteString(reply + "\nObservation: " + observation + "\nThought: ")
	}
	run.Answer = iterationLimitAnswer
	return run, nil
}

// generate is one model call of a run.
func (a *Agent) generate(ctx context.Context, prompt string, obs Observer) (reply string, err error) {
	if obs != nil {
		ctx = obs.Start(ctx, KindLLM, a.llm.model, prompt)
		defer func() { obs.End(ctx, KindLLM, a.llm.model, reply, err) }()
	}
	return a.llm.Generate(ctx, prompt, a.opts)
}

// callTool is one tool call of a run.
func callTool(ctx context.Context, tool Tool, input string, obs Observer) (out string, err error) {
	if obs != nil {
		ctx = obs.Start(ctx, KindTool, tool.Name, input)
		defer func() { obs.End(ctx, KindTool, tool.Name, out, err) }()
	}
	return tool.Run(input)
}
