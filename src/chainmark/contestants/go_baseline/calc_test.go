package main

// The calculator's cases are copied from the LangChainGo contestant's tests (the calculator
// is a copy of its mirror of src/chainmark/arith.py); tests/test_calculator_agreement.py
// checks the built binary against the Python tool on thousands of generated inputs.

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// pythonCases were produced by the Python contestant's tool
// (chainmark.contestants.tools.calculate), which the harness's verifier mirrors: the Go tool
// must return the very same strings.
var pythonCases = []struct{ in, want string }{
	{"25*4", "100"},
	{"1+2*3", "7"},
	{"(1+2)*3", "9"},
	{"7/2", "3.5"},
	{"10/5", "2"},
	{"2/3", "0.6666666666666666"},
	{"1.5*3", "4.5"},
	{"0.1+0.2", "0.30000000000000004"},
	{"-0.0", "0"},
	{"3-3.0", "0"},
	{"12.", "12"},
	{".5", "0.5"},
	{"1/3*3", "1"},
	{"100000000000000000.0*1", "Error: number too large (max 1e15 in absolute value)"},
	{"99999999999999.99*10", "999999999999999.9"},
	{"1000000000000000/3", "333333333333333.3"},
	{"1000000000000000.0", "1000000000000000.0"},
	{"999999999999999.0", "999999999999999"},
	{"0.00001", "1e-05"},
	{"0.0001*1", "0.0001"},
	{"123456789012345678901234567890*10", "Error: number too large (max 1e15 in absolute value)"},
	{"123456789012345*8", "987654312098760"},
	{"2*-3", "-6"},
	{"--2", "2"},
	{"+-+2", "-2"},
	{"-(2+3)*4", "-20"},
	{"  42  ", "42"},
	{"'25*4'", "100"},
	{"\"7 / 2\"", "3.5"},
	{"`3`", "3"},
	{"1e5", "Error: unexpected character 'e'"},
	{"abc", "Error: unexpected character 'a'"},
	{"1+", "Error: unexpected end of expression"},
	{"(1", "Error: unexpected end of expression"},
	{"1)", "Error: unexpected ')'"},
	{"2*(3", "Error: unexpected end of expression"},
	{"'", "Error: empty expression"},
	{"1 2", "Error: unexpected '2'"},
	{"\u0661\u0662+1", "Error: unexpected character '\\u0661'"},
	// Unicode 15 (Go's tables, not Python 3.11's): a Kawi digit and an emoji.
	{"\U00011f51+1", "Error: unexpected character '\\U00011f51'"},
	{"\U0001fae8", "Error: unexpected character '\\U0001fae8'"},
	{"1/0", "Error: division by zero"},
	{"1/0.0", "Error: division by zero"},
	{"1/-0.0", "Error: division by zero"},
	{"5//2", "Error: unexpected '/'"},
	{"", "Error: empty expression"},
	{"  ", "Error: empty expression"},
	{")", "Error: unexpected ')'"},
	{"2**3", "Error: unexpected '*'"},
	{"1.2.3", "Error: unexpected '.3'"},
	{".", "Error: unexpected character '.'"},
	{"3 % 2", "Error: unexpected character '%'"},
	{"1/3", "0.3333333333333333"},
	{"-1/3", "-0.3333333333333333"},
	{"2/7*1000000", "285714.2857142857"},
	{"12345678.9*1000000000", "Error: result too large (max 1e15 in absolute value)"},
	{"12345678.9*10000000", "123456789000000"},
	{"0.000001*0.000001", "1e-12"},
	{"0.1*0.1", "0.010000000000000002"},
	{"1/1024/1024/1024/1024", "9.094947017729282e-13"},
	{"x", "Error: unexpected character 'x'"},
	{"\\", "Error: unexpected character '\\\\'"},
	{"\"", "Error: empty expression"},
	{"it's", "Error: unexpected character 'i'"},
	{"\u00e9", "Error: unexpected character '\\xe9'"},
	{"1+\u00e9", "Error: unexpected character '\\xe9'"},
	{"(", "Error: unexpected end of expression"},
	{"()", "Error: unexpected ')'"},
	{"(((1)))", "1"},
	{"10000000000000000000000/3", "Error: number too large (max 1e15 in absolute value)"},
	{"3.0", "3"},
	{"-7", "-7"},
	{"4 * (2.5 + 0.5)", "12"},
	{"0.5-0.5", "0"},
	{"1'2", "Error: unexpected character \"'\""},
	{"1\u0009+\u000a2", "3"},
	{"1\u00002", "Error: unexpected character '\\x00'"},
	{"1\u20002", "Error: unexpected '2'"},
	{"1\u200b2", "Error: unexpected character '\\u200b'"},
	{"\U0001d7d1+\U0001d7d2", "Error: unexpected character '\\U0001d7d1'"},
	{"1\u001f+1", "2"},
	{"9007199254740993*1.0", "Error: number too large (max 1e15 in absolute value)"},
	{"999999999999999*1.0", "999999999999999"},
	{"2/3-2/3", "0"},
	{"-0.0*1", "0"},
	{"1.0/3.0*3.0", "1"},
	{"1\u007f", "Error: unexpected character '\\x7f'"},
	{"1\u00a0+1", "2"},
	{"1\u0085+1", "2"},
	{"1+\"'\"", "Error: unexpected end of expression"},
	{"0.1*3", "0.30000000000000004"},
	{"1e", "Error: unexpected character 'e'"},
	{"1/7", "0.14285714285714285"},
	{"22/7*100", "314.2857142857143"},
}

