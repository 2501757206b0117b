package main

// The three agent tools of the spec, with the same semantics as the Python contestants'
// (src/chainmark/contestants/tools.py and src/chainmark/arith.py), so the harness can
// recompute every observation with its own Python arithmetic and get the same string. The
// calculator is a copy of the LangChainGo contestant's mirror of arith.py (a separate Go
// module; tests/test_calculator_agreement.py checks both binaries through --calculate).

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The calculator's limits and their messages: the ones src/chainmark/arith.py defines (its
// module docstring is the one definition; keep these equal to MAX_EXPRESSION_CHARS,
// MAX_DEPTH, MAX_MAGNITUDE and the messages next to them there).
const (
	// maxExpressionChars bounds the cleaned input, in characters (code points).
	maxExpressionChars = 1000
	// maxDepth bounds the open parentheses and unary signs enclosing any point.
	maxDepth = 100
	// maxMagnitude bounds the absolute value of every number written and every result.
	maxMagnitude = 1e15

	msgTooLong        = "expression too long (max 1000 characters)"
	msgTooDeep        = "expression nested too deeply (max 100 parentheses and signs)"
	msgNumberTooLarge = "number too large (max 1e15 in absolute value)"
	msgResultTooLarge = "result too large (max 1e15 in absolute value)"
	msgDivisionByZero = "division by zero"
)

// maxMagnitudeInt is maxMagnitude as an exact integer.
var maxMagnitudeInt = big.NewInt(maxMagnitude)

// calcError is arith.CalculatorError: a message the agent can read.
type calcError struct{ msg string }

func (e *calcError) Error() string { return e.msg }

func calcErrorf(format string, args ...any) error {
	return &calcError{msg: fmt.Sprintf(format, args...)}
}

// isPySpace is Python's str.isspace (what `\s` and str.strip() use): Unicode White_Space
// plus the four ASCII information separators.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// cleanToolInput is Python's `text.strip().strip("'\"`")`.
func cleanToolInput(text string) string {
	return strings.Trim(strings.TrimFunc(text, isPySpace), "'\"`")
}

// number is a Python number: an exact integer or a float.
type number struct {
	isFloat bool
	i       *big.Int
	f       float64
}

func intNumber(i *big.Int) number  { return number{i: i} }
func floatNumber(f float64) number { return number{isFloat: true, f: f} }
func (n number) isZero() bool      { return (n.isFloat && n.f == 0) || (!n.isFloat && n.i.Sign() == 0) }
func (n number) String() string    { return formatNumber(n) }

// asFloat is Python's float(int): exact here, as every integer is within maxMagnitude < 2**53.
func (n number) asFloat() float64 {
	if n.isFloat {
		return n.f
	}
	f, _ := new(big.Float).SetInt(n.i).Float64()
	return f
}

// withinLimit reports whether |n| <= maxMagnitude, compared exactly (a NaN is not).
func (n number) withinLimit() bool {
	if n.isFloat {
		return math.Abs(n.f) <= maxMagnitude
	}
	return n.i.CmpAbs(maxMagnitudeInt) <= 0
}

type token struct {
	number bool
	text   string
}

// tokenize follows arith.py's `\s*(?:([0-9]+(?:\.[0-9]*)?|\.[0-9]+)|(.))`: whitespace is
// skipped, numbers are ASCII digit runs with an optional fraction, and anything else must be
// one of + - * / ( ). (ASCII digits only, as arith.py: Go's Unicode tables are newer than
// Python 3.11's, so they disagree on which characters are digits.)
func tokenize(text string) ([]token, error) {
	runes := []rune(text)
	isDigit := func(i int) bool { return i < len(runes) && runes[i] >= '0' && runes[i] <= '9' }
	var tokens []token
	for i := 0; i < len(runes); {
		r := runes[i]
		switch {
		case isPySpace(r):
			i++
		case isDigit(i) || (r == '.' && isDigit(i+1)):
			start := i
			for isDigit(i) {
				i++
			}
			if i < len(runes) && runes[i] == '.' {
				i++
				for isDigit(i) {
					i++
				}
			}
			tokens = append(tokens, token{number: true, text: string(runes[start:i])})
		case strings.ContainsRune("+-*/()", r):
			tokens = append(tokens, token{text: string(r)})
			i++
		default:
			return nil, calcErrorf("unexpected character %s", pyASCII(string(r)))
		}
	}
	return tokens, nil
}

