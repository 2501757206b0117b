package main

import "fmt"

// toolKinds are the spec's tools in the order the prompt lists them: params.tools names
// and describes each kind.
var toolKinds = []string{"word", "calc", "counter"}

// makeTools builds the three tools over one run's counter. failing, if not empty, names the
// kind whose tool returns failure instead of its result (resilience.tool_failure): the only
// tool that can fail; the others turn every input into an observation.
func makeTools(spec map[string]ToolSpec, counter *Counter, failing string, failure error) ([]Tool, error) {
	funcs := map[string]func(string) string{"word": WordLength, "calc": Calculate, "counter": counter.Increment}
	if _, ok := funcs[failing]; failing != "" && !ok {
		return nil, fmt.Errorf("no %q tool to fail (word, calc, counter)", failing)
	}
	tools := make([]Tool, 0, len(toolKinds))
	for _, kind := range toolKinds {
		s, ok := spec[kind]
		if !ok || s.Name == "" {
			return nil, fmt.Errorf("params.tools lacks the %q tool", kind)
		}
		fn := funcs[kind]
		run := func(input string) (string, error) { return fn(input), nil }
		if kind == failing {
			run = func(string) (string, error) { return "", failure }
		}
		tools = append(tools, Tool{Name: s.Name, Description: s.Description, Run: run})
	}
	return tools, nil
}
