package synth

import (
	"errors"
	"strings"
	"testing"
)

func TestEvaluateLikePython(t *testing.T) {
	nines := strings.Repeat("9", 19)
	for expr, want := range map[string]string{
		"1+2*3":                         "7",
		"(1+2)*3":                       "9",
		" 25 * 4 ":                      "100",
		"7/2":                           "3.5",
		"10/2":                          "5",
		"1/3":                           "0.3333333333333333",
		"2/3":                           "0.6666666666666666",
		"1/7":                           "0.14285714285714285",
		"0.1+0.2":                       "0.30000000000000004",
		"2.5*2":                         "5",
		"-3":                            "-3",
		"--3":                           "3",
		"+-+3":                          "-3",
		"5.":                            "5",
		".5":                            "0.5",
		"3-5":                           "-2",
		"1-2-3":                         "-4",
		"8/2/2":                         "2",
		"0.0001":                        "0.0001",
		"0.00001":                       "1e-05",
		"1/3*3":                         "1",
		"10000000000000000.0":           "1e+16",
		"123456789012345.0":             "123456789012345",
		"1234567890123456.5":            "1234567890123456.5",
		nines + "*" + nines:             "99999999999999999980000000000000000001",
		"9223372036854775807+1":         "9223372036854775808",
		"-9223372036854775808-1":        "-9223372036854775809",
		"-(-9223372036854775807-1)":     "9223372036854775808",
		"3037000500*3037000500":         "9223372037000250000",
		"-3037000500*3037000500":        "-9223372037000250000",
		"9007199254740993/1":            "9007199254740992.0",
		"99999999999999999999/3":        "3.333333333333333e+19",
		"1.5+2":                         "3.5",
		"٣+٤":                           "7",
		strings.Repeat("9", 400):        strings.Repeat("9", 400),
		strings.Repeat("9", 400) + ".0": "inf",
		strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300): "1",
	} {
		n, err := Evaluate(expr)
		if err != nil {
			t.Errorf("Evaluate(%.40q): %v", expr, err)
			continue
		}
		if got := n.String(); got != want {
			t.Errorf("Evaluate(%.40q) = %s, want %s", expr, got, want)
		}
	}
}

func TestEvaluateErrors(t *testing.T) {
	for expr, want := range map[string]string{
		"":                             "empty expression",
		"   ":                          "empty expression",
		"1/0":                          "division by zero",
		"1/0.0":                        "division by zero",
		"1/(2-2)":                      "division by zero",
		"(1+2":                         "unexpected end of expression",
		"(1+2 3":                       "expected ')'",
		"1+":                           "unexpected end of expression",
		"1 2":                          "unexpected '2'",
		"*3":                           "unexpected '*'",
		"2**3":                         "unexpected '*'",
		"1)":                           "unexpected ')'",
		"1e5":                          "unexpected character 'e'",
		"__import__('os')":             "unexpected character '_'",
		"2^3":                          "unexpected character '^'",
		"\x00":                         `unexpected character '\x00'`,
		strings.Repeat("1", 1001):      "expression too long",
		strings.Repeat("-", 999) + "1": "number out of range",
		strings.Repeat("(", 334) + "1" + strings.Repeat(")", 334): "number out of range",
		strings.Repeat("9", 400) + "/3":                           "number out of range",
		strings.Repeat("9", 400) + "+0.5":                         "number out of range",
		strings.Repeat("(", 500):                                  "number out of range",
	} {
		_, err := Evaluate(expr)
		if err == nil || err.Error() != want {
			t.Errorf("Evaluate(%.30q): error %v, want %q", expr, err, want)
		}
	}
	_, err := Evaluate(strings.Repeat("-", 999) + "1")
	if !errors.Is(err, ErrOutOfRange) {
		t.Fatal("deep nesting should be ErrOutOfRange")
	}
	var calc *CalcError
	if _, err := Evaluate("1/0"); !errors.As(err, &calc) {
		t.Fatal("division by zero should be a CalcError")
	}
}

func TestEvaluateHostileInputIsCheap(t *testing.T) {
	huge := strings.Repeat("1234567890", 1<<17) // 1.3 MB of digits
	if _, err := Evaluate(huge); err == nil || err.Error() != "expression too long" {
		t.Fatal(err)
	}
	if _, err := Evaluate(strings.Repeat("9", 1000)); err != nil {
		t.Fatal(err)
	}
	// The largest product of a 1000-character expression stays cheap.
	expr := strings.Repeat("9", 499) + "*" + strings.Repeat("9", 500)
	if n, err := Evaluate(expr); err != nil || len(n.String()) != 999 {
		t.Fatal(err)
	}
}

func TestNumberFormatting(t *testing.T) {
	for _, c := range []struct {
		n    Number
		want string
	}{
		{Int(12), "12"}, {Float(2.5), "2.5"}, {Float(12), "12"}, {Float(-0.0), "0"},
		{Float(1e15), "1000000000000000.0"}, {Float(1e22), "1e+22"}, {Float(1.5e-7), "1.5e-07"},
		{Float(123.456), "123.456"}, {Float(1e16 + 2), "1.0000000000000002e+16"},
	} {
		if got := c.n.String(); got != c.want {
			t.Errorf("%v: got %s, want %s", c.n, got, c.want)
		}
	}
}