func TestCalculateMatchesPython(t *testing.T) {
	for _, c := range pythonCases {
		if got := Calculate(c.in); got != c.want {
			t.Errorf("Calculate(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestCalculateLimits: each limit of arith.py's docstring, exactly at it (works) and one past
// it (the documented error), as tests/test_tools.py checks the Python tool.
func TestCalculateLimits(t *testing.T) {
	const (
		tooLong   = "Error: expression too long (max 1000 characters)"
		tooDeep   = "Error: expression nested too deeply (max 100 parentheses and signs)"
		numLarge  = "Error: number too large (max 1e15 in absolute value)"
		resLarge  = "Error: result too large (max 1e15 in absolute value)"
		divByZero = "Error: division by zero"
	)
	nested := func(n int) string { return strings.Repeat("(", n) + "7" + strings.Repeat(")", n) }
	cases := []struct{ in, want string }{
		// Length: 1000 characters of cleaned input, surrounding spaces and quotes not counted.
		{strings.Repeat("1+", 499) + "10", "509"},
		{strings.Repeat("1+", 499) + "100", tooLong},
		{strings.Repeat("0", 999) + "7", "7"},
		{strings.Repeat("0", 1000) + "7", tooLong},
		{"  '" + strings.Repeat("0", 999) + "7'  ", "7"},
		{strings.Repeat(" ", 1000) + "x", "Error: unexpected character 'x'"},
		{strings.Repeat("é", 1001), tooLong},
		{"(" + strings.Repeat("x", 1000), tooLong},
		// Nesting: parentheses and unary signs together.
		{nested(100), "7"},
		{nested(101), tooDeep},
		{strings.Repeat("-", 100) + "7", "7"},
		{strings.Repeat("-", 101) + "7", tooDeep},
		{strings.Repeat("-", 99) + "7", "-7"},
		{strings.Repeat("-(", 50) + "7" + strings.Repeat(")", 50), "7"},
		{strings.Repeat("-(", 50) + "+7" + strings.Repeat(")", 50), tooDeep},
		{strings.Repeat("(1)+", 200) + "1", "201"},
		{nested(100) + "*" + nested(100), "49"},
		{strings.Repeat("(", 101), tooDeep},
		{strings.Repeat("(", 100), "Error: unexpected end of expression"},
		{strings.Repeat("(", 334) + "1" + strings.Repeat(")", 334), tooDeep},
		{strings.Repeat("-", 999) + "1", tooDeep},
		// Magnitude: numbers written and every result, |x| <= 1e15.
		{"1000000000000000", "1000000000000000"},
		{"-1000000000000000", "-1000000000000000"},
		{"1000000000000001", numLarge},
		{"-1000000000000001", numLarge},
		{"0001000000000000000", "1000000000000000"},
		{"1000000000000000.0", "1000000000000000.0"},
		{"1000000000000000.2", numLarge},
		{"999999999999999.9", "999999999999999.9"},
		{"999999999999999+1", "1000000000000000"},
		{"999999999999999+2", resLarge},
		{"-999999999999999-1", "-1000000000000000"},
		{"-999999999999999-2", resLarge},
		{"100000000*10000000", "1000000000000000"},
		{"100000000*10000001", resLarge},
		{"1000000000000000*10/10", resLarge},
		{"1000000000000000/0.5", resLarge},
		{"1000000000000000/1", "1000000000000000.0"},
		{"999999999999999/1", "999999999999999"},
		{"1/0." + strings.Repeat("0", 322) + "5", resLarge},
		{"1/0." + strings.Repeat("0", 400) + "1", divByZero},
		{"0." + strings.Repeat("0", 400) + "1", "0"},
		{strings.Repeat("9", 400) + "/1", numLarge},
		{"1" + strings.Repeat("0", 400) + "+0.5", numLarge},
		{"1" + strings.Repeat("0", 308) + ".0*10", numLarge},
		{strings.Repeat("9", 999), numLarge},
		// The first problem met, left to right, wins.
		{"1/0+1000000000000001", divByZero},
		{"1000000000000001/0", numLarge},
		{"1/0 2", divByZero},
		{"(1/0", divByZero},
		{"1000000000000000*2 3", resLarge},
		{nested(101) + "x", "Error: unexpected character 'x'"},
		{"1000000000000001" + nested(101), numLarge},
		{nested(101) + "1000000000000001", tooDeep},
	}
	for _, c := range cases {
		if got := Calculate(c.in); got != c.want {
			t.Errorf("Calculate(%.40q...) = %.80q, want %.80q", c.in, got, c.want)
		}
	}
}

// TestCalculateLinesHook: the --calculate test hook answers one JSON line per JSON line.
func TestPyFloatRepr(t *testing.T) {
	cases := []struct {
		in   float64
		want string
	}{
		{0.5, "0.5"}, {1e16, "1e+16"}, {1e15, "1000000000000000.0"}, {123456789.125, "123456789.125"},
		{1e-5, "1e-05"}, {0.0001, "0.0001"}, {-2.5e-7, "-2.5e-07"}, {1.5e300, "1.5e+300"},
		{math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"}, {0.1, "0.1"},
		{1234567890123456.8, "1234567890123456.8"}, {12345678901234567.0, "1.2345678901234568e+16"},
	}
	for _, c := range cases {
		if got := pyFloatRepr(c.in); got != c.want {
			t.Errorf("pyFloatRepr(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestWordLengthMatchesPython(t *testing.T) {
	cases := []struct{ in, want string }{
		{"phenomenon", "10"},
		{"'knowledge'", "9"},
		{"  \"word\"  ", "4"},
		{"`x`", "1"},
		{"", "0"},
		{"h\u00e9llo", "5"},
		{"\u65e5\u672c\u8a9e", "3"},
		{" \u0009", "0"},
		{"it's", "4"},
		{"\u2003word\u2003", "4"},
	}
	for _, c := range cases {
		if got := WordLength(c.in); got != c.want {
			t.Errorf("WordLength(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestToolsPerRunAndTheFailingOne(t *testing.T) {
	spec := map[string]ToolSpec{
		"word":    {Name: "WordLengthTool", Description: "w"},
		"calc":    {Name: "SimpleCalculator", Description: "c"},
		"counter": {Name: "CounterTool", Description: "n"},
	}
	for run := range 2 {
		counter := &Counter{}
		ts, err := makeTools(spec, counter, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 3 || ts[0].Name != "WordLengthTool" || ts[1].Name != "SimpleCalculator" ||
			ts[2].Name != "CounterTool" || ts[2].Description != "n" {
			t.Fatalf("tools: %v", ts)
		}
		for i := 1; i <= 5; i++ {
			if got, err := ts[2].Run(""); err != nil || got != strconv.Itoa(i) {
				t.Fatalf("run %d call %d: %q, %v", run, i, got, err)
			}
		}
		if counter.Value() != 5 {
			t.Fatalf("run %d: counter %d", run, counter.Value())
		}
		if got, _ := ts[1].Run("'25 * 4'"); got != "100" {
			t.Fatalf("calculator: %q", got)
		}
		if got, _ := ts[0].Run("'knowledge'"); got != "9" {
			t.Fatalf("word length: %q", got)
		}
	}
	failure := errors.New("simulated tool failure")
	ts, err := makeTools(spec, &Counter{}, "word", failure)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts[0].Run("x"); !errors.Is(err, failure) {
		t.Fatalf("the failing tool returned %v", err)
	}
	if got, err := ts[1].Run("1+1"); err != nil || got != "2" {
		t.Fatalf("the other tools still work: %q %v", got, err)
	}
	if _, err := makeTools(spec, &Counter{}, "nope", failure); err == nil {
		t.Fatal("an unknown failing tool accepted")
	}
	if _, err := makeTools(map[string]ToolSpec{"word": spec["word"]}, &Counter{}, "", nil); err == nil {
		t.Fatal("missing tools accepted")
	}
}

func TestCounterConcurrent(t *testing.T) {
	counter := &Counter{}
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 100 {
				counter.Increment("")
			}
		}()
	}
	for range 8 {
		<-done
	}
	if counter.Value() != 800 {
		t.Fatalf("counter %d, want 800", counter.Value())
	}
}

func TestCalculateLinesHook(t *testing.T) {
	var out strings.Builder
	if code := calculateLines(strings.NewReader("\"25*4\"\n\"a\\nb\"\n"), &out); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if out.String() != "\"100\"\n\"Error: unexpected character 'a'\"\n" {
		t.Fatalf("%q", out.String())
	}
	if code := calculateLines(strings.NewReader("25*4\n"), &out); code != 2 {
		t.Fatalf("a line that is not a JSON string: exit %d", code)
	}
}
