package synth

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// reactPromptPython is the classic ReAct prompt (hwchase17/react) as chainmark's scenarios
// send it; LangChain Python fills {tools} and {tool_names} (create_react_agent) and writes
// the scratchpad with format_log_to_str.
const reactPromptPython = `Answer the following questions as best you can. You have access to the following tools:

{tools}

Use the following format:

Question: the input question you must answer
Thought: you should always think about what to do
Action: the action to take, should be one of [{tool_names}]
Action Input: the input to the action
Observation: the result of the action
... (this Thought/Action/Action Input/Observation can repeat N times)
Thought: I now know the final answer
Final Answer: the final answer to the original input question

Begin!

Question: {input}
Thought:{agent_scratchpad}`

// mrklPromptGo is LangChainGo's default one-shot (MRKL) prompt: prefix, format
// instructions and suffix joined by blank lines, its scratchpad from constructScratchPad.
const mrklPromptGo = `Answer the following questions as best you can. You have access to the following tools:

{tool_descriptions}

Use the following format:

Question: the input question you must answer
Thought: you should always think about what to do
Action: the action to take, should be one of [ {tool_names} ]
Action Input: the input to the action
Observation: the result of the action
... (this Thought/Action/Action Input/Observation can repeat N times)
Thought: I now know the final answer
Final Answer: the final answer to the original input question

Begin!

Question: {input}
{agent_scratchpad}`

type agentStyle struct {
	name string
	// render fills the template for the tools, question and steps so far.
	render func(names []string, question string, steps []agentStep) string
	// complaint is the framework's observation for a reply it cannot parse.
	complaint string
	stop      []string
}

type agentStep struct {
	log, observation string
}

var (
	actionRE    = regexp.MustCompile(`(?s)Action\s*\d*\s*:[\s]*(.*?)[\s]*Action\s*\d*\s*Input\s*\d*\s*:[\s]*(.*)`)
	pythonStyle = agentStyle{
		name: "langchain-python",
		render: func(names []string, question string, steps []agentStep) string {
			var tools []string
			for _, n := range names {
				tools = append(tools, n+"(text: 'str') -> 'str' - "+toolSpecs[n])
			}
			var pad strings.Builder
			for _, s := range steps {
				pad.WriteString(s.log + "\nObservation: " + s.observation + "\nThought: ")
			}
			r := strings.NewReplacer("{tools}", strings.Join(tools, "\n"),
				"{tool_names}", strings.Join(names, ", "), "{input}", question,
				"{agent_scratchpad}", pad.String())
			return r.Replace(reactPromptPython)
		},
		complaint: "Invalid Format: Missing 'Action Input:' after 'Action:'",
		stop:      []string{"\nObservation"},
	}
	goStyle = agentStyle{
		name: "langchaingo",
		render: func(names []string, question string, steps []agentStep) string {
			var tools strings.Builder
			for _, n := range names {
				tools.WriteString("- " + n + ": " + toolSpecs[n] + "\n")
			}
			var pad string
			if len(steps) > 0 {
				for _, s := range steps {
					pad += s.log + "\nObservation: " + s.observation
				}
				pad += "\nThought:"
			}
			r := strings.NewReplacer("{tool_descriptions}", tools.String(),
				"{tool_names}", strings.Join(names, ", "), "{input}", question,
				"{agent_scratchpad}", pad)
			return r.Replace(mrklPromptGo)
		},
		complaint: "unable to parse agent output: I should use a tool now.",
		stop:      []string{"\nObservation:", "\n\tObservation:"},
	}
	toolSpecs = map[string]string{
		"WordLengthTool":   "Calculates the character length of a single word. Input must be one word.",
		"SimpleCalculator": "A simple calculator that can evaluate basic arithmetic expressions like '1+2*3'.",
		"CounterTool":      "Increments a global counter by one and returns the new value.",
		"word_len":         "How many characters a word has.",
		"calc":             "Arithmetic.",
		"tally":            "Counts calls.",
	}
)