// parser is the grammar's recursive descent (arith.py runs the same descent on an explicit
// stack). Go stacks grow as needed, and depth bounds the recursion anyway.
type parser struct {
	tokens []token
	pos    int
	depth  int // open parentheses + unary signs enclosing the current factor
}

func (p *parser) peek() (token, bool) {
	if p.pos < len(p.tokens) {
		return p.tokens[p.pos], true
	}
	return token{}, false
}

func (p *parser) take() (token, error) {
	if p.pos >= len(p.tokens) {
		return token{}, calcErrorf("unexpected end of expression")
	}
	t := p.tokens[p.pos]
	p.pos++
	return t, nil
}

// nest enters a parenthesis or a unary sign; the caller leaves it with p.depth--.
func (p *parser) nest() error {
	p.depth++
	if p.depth > maxDepth {
		return calcErrorf(msgTooDeep)
	}
	return nil
}

func (p *parser) peekOp(ops string) (string, bool) {
	t, ok := p.peek()
	if !ok || t.number || !strings.Contains(ops, t.text) {
		return "", false
	}
	return t.text, true
}

// expression := term (('+' | '-') term)*
func (p *parser) expression() (number, error) {
	value, err := p.term()
	if err != nil {
		return number{}, err
	}
	for {
		op, ok := p.peekOp("+-")
		if !ok {
			return value, nil
		}
		p.pos++
		right, err := p.term()
		if err != nil {
			return number{}, err
		}
		if value, err = arithmetic(op, value, right); err != nil {
			return number{}, err
		}
	}
}

// term := factor (('*' | '/') factor)*
func (p *parser) term() (number, error) {
	value, err := p.factor()
	if err != nil {
		return number{}, err
	}
	for {
		op, ok := p.peekOp("*/")
		if !ok {
			return value, nil
		}
		p.pos++
		right, err := p.factor()
		if err != nil {
			return number{}, err
		}
		if op == "/" && right.isZero() {
			return number{}, calcErrorf(msgDivisionByZero)
		}
		if value, err = arithmetic(op, value, right); err != nil {
			return number{}, err
		}
	}
}

// factor := number | '-' factor | '+' factor | '(' expression ')'
func (p *parser) factor() (number, error) {
	t, err := p.take()
	if err != nil {
		return number{}, err
	}
	if t.number {
		return parseNumber(t.text)
	}
	switch t.text {
	case "-", "+", "(":
		if err := p.nest(); err != nil {
			return number{}, err
		}
		defer func() { p.depth-- }()
	}
	switch t.text {
	case "-":
		value, err := p.factor()
		if err != nil {
			return number{}, err
		}
		if value.isFloat {
			return floatNumber(-value.f), nil
		}
		return intNumber(new(big.Int).Neg(value.i)), nil
	case "+":
		return p.factor()
	case "(":
		value, err := p.expression()
		if err != nil {
			return number{}, err
		}
		closing, err := p.take()
		if err != nil {
			return number{}, err
		}
		if closing.number || closing.text != ")" {
			return number{}, calcErrorf("expected ')'")
		}
		return value, nil
	}
	return number{}, calcErrorf("unexpected %s", pyASCII(t.text))
}

// parseNumber reads a number token as Python's int() or float() does, within maxMagnitude.
func parseNumber(text string) (number, error) {
	var n number
	if !strings.Contains(text, ".") {
		i, ok := new(big.Int).SetString(text, 10)
		if !ok {
			return number{}, calcErrorf("bad number %s", pyASCII(text))
		}
		n = intNumber(i)
	} else {
		f, err := strconv.ParseFloat(text, 64)
		// Out of range: Python's float() gives inf (or 0) where Go reports ErrRange with the
		// same value.
		var numErr *strconv.NumError
		if err != nil && !(errors.As(err, &numErr) && errors.Is(numErr.Err, strconv.ErrRange)) {
			return number{}, calcErrorf("bad number %s", pyASCII(text))
		}
		n = floatNumber(f)
	}
	if !n.withinLimit() {
		return number{}, calcErrorf(msgNumberTooLarge)
	}
	return n, nil
}

// arithmetic applies op with Python's rules (integers stay exact, `/` is true division, a
// float on either side makes a float), then the magnitude limit; b is non-zero for '/'.
func arithmetic(op string, a, b number) (number, error) {
	n := pyArithmetic(op, a, b)
	if !n.withinLimit() {
		return number{}, calcErrorf(msgResultTooLarge)
	}
	return n, nil
}

