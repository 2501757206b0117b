package synth

import (
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Scripted replies: a 135M model cannot follow a ReAct prompt, so the synthetic models read
// the prompt the way a capable model would. The question and the scratchpad (Action /
// Action Input / Observation) decide the next step, the right tool with the right input,
// and then a Final Answer built only from the observations the framework fed back. Nothing
// in the prompt is evaluated: the plan comes from a few question shapes (word length,
// arithmetic, counting), and anything else gets a plain final answer.
//
// The behaviours (Model.Behaviour):
//   - "synthetic": the correct next step;
//   - "synthetic-liar": a final answer whose numbers are all off by one, so a harness that
//     verifies answers against tool observations must fail it;
//   - "synthetic-malformed": the first reply of every ReAct run has no "Action Input" line,
//     so the framework's parse-error handling runs; later replies are correct.
//
// Patterns are ASCII: digits are 0-9 and letters A-Z (ignoring case where the Python
// patterns did), whitespace is Python's.

// MaxCountSteps bounds a counting plan, so a hostile prompt cannot ask for a million calls.
const MaxCountSteps = 50

// Tool kinds a plan uses.
const (
	KindWord    = "word"    // WordLengthTool: the character length of a word
	KindCalc    = "calc"    // SimpleCalculator: an arithmetic expression
	KindCounter = "counter" // CounterTool: adds one, returns the count
)

// Step is one tool call a careful agent would make.
type Step struct {
	Kind   string // KindWord, KindCalc or KindCounter
	Input  string // the tool's input: "knowledge", "25*4", "3"
	Intent string // the Thought: "find the length of 'knowledge'", "compute 25 multiplied by 4"
}

// MaxPlanSteps bounds a whole plan: more calls than any agent run allows.
const MaxPlanSteps = 1000

// planMatch is one question shape found at pos; its steps are written only when needed.
type planMatch struct {
	pos      int
	kind     string
	a, op, b string // word: a; calc: a op b (op as written); counter: from a to b
	symbol   string // calc: the operator for the tool ("*" for "times")
}

// Plan is the tool calls a careful agent would make for question, in question order:
// "length of the word 'x'" -> word; "A op B" (op: + - * / x, plus, minus, times,
// multiplied by, divided by) -> calc "AopB"; "count from A to B" -> one counter call per
// number (at most MaxCountSteps). A question with none of these has an empty plan; a plan
// stops at MaxPlanSteps steps.
func Plan(question string) []Step {
	// Each finder's matches come in question order (MaxPlanSteps at most: every match
	// makes a step at least): merge them.
	lists := [3][]planMatch{appendWordMatches(nil, question),
		appendArithmeticMatches(nil, question), appendCountMatches(nil, question)}
	var steps []Step
	for {
		next := -1
		for i, l := range lists {
			if len(l) > 0 && (next < 0 || l[0].pos < lists[next][0].pos) {
				next = i
			}
		}
		if next < 0 {
			break
		}
		m := lists[next][0]
		lists[next] = lists[next][1:]
		if len(steps) >= MaxPlanSteps {
			break
		}
		switch m.kind {
		case KindWord:
			steps = append(steps, Step{Kind: KindWord, Input: m.a,
				Intent: "find the length of '" + m.a + "'"})
		case KindCalc:
			steps = append(steps, Step{Kind: KindCalc, Input: m.a + m.symbol + m.b,
				Intent: "compute " + m.a + " " + m.op + " " + m.b})
		default:
			steps = appendCountSteps(steps, m.a, m.b, MaxPlanSteps-len(steps))
		}
	}
	return steps
}

func isQuote(c byte) bool { return c == '\'' || c == '"' || c == '`' }

// appendWordMatches finds `length of the word\s+['"`]?([A-Za-z][A-Za-z-]*)['"`]?` (any case).
func appendWordMatches(found []planMatch, q string) []planMatch {
	f := newFoldFinder(q, "length of the word")
	for from := 0; from < len(q) && len(found) < MaxPlanSteps; {
		start := f.next(from)
		if start < 0 {
			break
		}
		i := start + len(f.pat)
		j := skipSpace(q, i)
		if j > i && j < len(q) && isQuote(q[j]) && j+1 < len(q) && isASCIILetter(q[j+1]) {
			j++
		}
		if j == i || j >= len(q) || !isASCIILetter(q[j]) {
			from = start + 1
			continue
		}
		e := j + 1
		for e < len(q) && (isASCIILetter(q[e]) || q[e] == '-') {
			e++
		}
		found = append(found, planMatch{pos: start, kind: KindWord, a: q[j:e]})
		from = e
		if from < len(q) && isQuote(q[from]) {
			from++
		}
	}
	return found
}

// arithmeticOperators are the spelled-out operators, tried before the one-character ones.
var arithmeticOperators = [...]struct{ word, symbol string }{
	{"multiplied by", "*"}, {"times", "*"}, {"plus", "+"}, {"minus", "-"}, {"divided by", "/"},
}

// scanSignedNumber matches `-?\d+(?:\.\d+)?` at i; it returns the end, or -1.
func scanSignedNumber(s string, i int) int {
	j := i
	if j < len(s) && s[j] == '-' {
		j++
	}
	k := skipDigits(s, j)
	if k == j {
		return -1
	}
	if k+1 < len(s) && s[k] == '.' && isDigit(s[k+1]) {
		k = skipDigits(s, k+1)
	}
	return k
}

// arithmeticMatch is one `NUMBER \s* OP \s* NUMBER`.
type arithmeticMatch struct {
	a, op, symbol, b string
	start, end       int
}

// matchArithmetic tries `(-?\d+(?:\.\d+)?)\s*(OP)\s*(-?\d+(?:\.\d+)?)` at i.
func matchArithmetic(s string, i int) (arithmeticMatch, bool) {
	aEnd := scanSignedNumber(s, i)
	if aEnd < 0 {
		return arithmeticMatch{}, false
	}
	o := skipSpace(s, aEnd)
	if o >= len(s) {
		return arithmeticMatch{}, false
	}
	opEnd, op, symbol := -1, "", ""
	for _, w := range arithmeticOperators {
		if hasPrefixFold(s[o:], w.word) {
			opEnd, op, symbol = o+len(w.word), w.word, w.symbol
			break
		}
	}
	if opEnd < 0 {
		switch c := s[o]; c {
		case '*', '+', '/', '-':
			opEnd, op, symbol = o+1, s[o:o+1], s[o:o+1]
		case 'x', 'X':
			opEnd, op, symbol = o+1, "x", "*"
		default:
			return arithmeticMatch{}, false
		}
	}
	b := skipSpace(s, opEnd)
	bEnd := scanSignedNumber(s, b)
	if bEnd < 0 {
		return arithmeticMatch{}, false
	}
	return arithmeticMatch{a: s[i:aEnd], op: op, symbol: symbol, b: s[b:bEnd], start: i, end: bEnd}, true
}

// eachArithmetic calls fn for every non-overlapping arithmetic match, left to right, as
// re.finditer would, until fn returns false. A failed attempt skips its whole digit run:
// every start inside the run reads the same number up to the same end, so it fails too.
func eachArithmetic(s string, fn func(arithmeticMatch) bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if !isDigit(c) && !(c == '-' && i+1 < len(s) && isDigit(s[i+1])) {
			i++
			continue
		}
		if m, ok := matchArithmetic(s, i); ok {
			if !fn(m) {
				return
			}
			i = m.end
			continue
		}
		if c == '-' {
			i++
		}
		i = skipDigits(s, i)
	}
}