// runTool is the spec's tools, as the contestants implement them.
func runTool(name, input string, counter *int) string {
	input = strings.Trim(strings.TrimSpace(input), "'\"`")
	switch toolKind(name) {
	case KindWord:
		return strconv.Itoa(utf8.RuneCountInString(input))
	case KindCalc:
		n, err := Evaluate(input)
		if err != nil {
			return "Error: " + err.Error()
		}
		return n.String()
	case KindCounter:
		*counter++
		return strconv.Itoa(*counter)
	}
	return "no such tool " + name
}

type agentRun struct {
	answer  string
	calls   []string // "Tool(input)=observation"
	replies int
	counter int
	parse   int
}

// runAgent plays a ReAct executor against the model until a Final Answer.
func runAgent(t *testing.T, m *Model, style agentStyle, names []string, question string) agentRun {
	t.Helper()
	var run agentRun
	var steps []agentStep
	for run.replies < 60 {
		prompt := style.render(names, question, steps)
		a := m.Answer(userPrompt(prompt), Options{Seed: 42, NumPredict: 256, Stop: style.stop}, nil, nil)
		run.replies++
		reply := join(a.Tokens)
		if a.DoneReason != "stop" {
			t.Fatalf("%s: reply cut: %q", style.name, reply)
		}
		if i := strings.Index(reply, "Final Answer:"); i >= 0 {
			run.answer = strings.TrimSpace(reply[i+len("Final Answer:"):])
			return run
		}
		m := actionRE.FindStringSubmatch(reply)
		if m == nil {
			run.parse++
			log := reply
			if style.name == "langchaingo" {
				log = "" // langchaingo's parser-error step has no log
			}
			steps = append(steps, agentStep{log: log, observation: style.complaint})
			continue
		}
		tool, input := strings.TrimSpace(m[1]), strings.Trim(strings.TrimSpace(m[2]), `"`)
		obs := runTool(tool, input, &run.counter)
		run.calls = append(run.calls, tool+"("+input+")="+obs)
		log := reply
		if style.name == "langchaingo" {
			log = strings.TrimSpace(reply) // its LLMChain trims the reply
		}
		steps = append(steps, agentStep{log: log, observation: obs})
	}
	t.Fatalf("%s: no final answer after %d replies", style.name, run.replies)
	return run
}

var numberRE = regexp.MustCompile(`-?\d+(?:\.\d+)?`)

func numbersIn(s string) map[string]bool {
	out := map[string]bool{}
	for _, n := range numberRE.FindAllString(s, -1) {
		out[n] = true
	}
	return out
}

func TestReActAgentsReachTheRightAnswer(t *testing.T) {
	standard := []string{"WordLengthTool", "SimpleCalculator", "CounterTool"}
	renamed := []string{"tally", "word_len", "calc"}
	for _, style := range []agentStyle{pythonStyle, goStyle} {
		for _, c := range []struct {
			names    []string
			question string
			calls    []string
			numbers  []string
		}{
			{standard, "What is the character length of the word 'phenomenon'?",
				[]string{"WordLengthTool(phenomenon)=10"}, []string{"10"}},
			{standard, "What is 25 multiplied by 4, and what is the character length of the word 'knowledge'?",
				[]string{"SimpleCalculator(25*4)=100", "WordLengthTool(knowledge)=9"}, []string{"100", "9"}},
			{standard, "Using the CounterTool, count from 1 to 5 by calling the tool for each number.",
				[]string{"CounterTool(1)=1", "CounterTool(2)=2", "CounterTool(3)=3", "CounterTool(4)=4", "CounterTool(5)=5"},
				[]string{"5"}},
			{standard, "What is 17 plus 26, and what is the character length of the word 'cat'?",
				[]string{"SimpleCalculator(17+26)=43", "WordLengthTool(cat)=3"}, []string{"43", "3"}},
			{standard, "What is 7 divided by 2?", []string{"SimpleCalculator(7/2)=3.5"}, []string{"3.5"}},
			{renamed, "What is 3 times 4 and the length of the word \"zebra\"?",
				[]string{"calc(3*4)=12", "word_len(zebra)=5"}, []string{"12", "5"}},
			{standard, "Tell me a joke.", nil, nil},
		} {
			run := runAgent(t, zeroModel(BehaviourCorrect, 250), style, c.names, c.question)
			if strings.Join(run.calls, " ") != strings.Join(c.calls, " ") {
				t.Errorf("%s %q: calls %v, want %v", style.name, c.question, run.calls, c.calls)
			}
			got := numbersIn(run.answer)
			for _, n := range c.numbers {
				if !got[n] {
					t.Errorf("%s %q: answer %q lacks %s", style.name, c.question, run.answer, n)
				}
			}
			if len(c.calls) == 0 && !strings.Contains(run.answer, "cannot break") {
				t.Errorf("no plan should say so: %q", run.answer)
			}
			if run.parse != 0 {
				t.Errorf("%s: %d parse errors from the correct model", style.name, run.parse)
			}
		}
	}
}

