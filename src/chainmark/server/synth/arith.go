package synth

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Arithmetic over + - * / and parentheses, parsed by hand (nothing is ever evaluated as
// code), with Python's semantics so the scripted model's numbers read exactly like the
// agent tools' observations (chainmark/arith.py and the LangChainGo contestant's
// calculator): integers are exact (int64, then math/big when they outgrow it), `/` is true
// division giving a float, a float on either side makes a float.

// MaxExpressionChars bounds an expression, in characters, as arith.py does.
const MaxExpressionChars = 1000

// maxFrames stands in for Python's recursion limit: the parser counts its frames the way
// the Python parser spends them, so 999 unary minuses or 334 nested parentheses fail with
// ErrOutOfRange as the Python tool does (where Python raises RecursionError).
const maxFrames = 950

// ErrOutOfRange is what the tools report for Python's OverflowError and RecursionError: a
// float conversion of an integer too large, or an expression nested too deeply.
var ErrOutOfRange = errors.New("number out of range")

// CalcError is arith.CalculatorError: a message an agent can read.
type CalcError struct{ Msg string }

func (e *CalcError) Error() string { return e.Msg }

func calcErrorf(format string, args ...any) error {
	return &CalcError{Msg: fmt.Sprintf(format, args...)}
}

type numberKind uint8

const (
	smallInt numberKind = iota
	bigInt
	floatNum
)

// Number is a Python number: an exact integer or a float. The zero value is the integer 0.
type Number struct {
	kind numberKind
	i    int64
	b    *big.Int
	f    float64
}

// Int is the integer n.
func Int(n int64) Number { return Number{i: n} }

// Float is the float f.
func Float(f float64) Number { return Number{kind: floatNum, f: f} }

// IsFloat reports whether n is a float (else an exact integer).
func (n Number) IsFloat() bool { return n.kind == floatNum }

// String is arith.format_number: integers in full, integral floats below 1e15 as integers,
// other floats as Python's repr ("2.5", "0.3333333333333333", "1e+16", "inf").
func (n Number) String() string {
	switch n.kind {
	case smallInt:
		return strconv.FormatInt(n.i, 10)
	case bigInt:
		return n.b.String()
	}
	f := n.f
	if !math.IsInf(f, 0) && !math.IsNaN(f) && f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return pyFloatRepr(f)
}

func (n Number) isZero() bool {
	switch n.kind {
	case smallInt:
		return n.i == 0
	case bigInt:
		return n.b.Sign() == 0
	}
	return n.f == 0
}

func (n Number) toBig() *big.Int {
	if n.kind == bigInt {
		return n.b
	}
	return big.NewInt(n.i)
}

func fromBig(b *big.Int) Number {
	if b.IsInt64() {
		return Number{i: b.Int64()}
	}
	return Number{kind: bigInt, b: b}
}

// asFloat is Python's float(int): correctly rounded, OverflowError when it does not fit.
func (n Number) asFloat() (float64, error) {
	switch n.kind {
	case floatNum:
		return n.f, nil
	case smallInt:
		return float64(n.i), nil
	}
	f, _ := new(big.Float).SetInt(n.b).Float64()
	if math.IsInf(f, 0) {
		return 0, ErrOutOfRange
	}
	return f, nil
}

func (n Number) neg() Number {
	switch n.kind {
	case floatNum:
		return Float(-n.f)
	case smallInt:
		if n.i != math.MinInt64 {
			return Int(-n.i)
		}
	}
	return fromBig(new(big.Int).Neg(n.toBig()))
}

// arithmetic applies op (+ - * /) with Python's rules; b is non-zero for '/'.
func arithmetic(op byte, a, b Number) (Number, error) {
	if a.kind != floatNum && b.kind != floatNum {
		if a.kind == smallInt && b.kind == smallInt {
			if n, ok := smallArithmetic(op, a.i, b.i); ok {
				return n, nil
			}
		}
		x, y := a.toBig(), b.toBig()
		switch op {
		case '+':
			return fromBig(new(big.Int).Add(x, y)), nil
		case '-':
			return fromBig(new(big.Int).Sub(x, y)), nil
		case '*':
			return fromBig(new(big.Int).Mul(x, y)), nil
		}
		// int / int: the correctly rounded quotient; OverflowError when it is too large.
		f, _ := new(big.Rat).SetFrac(x, y).Float64()
		if math.IsInf(f, 0) {
			return Number{}, ErrOutOfRange
		}
		return Float(f), nil
	}
	x, err := a.asFloat()
	if err != nil {
		return Number{}, err
	}
	y, err := b.asFloat()
	if err != nil {
		return Number{}, err
	}
	switch op {
	case '+':
		return Float(x + y), nil
	case '-':
		return Float(x - y), nil
	case '*':
		return Float(x * y), nil
	}
	return Float(x / y), nil
}

// smallArithmetic is int64 arithmetic; ok is false when the result needs math/big (or, for
// '/', when the operands are not exactly representable as float64).
func smallArithmetic(op byte, x, y int64) (Number, bool) {
	switch op {
	case '+':
		r := x + y
		if (x^r)&(y^r) < 0 {
			return Number{}, false
		}
		return Int(r), true
	case '-':
		r := x - y
		if (x^y)&(x^r) < 0 {
			return Number{}, false
		}
		return Int(r), true
	case '*':
		if x == math.MinInt64 || y == math.MinInt64 {
			return Number{}, false
		}
		hi, lo := bits.Mul64(uint64(abs64(x)), uint64(abs64(y)))
		if hi != 0 || lo > math.MaxInt64 {
			return Number{}, false
		}
		if (x < 0) != (y < 0) {
			return Int(-int64(lo)), true
		}
		return Int(int64(lo)), true
	}
	const exact = 1 << 53
	if abs64(x) > exact || abs64(y) > exact || x == math.MinInt64 || y == math.MinInt64 {
		return Number{}, false
	}
	// Both exact in float64, so one IEEE division is the correctly rounded quotient.
	return Float(float64(x) / float64(y)), true
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

type calcToken struct {
	number bool
	text   string
}

// tokenize follows arith.py's `\s*(?:(\d+(?:\.\d*)?|\.\d+)|(.))`: whitespace is skipped,
// numbers are digit runs with an optional fraction (Unicode decimal digits too, as Python's
// \d and int() accept them), and anything else must be one of + - * / ( ).
func tokenize(text string) ([]calcToken, error) {
	tokens := make([]calcToken, 0, 8)
	digitAt := func(i int) (bool, int) {
		if i >= len(text) {
			return false, 0
		}
		if c := text[i]; c < utf8.RuneSelf {
			return c >= '0' && c <= '9', 1
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		return r != utf8.RuneError && unicode.IsDigit(r), n
	}
	skipDigits := func(i int) int {
		for {
			ok, n := digitAt(i)
			if !ok {
				return i
			}
			i += n
		}
	}
	for i := 0; i < len(text); {
		if space, n := spaceAt(text, i); space {
			i += n
			continue
		}
		isDigit, _ := digitAt(i)
		if isDigit || text[i] == '.' && func() bool { ok, _ := digitAt(i + 1); return ok }() {
			start := i
			i = skipDigits(i)
			if i < len(text) && text[i] == '.' {
				i = skipDigits(i + 1)
			}
			tokens = append(tokens, calcToken{number: true, text: text[start:i]})
			continue
		}
		if c := text[i]; strings.IndexByte("+-*/()", c) >= 0 {
			tokens = append(tokens, calcToken{text: text[i : i+1]})
			i++
			continue
		}
		r, _ := utf8.DecodeRuneInString(text[i:]) // an invalid byte reads as U+FFFD
		return nil, calcErrorf("unexpected character %s", pyRepr(string(r)))
	}
	return tokens, nil
}

// digitValue maps a Unicode decimal digit to 0-9: decimal digits come in runs of whole
// blocks of ten that start at zero.
func digitValue(r rune) int {
	start := r
	for unicode.IsDigit(start - 1) {
		start--
	}
	return int(r-start) % 10
}

// asciiDigits rewrites Unicode decimal digits as ASCII ones, as Python's int()/float() do.
func asciiDigits(text string) string {
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			return strings.Map(func(r rune) rune {
				if r >= utf8.RuneSelf && unicode.IsDigit(r) {
					return rune('0' + digitValue(r))
				}
				return r
			}, text)
		}
	}
	return text
}

func parseNumber(text string) (Number, error) {
	digits := asciiDigits(text)
	if strings.IndexByte(digits, '.') < 0 {
		if len(digits) <= 18 {
			n, err := strconv.ParseInt(digits, 10, 64)
			if err == nil {
				return Int(n), nil
			}
		}
		b, ok := new(big.Int).SetString(digits, 10)
		if !ok {
			return Number{}, calcErrorf("bad number %s", pyRepr(text))
		}
		return fromBig(b), nil
	}
	f, err := strconv.ParseFloat(digits, 64)
	// Out of range: Python's float() gives inf (or 0) where Go reports ErrRange with the
	// same value.
	var numErr *strconv.NumError
	if err != nil && !(errors.As(err, &numErr) && errors.Is(numErr.Err, strconv.ErrRange)) {
		return Number{}, calcErrorf("bad number %s", pyRepr(text))
	}
	return Float(f), nil
}

type calcParser struct {
	tokens []calcToken
	pos    int
	frames int
}

func (p *calcParser) enter() error {
	p.frames++
	if p.frames > maxFrames {
		return ErrOutOfRange
	}
	return nil
}

// peekOp is the next token if it is one of ops.
func (p *calcParser) peekOp(ops string) (byte, bool) {
	if p.pos >= len(p.tokens) {
		return 0, false
	}
	t := p.tokens[p.pos]
	if t.number || strings.IndexByte(ops, t.text[0]) < 0 {
		return 0, false
	}
	return t.text[0], true
}

func (p *calcParser) take() (calcToken, error) {
	if p.pos >= len(p.tokens) {
		return calcToken{}, calcErrorf("unexpected end of expression")
	}
	t := p.tokens[p.pos]
	p.pos++
	return t, nil
}

// expression := term (('+' | '-') term)*
func (p *calcParser) expression() (Number, error) {
	if err := p.enter(); err != nil {
		return Number{}, err
	}
	defer func() { p.frames-- }()
	value, err := p.term()
	if err != nil {
		return Number{}, err
	}
	for {
		op, ok := p.peekOp("+-")
		if !ok {
			return value, nil
		}
		p.pos++
		right, err := p.term()
		if err != nil {
			return Number{}, err
		}
		if value, err = arithmetic(op, value, right); err != nil {
			return Number{}, err
		}
	}
}

// term := factor (('*' | '/') factor)*
func (p *calcParser) term() (Number, error) {
	if err := p.enter(); err != nil {
		return Number{}, err
	}
	defer func() { p.frames-- }()
	value, err := p.factor()
	if err != nil {
		return Number{}, err
	}
	for {
		op, ok := p.peekOp("*/")
		if !ok {
			return value, nil
		}
		p.pos++
		right, err := p.factor()
		if err != nil {
			return Number{}, err
		}
		if op == '/' && right.isZero() {
			return Number{}, calcErrorf("division by zero")
		}
		if value, err = arithmetic(op, value, right); err != nil {
			return Number{}, err
		}
	}
}

// factor := number | '-' factor | '+' factor | '(' expression ')'
func (p *calcParser) factor() (Number, error) {
	if err := p.enter(); err != nil {
		return Number{}, err
	}
	defer func() { p.frames-- }()
	t, err := p.take()
	if err != nil {
		return Number{}, err
	}
	if t.number {
		return parseNumber(t.text)
	}
	switch t.text {
	case "-":
		value, err := p.factor()
		if err != nil {
			return Number{}, err
		}
		return value.neg(), nil
	case "+":
		return p.factor()
	case "(":
		value, err := p.expression()
		if err != nil {
			return Number{}, err
		}
		closing, err := p.take()
		if err != nil {
			return Number{}, err
		}
		if closing.number || closing.text != ")" {
			return Number{}, calcErrorf("expected ')'")
		}
		return value, nil
	}
	return Number{}, calcErrorf("unexpected %s", pyRepr(t.text))
}

// Evaluate is arith.evaluate: the value of an arithmetic expression over + - * / and
// parentheses, or an error (*CalcError with Python's message, or ErrOutOfRange). The work
// is linear in the expression, which is at most MaxExpressionChars characters.
func Evaluate(expression string) (Number, error) {
	if utf8.RuneCountInString(expression) > MaxExpressionChars {
		return Number{}, calcErrorf("expression too long")
	}
	tokens, err := tokenize(expression)
	if err != nil {
		return Number{}, err
	}
	if len(tokens) == 0 {
		return Number{}, calcErrorf("empty expression")
	}
	p := &calcParser{tokens: tokens}
	value, err := p.expression()
	if err != nil {
		return Number{}, err
	}
	if p.pos < len(p.tokens) {
		return Number{}, calcErrorf("unexpected %s", pyRepr(p.tokens[p.pos].text))
	}
	return value, nil
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

// pyRepr is Python's repr() of a str, for the error messages arith.py writes with !r.
func pyRepr(s string) string {
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
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f || unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S):
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