func appendArithmeticMatches(found []planMatch, q string) []planMatch {
	eachArithmetic(q, func(m arithmeticMatch) bool {
		found = append(found, planMatch{pos: m.start, kind: KindCalc, a: m.a, op: m.op,
			symbol: m.symbol, b: m.b})
		return len(found) < MaxPlanSteps
	})
	return found
}

// maxIntDigits is the longest integer Python's int() reads (its int_max_str_digits); a
// longer count bound makes no plan.
const maxIntDigits = 4300

// appendCountMatches finds `count from\s+(\d+)\s+to\s+(\d+)` (any case).
func appendCountMatches(found []planMatch, q string) []planMatch {
	f := newFoldFinder(q, "count from")
	for from := 0; from < len(q) && len(found) < MaxPlanSteps; {
		start := f.next(from)
		if start < 0 {
			break
		}
		from = start + 1
		i := start + len(f.pat)
		lowStart := skipSpace(q, i)
		lowEnd := skipDigits(q, lowStart)
		if lowStart == i || lowEnd == lowStart {
			continue
		}
		to := skipSpace(q, lowEnd)
		if to == lowEnd || !hasPrefixFold(q[to:], "to") {
			continue
		}
		highStart := skipSpace(q, to+2)
		highEnd := skipDigits(q, highStart)
		if highStart == to+2 || highEnd == highStart {
			continue
		}
		from = highEnd
		low, high := q[lowStart:lowEnd], q[highStart:highEnd]
		if len(low) > maxIntDigits || len(high) > maxIntDigits || compareDigits(low, high) > 0 {
			continue // no steps
		}
		found = append(found, planMatch{pos: start, kind: KindCounter, a: low, b: high})
	}
	return found
}