func TestCountingIsBounded(t *testing.T) {
	run := runAgent(t, zeroModel(BehaviourCorrect, 10), pythonStyle,
		[]string{"WordLengthTool", "SimpleCalculator", "CounterTool"},
		"Count from 1 to 1000000 with the counter.")
	if run.counter != MaxCountSteps || !strings.Contains(run.answer, "I counted to 50 with 50 counter calls") {
		t.Fatalf("counter %d, answer %q", run.counter, run.answer)
	}
	if len(Plan("count from 9 to 3")) != 0 {
		t.Fatal("a backwards count plans nothing")
	}
	steps := Plan("count from 99999999999999999999 to 100000000000000000001")
	if len(steps) != 3 || steps[2].Input != "100000000000000000001" {
		t.Fatalf("big counts: %+v", steps)
	}
	if len(Plan("count from "+strings.Repeat("1", 5000)+" to 2")) != 0 {
		t.Fatal("a bound too long to read plans nothing")
	}
	steps = Plan(strings.Repeat("count from 9 to 1, ", 2000) + "count from 007 to 8")
	if len(steps) != 2 || steps[0].Input != "7" || steps[1].Input != "8" {
		t.Fatalf("empty counts take no room: %+v", steps)
	}
	if n := len(Plan(strings.Repeat("1+1 ", 5000))); n != MaxPlanSteps {
		t.Fatalf("a plan has at most MaxPlanSteps steps: %d", n)
	}
}

func TestLiarIsOffByOne(t *testing.T) {
	names := []string{"WordLengthTool", "SimpleCalculator", "CounterTool"}
	for _, style := range []agentStyle{pythonStyle, goStyle} {
		run := runAgent(t, zeroModel(BehaviourLiar, 250), style, names,
			"What is 25 multiplied by 4, and what is the character length of the word 'knowledge'?")
		if len(run.calls) != 2 {
			t.Fatalf("the liar still calls the tools: %v", run.calls)
		}
		got := numbersIn(run.answer)
		if got["100"] || got["9"] || !got["101"] || !got["10"] {
			t.Fatalf("%s liar answer %q", style.name, run.answer)
		}
		run = runAgent(t, zeroModel(BehaviourLiar, 250), style, names, "What is 7 divided by 2?")
		if !strings.Contains(run.answer, "7/2 = 4.5") {
			t.Fatalf("liar float %q", run.answer)
		}
	}
	if got := finalAnswer("q", []Step{{Kind: KindCalc, Input: "1/0"}}, []string{"Error: division by zero"}, true); got != "1/0 = Error: division by zero1." {
		t.Fatalf("a non-number gets a '1': %q", got)
	}
}

