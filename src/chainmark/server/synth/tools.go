package synth

import (
	"sort"
	"strconv"
	"strings"
)

// Tool calling (Ollama's and OpenAI's "tools"): the same planner as the ReAct script, with
// the conversation's "tool" messages as the observations.

// kindIndex is the position of a kind in a [3]int of tool indexes.
func kindIndex(kind string) int {
	switch kind {
	case KindWord:
		return 0
	case KindCalc:
		return 1
	}
	return 2
}

// matchTools picks the offered tool for each kind (word, calc, counter; -1: none): first by
// name, as the ReAct script reads names, then by description for the kinds still missing.
func matchTools(tools []Tool) [3]int {
	found := [3]int{-1, -1, -1}
	taken := make([]bool, len(tools))
	for pass := 0; pass < 2; pass++ {
		for i, t := range tools {
			if taken[i] {
				continue
			}
			text := t.Name
			if pass == 1 {
				text = t.Description
			}
			kind := toolKind(text)
			if kind == "" {
				continue
			}
			if k := kindIndex(kind); found[k] < 0 {
				found[k], taken[i] = i, true
			}
		}
	}
	return found
}

// argumentKey is the parameter a tool call fills: the first required one, else the only (or
// alphabetically first: a decoded JSON object keeps no order) property, else "input".
func argumentKey(params map[string]any) string {
	switch req := params["required"].(type) {
	case []any:
		for _, r := range req {
			if s, ok := r.(string); ok && s != "" {
				return s
			}
		}
	case []string:
		for _, s := range req {
			if s != "" {
				return s
			}
		}
	}
	if props, ok := params["properties"].(map[string]any); ok && len(props) > 0 {
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys[0]
	}
	return "input"
}

// argumentValue is input as the parameter's declared type wants it: a number for "integer"
// or "number" parameters when it reads as one, else the string.
func argumentValue(params map[string]any, key, input string) any {
	props, _ := params["properties"].(map[string]any)
	prop, _ := props[key].(map[string]any)
	switch prop["type"] {
	case "integer":
		if n, err := strconv.ParseInt(input, 10, 64); err == nil {
			return n
		}
	case "number":
		if f, err := strconv.ParseFloat(input, 64); err == nil {
			return f
		}
	}
	return input
}

// toolQuestion is what a user message asks: its last "Question:" line if it has one (a
// ReAct-shaped message), else all of it.
func toolQuestion(content string) string {
	if q, _, ok := lastQuestion(content); ok {
		return q
	}
	return trimPySpace(content)
}

// toolTurn is a tool-calling chat's next move (see Model.Answer): the next tool call
// (call != nil), or the final answer once every planned step has its observation. ok is
// false when the last user message has no plan or no offered tool fits it; the caller then
// answers as without tools. Steps no offered tool serves are dropped, as a model would
// answer those itself; the malformed behaviour calls tools correctly (its malformation is
// the ReAct text format's).
func toolTurn(p Prompt, tools []Tool, behaviour string) (call *ToolCall, final string, ok bool) {
	last := -1
	for i := len(p.Messages) - 1; i >= 0; i-- {
		if strings.EqualFold(p.Messages[i].Role, "user") {
			last = i
			break
		}
	}
	if last < 0 {
		return nil, "", false
	}
	question := toolQuestion(p.Messages[last].Content)
	steps := Plan(question)
	if len(steps) == 0 {
		return nil, "", false
	}
	offered := matchTools(tools)
	usable := steps[:0:0]
	for _, s := range steps {
		if offered[kindIndex(s.Kind)] >= 0 {
			usable = append(usable, s)
		}
	}
	if len(usable) == 0 {
		return nil, "", false
	}
	var results []string
	for _, m := range p.Messages[last+1:] {
		if strings.EqualFold(m.Role, "tool") {
			results = append(results, trimPySpace(m.Content))
		}
	}
	if len(results) < len(usable) {
		step := usable[len(results)]
		tool := tools[offered[kindIndex(step.Kind)]]
		key := argumentKey(tool.Parameters)
		return &ToolCall{
			Name:      tool.Name,
			Arguments: map[string]any{key: argumentValue(tool.Parameters, key, step.Input)},
		}, "", true
	}
	return nil, finalAnswer(question, usable, results, behaviour == BehaviourLiar), true
}

// toolCallTokens is what a tool call counts as generated: its name, the argument and the
// JSON around them, in word-tokens.
func toolCallTokens(call *ToolCall) int {
	n := 2 + CountTokens(call.Name)
	for k, v := range call.Arguments {
		n += CountTokens(k)
		if s, ok := v.(string); ok {
			n += CountTokens(s)
		} else {
			n++
		}
	}
	return n
}