// compareDigits compares two decimal numbers written with ASCII digits.
func compareDigits(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// appendCountSteps appends one counter step per number from low to high, at most
// MaxCountSteps and room; none when high < low or a bound is too long to read (Python's
// int() would refuse it). The number being counted is the input a capable model writes:
// an empty Action Input is legal ReAct, but stock LangChainGo cannot parse it.
func appendCountSteps(steps []Step, low, high string, room int) []Step {
	if len(low) > maxIntDigits || len(high) > maxIntDigits {
		return steps
	}
	limit := min(MaxCountSteps, room)
	add := func(n string) {
		steps = append(steps, Step{Kind: KindCounter, Input: n, Intent: "count to " + n})
	}
	lo, errLo := strconv.ParseInt(low, 10, 64)
	hi, errHi := strconv.ParseInt(high, 10, 64)
	if errLo == nil && errHi == nil && lo <= 1<<62 {
		for v := lo; v <= hi && limit > 0; v, limit = v+1, limit-1 {
			add(strconv.FormatInt(v, 10))
		}
		return steps
	}
	l, _ := new(big.Int).SetString(low, 10)
	h, _ := new(big.Int).SetString(high, 10)
	one := big.NewInt(1)
	for v := l; v.Cmp(h) <= 0 && limit > 0; v, limit = v.Add(v, one), limit-1 {
		add(v.String())
	}
	return steps
}

// toolNames maps tool kinds to the names a prompt declared (frameworks may rename tools).
type toolNames struct{ word, calc, counter string }

func (n toolNames) of(kind string) string {
	switch kind {
	case KindWord:
		return n.word
	case KindCalc:
		return n.calc
	}
	return n.counter
}

// toolKind classifies a tool by a name or description: word/length, calc/math, count.
func toolKind(text string) string {
	switch {
	case containsFold(text, "word") || containsFold(text, "length"):
		return KindWord
	case containsFold(text, "calc") || containsFold(text, "math"):
		return KindCalc
	case containsFold(text, "count"):
		return KindCounter
	}
	return ""
}

// declaredToolNames reads the prompt's "should be one of [a, b, c]" list; kinds it does not
// name get the spec's default names.
func declaredToolNames(prompt string) toolNames {
	var names toolNames
	const marker = "should be one of ["
	if k := strings.Index(prompt, marker); k >= 0 {
		list := prompt[k+len(marker):]
		// `[^\]]*\]`: the first ']' closes the first list; without one, no list has an end.
		if end := strings.IndexByte(list, ']'); end >= 0 {
			for _, name := range strings.Split(list[:end], ",") {
				name = trimPySpace(name)
				switch toolKind(name) {
				case KindWord:
					if names.word == "" {
						names.word = name
					}
				case KindCalc:
					if names.calc == "" {
						names.calc = name
					}
				case KindCounter:
					if names.counter == "" {
						names.counter = name
					}
				}
			}
		}
	}
	if names.word == "" {
		names.word = "WordLengthTool"
	}
	if names.calc == "" {
		names.calc = "SimpleCalculator"
	}
	if names.counter == "" {
		names.counter = "CounterTool"
	}
	return names
}

// lastQuestion finds the last line matching `^Question:[ \t]*(.+)$`: the question (stripped)
// and where its line ends.
func lastQuestion(prompt string) (question string, end int, ok bool) {
	const marker = "Question:"
	for limit := len(prompt); limit > 0; {
		k := strings.LastIndex(prompt[:limit], marker)
		if k < 0 {
			return "", 0, false
		}
		limit = k
		rest := k + len(marker)
		if (k == 0 || prompt[k-1] == '\n') && rest < len(prompt) && prompt[rest] != '\n' {
			end := lineEnd(prompt, rest)
			return trimPySpace(prompt[rest:end]), end, true
		}
	}
	return "", 0, false
}

// isParseComplaint: the framework's complaints about a reply's format are observations too,
// but not tool results (LangChain Python's and LangChainGo's default wordings).
func isParseComplaint(observation string) bool {
	for _, phrase := range [...]string{"invalid format", "could not parse", "parsing error",
		"unable to parse"} {
		if containsFold(observation, phrase) {
			return true
		}
	}
	return false
}

// replyOpenings are how this package's ReAct replies begin. LangChainGo's scratchpad writes
// the next reply right after an observation, on its line ("Observation: 100I need to ..."),
// so an observation ends where one of these begins.
var replyOpenings = [...]string{"I need to ", "I should use a tool now.", "I now know the final answer."}

// observations are the `Observation:[ \t]*(.*)` values of a scratchpad, stripped (and cut
// before a reply of ours that follows on the same line): every one seen, and those that
// are tool results.
func observations(scratchpad string) (seen int, results []string) {
	const marker = "Observation:"
	for from := 0; ; {
		k := strings.Index(scratchpad[from:], marker)
		if k < 0 {
			return seen, results
		}
		i := skipHSpace(scratchpad, from+k+len(marker))
		end := lineEnd(scratchpad, i)
		line := scratchpad[i:end]
		for _, opening := range replyOpenings {
			if j := strings.Index(line, opening); j >= 0 {
				line = line[:j]
			}
		}
		value := trimPySpace(line)
		seen++
		if !isParseComplaint(value) {
			results = append(results, value)
		}
		from = end
	}
}

// reactReply is the next ReAct step for a ReAct prompt (one that mentions "Action Input" and
// "Final Answer" and has a "Question:" line); ok is false for any other prompt.
func reactReply(prompt, behaviour string) (string, bool) {
	if !strings.Contains(prompt, "Action Input") || !strings.Contains(prompt, "Final Answer") {
		return "", false
	}
	question, end, ok := lastQuestion(prompt)
	if !ok {
		return "", false
	}
	seen, results := observations(prompt[end:])
	steps := Plan(question)
	names := declaredToolNames(prompt)
	if behaviour == BehaviourMalformed && seen == 0 {
		return " I should use a tool now.\nAction: " + names.calc, true
	}
	if len(results) < len(steps) {
		step := steps[len(results)]
		return " I need to " + step.Intent + ".\nAction: " + names.of(step.Kind) +
			"\nAction Input: " + step.Input, true
	}
	answer := finalAnswer(question, steps, results, behaviour == BehaviourLiar)
	return " I now know the final answer.\nFinal Answer: " + answer, true
}

// finalAnswer states what the observations say, step by step; a liar adds one to each
// number (or appends "1" to what is not a number).
func finalAnswer(question string, steps []Step, observations []string, liar bool) string {
	shown := func(value string) string {
		if !liar {
			return value
		}
		n, err := Evaluate(value)
		if err == nil {
			n, err = arithmetic('+', n, Int(1))
		}
		if err != nil {
			return value + "1"
		}
		return n.String()
	}
	var b strings.Builder
	part := func() {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
	}
	counted, last := 0, ""
	for i, step := range steps {
		if i >= len(observations) {
			break
		}
		switch step.Kind {
		case KindWord:
			part()
			b.WriteString("the word '" + step.Input + "' has " + shown(observations[i]) +
				" characters")
		case KindCalc:
			part()
			b.WriteString(step.Input + " = " + shown(observations[i]))
		case KindCounter:
			counted++
			last = observations[i]
		}
	}
	if counted > 0 {
		part()
		b.WriteString("I counted to " + shown(last) + " with " + strconv.Itoa(counted) +
			" counter calls")
	}
	if b.Len() == 0 {
		return "I cannot break '" + question + "' into tool calls, so here is my answer."
	}
	text := b.String()
	if c := text[0]; c >= 'a' && c <= 'z' {
		text = string(c-32) + text[1:]
	}
	return text + "."
}

// routerReply answers a router prompt ('classify it as either "math" or "prose"') with
// "math" when the last "Query:" line (else the whole prompt) has a digit or a math word.
func routerReply(prompt string) (string, bool) {
	if !isRouterPrompt(prompt) {
		return "", false
	}
	query := prompt
	if q, ok := lastLineValue(prompt, "Query:"); ok {
		query = q
	}
	if hasMathWords(query) {
		return "math", true
	}
	return "prose", true
}

// isRouterPrompt matches `classify it as either\s+"?math"?\s+or\s+"?prose"?` (any case).
func isRouterPrompt(prompt string) bool {
	f := newFoldFinder(prompt, "classify it as either")
	for from := 0; ; {
		start := f.next(from)
		if start < 0 {
			return false
		}
		from = start + 1
		if routerTail(prompt, start+len(f.pat)) {
			return true
		}
	}
}

func routerTail(s string, i int) bool {
	for n, word := range [...]string{"math", "or", "prose"} {
		j := skipSpace(s, i)
		if j == i {
			return false
		}
		if n != 1 && j < len(s) && s[j] == '"' {
			j++
		}
		if !hasPrefixFold(s[j:], word) {
			return false
		}
		i = j + len(word)
		if n != 1 && i < len(s) && s[i] == '"' {
			// `"?` then `\s+` (or the end, for "prose"): take the quote only if that works.
			if n == 2 || (i+1 < len(s) && func() bool { sp, _ := spaceAt(s, i+1); return sp }()) {
				i++
			}
		}
	}
	return true
}

// lastLineValue is the last `^Marker[ \t]*(.+)$` value (not stripped), if any.
func lastLineValue(s, marker string) (string, bool) {
	for limit := len(s); limit > 0; {
		k := strings.LastIndex(s[:limit], marker)
		if k < 0 {
			return "", false
		}
		limit = k
		rest := k + len(marker)
		if (k == 0 || s[k-1] == '\n') && rest < len(s) && s[rest] != '\n' {
			end := lineEnd(s, rest)
			v := skipHSpace(s, rest)
			if v == end { // `[ \t]*` gives one character back to `.+`
				v = end - 1
			}
			return s[v:end], true
		}
	}
	return "", false
}

// mathWords are the router's words for math (`\b(...)\b`, any case).
var mathWords = [...]string{"calculate", "compute", "evaluate", "sum", "plus", "minus",
	"times", "multiplied", "divided", "equation", "solve", "math", "arithmetic"}

// hasMathWords is `\d|\b(calculate|...)\b` (any case): a digit, or a math word on its own.
func hasMathWords(s string) bool {
	start := -1
	for i := 0; i <= len(s); {
		word := false
		n := 1
		if i < len(s) {
			c := s[i]
			if c < utf8.RuneSelf {
				if isDigit(c) {
					return true
				}
				word = wordByte[c]
			} else {
				var r rune
				r, n = utf8.DecodeRuneInString(s[i:])
				if r != utf8.RuneError && unicode.IsDigit(r) {
					return true
				}
				word = r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsNumber(r))
			}
		}
		if word && start < 0 {
			start = i
		} else if !word && start >= 0 {
			w := s[start:i]
			for _, m := range mathWords {
				if len(w) == len(m) && hasPrefixFold(w, m) {
					return true
				}
			}
			start = -1
		}
		i += n
	}
	return false
}