func TestMalformedFirstReplyLacksActionInput(t *testing.T) {
	names := []string{"WordLengthTool", "SimpleCalculator", "CounterTool"}
	for _, style := range []agentStyle{pythonStyle, goStyle} {
		m := zeroModel(BehaviourMalformed, 250)
		first := join(m.Answer(userPrompt(style.render(names, "What is the character length of the word 'phenomenon'?", nil)),
			Options{}, nil, nil).Tokens)
		if first != " I should use a tool now.\nAction: SimpleCalculator" {
			t.Fatalf("%s: first reply %q", style.name, first)
		}
		run := runAgent(t, m, style, names, "What is the character length of the word 'phenomenon'?")
		if run.parse != 1 || strings.Join(run.calls, " ") != "WordLengthTool(phenomenon)=10" || !numbersIn(run.answer)["10"] {
			t.Fatalf("%s: parse errors %d, calls %v, answer %q", style.name, run.parse, run.calls, run.answer)
		}
	}
}

func TestRouterAndMathChain(t *testing.T) {
	router := "Given the user query, classify it as either \"math\" or \"prose\". " +
		"Respond with only one of these two words.\nQuery: {input}"
	for query, want := range map[string]string{
		"What is 15 * 12?": "math", "Write a haiku about a sunset.": "prose",
		"Please CALCULATE this": "math", "summary of sums": "prose", "a_sum b": "prose",
	} {
		got, ok := ScriptedReply(strings.ReplaceAll(router, "{input}", query), BehaviourCorrect)
		if !ok || got != want {
			t.Errorf("router %q: %q, want %q", query, got, want)
		}
	}
	m := zeroModel(BehaviourCorrect, 250)
	a := m.Answer(userPrompt(strings.ReplaceAll(router, "{input}", "What is 15 * 12?")), Options{}, nil, nil)
	if join(a.Tokens) != "math" || a.Generated != 1 {
		t.Fatalf("router answer %q", a.Tokens)
	}
	for prompt, want := range map[string]string{
		"Evaluate this math expression: What is 15 * 12?": "The answer is 180.",
		"Evaluate this math expression: 7 divided by 2":   "The answer is 3.5.",
		"Evaluate this math expression: 1/0":              "That expression has no value: division by zero.",
	} {
		if got, ok := ScriptedReply(prompt, BehaviourCorrect); !ok || got != want {
			t.Errorf("math %q: %q, want %q", prompt, got, want)
		}
	}
	for _, prompt := range []string{"Why is the sky blue?", "Evaluate this math expression: nothing here",
		"Write a creative piece based on this prompt: Write a haiku about a sunset."} {
		if got, ok := ScriptedReply(prompt, BehaviourCorrect); ok {
			t.Errorf("%q is not scripted, got %q", prompt, got)
		}
	}
}

func TestScriptsSurviveHostilePrompts(t *testing.T) {
	hostile := []string{
		strings.Repeat("9", 1<<20),
		strings.Repeat("-", 1<<20),
		strings.Repeat("1 x ", 1<<18),
		strings.Repeat("1.", 1<<19),
		strings.Repeat("length of the word ", 1<<15),
		strings.Repeat("count from 1 to ", 1<<15),
		strings.Repeat("classify it as either ", 1<<15),
		"Action Input Final Answer\nQuestion: " + strings.Repeat("9", 1<<20),
		"Action Input Final Answer\nQuestion: x\n" + strings.Repeat("Observation: 1\n", 1<<15),
		"should be one of [" + strings.Repeat("should be one of [", 1<<15),
		"Evaluate this math expression: " + strings.Repeat("(", 1<<20),
		"Evaluate this math expression: " + strings.Repeat("9", 3000) + "*" + strings.Repeat("9", 3000),
		"\xff\xfe\xfd" + strings.Repeat("\x80", 1<<16),
	}
	m := zeroModel(BehaviourLiar, 50)
	for _, prompt := range hostile {
		a := m.Answer(userPrompt(prompt), Options{}, nil, nil)
		if len(a.Tokens) == 0 {
			t.Errorf("no answer for %.30q", prompt)
		}
	}
}