func pyArithmetic(op string, a, b number) number {
	if !a.isFloat && !b.isFloat {
		switch op {
		case "+":
			return intNumber(new(big.Int).Add(a.i, b.i))
		case "-":
			return intNumber(new(big.Int).Sub(a.i, b.i))
		case "*":
			return intNumber(new(big.Int).Mul(a.i, b.i))
		}
		// int / int: the correctly rounded quotient.
		f, _ := new(big.Rat).SetFrac(a.i, b.i).Float64()
		return floatNumber(f)
	}
	x, y := a.asFloat(), b.asFloat()
	switch op {
	case "+":
		return floatNumber(x + y)
	case "-":
		return floatNumber(x - y)
	case "*":
		return floatNumber(x * y)
	}
	return floatNumber(x / y) // +-Inf past the largest float, refused by the limit
}

// evaluate is arith.evaluate: the value of an arithmetic expression within the limits, or
// a *calcError with arith.py's message.
func evaluate(expression string) (number, error) {
	if utf8.RuneCountInString(expression) > maxExpressionChars {
		return number{}, calcErrorf(msgTooLong)
	}
	tokens, err := tokenize(expression)
	if err != nil {
		return number{}, err
	}
	if len(tokens) == 0 {
		return number{}, calcErrorf("empty expression")
	}
	p := &parser{tokens: tokens}
	value, err := p.expression()
	if err != nil {
		return number{}, err
	}
	if t, ok := p.peek(); ok {
		return number{}, calcErrorf("unexpected %s", pyASCII(t.text))
	}
	return value, nil
}

// formatNumber is arith.format_number: integral floats below 1e15 print as integers,
// other floats as Python's repr, integers in full.
func formatNumber(n number) string {
	if !n.isFloat {
		return n.i.String()
	}
	f := n.f
	if !math.IsInf(f, 0) && !math.IsNaN(f) && f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return pyFloatRepr(f)
}

// pyFloatRepr is Python's repr(float): the shortest round-tripping digits, positional for
// exponents -4 <= e < 16 (always with a fractional part), scientific otherwise.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	sci := strconv.FormatFloat(f, 'e', -1, 64) // e.g. -1.2345e+06
	sign := ""
	if strings.HasPrefix(sci, "-") {
		sign, sci = "-", sci[1:]
	}
	mantissa, expText, _ := strings.Cut(sci, "e")
	exp, err := strconv.Atoi(expText)
	if err != nil {
		return sign + sci // cannot happen: FormatFloat writes a decimal exponent
	}
	digits := strings.Replace(mantissa, ".", "", 1)
	decpt := exp + 1 // value = 0.digits * 10**decpt
	if decpt > -4 && decpt <= 16 {
		switch {
		case decpt <= 0:
			return sign + "0." + strings.Repeat("0", -decpt) + digits
		case decpt >= len(digits):
			return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
		default:
			return sign + digits[:decpt] + "." + digits[decpt:]
		}
	}
	out := digits[:1]
	if len(digits) > 1 {
		out += "." + digits[1:]
	}
	expSign := "+"
	if exp < 0 {
		expSign, exp = "-", -exp
	}
	return fmt.Sprintf("%s%se%s%02d", sign, out, expSign, exp)
}

// pyASCII is Python's ascii() of a str (repr with every non-ASCII character escaped), for
// the error messages arith.py writes with !a: it needs no Unicode tables, so it cannot
// disagree with Python's whatever either side's Unicode version.
func pyASCII(s string) string {
	quote := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, "\"") {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// Calculate is the SimpleCalculator tool: a number, or an error message the agent can read
// ("Error: " and arith.py's message), byte for byte the Python tool's observation.
func Calculate(expression string) string {
	value, err := evaluate(cleanToolInput(expression))
	if err != nil {
		return "Error: " + err.Error()
	}
	return formatNumber(value)
}

// WordLength is the WordLengthTool: the length in characters of the (unquoted) word.
func WordLength(text string) string {
	return strconv.Itoa(utf8.RuneCountInString(cleanToolInput(text)))
}

// Counter is one agent run's counter; runs never share one.
type Counter struct {
	mu    sync.Mutex
	value int
}

// Increment adds one and returns the new value as text.
func (c *Counter) Increment(string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.value++
	return strconv.Itoa(c.value)
}

// Value is the count so far.
func (c *Counter) Value() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.value
}