// mathReply answers "Evaluate this math expression: A op B" with "The answer is N." (the
// first arithmetic on the expression's line).
func mathReply(prompt string) (string, bool) {
	const pat = "evaluate this math expression:"
	k := indexFold(prompt, pat)
	if k < 0 {
		return "", false
	}
	i := skipSpace(prompt, k+len(pat))
	if i >= len(prompt) {
		return "", false
	}
	var reply string
	eachArithmetic(prompt[i:lineEnd(prompt, i)], func(m arithmeticMatch) bool {
		value, err := Evaluate(m.a + m.symbol + m.b)
		if err != nil {
			reply = "That expression has no value: " + err.Error() + "."
		} else {
			reply = "The answer is " + value.String() + "."
		}
		return false
	})
	return reply, reply != ""
}

// ScriptedReply is the scripted reply to prompt (a request's whole text, Prompt.Text) for a
// behaviour, if the prompt is one the synthetic models play: a ReAct step, a router label
// ("math" / "prose"), or a math chain's "The answer is N.". ok is false for anything else.
func ScriptedReply(prompt, behaviour string) (string, bool) {
	if reply, ok := reactReply(prompt, behaviour); ok {
		return reply, true
	}
	if reply, ok := routerReply(prompt); ok {
		return reply, true
	}
	return mathReply(prompt)
}
