package main

import (
	"math"
	"strconv"
	"time"

	"github.com/chainmark/server/synth"
)

// Hand-written JSON appenders for the hot paths (one object per streamed token, the request
// log): encoding/json's reflection and allocations would cost more than the whole answer of a
// zero-latency model. They write exactly what encoding/json would, so clients see the same
// bytes Ollama (a Go server) sends.

// appendString appends s as a JSON string, escaped as encoding/json does by default: HTML
// characters as \u00XX, invalid UTF-8 as U+FFFD, U+2028/U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s)
	return append(b, '"')
}

// appendEscaped appends s's JSON string escaping, without the quotes, as encoding/json (and so
// Ollama) writes it.
func appendEscaped(b []byte, s string) []byte { return synth.AppendJSONEscaped(b, s, true) }

// appendStringOrNull writes "" as null: the log's optional strings.
func appendStringOrNull(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

// appendFloat formats f as encoding/json does (shortest representation, exponent only for very
// small or large magnitudes). JSON has no NaN or infinity; they become 0 rather than an
// unparseable body.
func appendFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, '0')
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// e-09 -> e-9, as encoding/json writes it.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// appendTime writes t as encoding/json writes a time.Time (RFC 3339 with nanoseconds), which is
// what Ollama's created_at looks like.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendVector writes a float32 vector as a JSON array.
func appendVector(b []byte, v []float32) []byte {
	b = append(b, '[')
	for i, f := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendFloat(b, float64(f), 32)
	}
	return append(b, ']')
}

// clock writes created_at timestamps for one answer. It formats the date and time once per
// second and only appends the fraction for each token: created_at is written once per
// streamed token, and time formatting would otherwise be most of a token line's cost.
type clock struct {
	sec    int64
	n      int      // bytes of prefix in use; 0 until the first call
	prefix [32]byte // `"2006-01-02T15:04:05` of sec
}

// appendNow writes the current time exactly as appendTime would.
func (c *clock) appendNow(b []byte) []byte {
	t := time.Now().UTC()
	if sec := t.Unix(); c.n == 0 || sec != c.sec {
		c.sec = sec
		c.prefix[0] = '"'
		c.n = len(t.AppendFormat(c.prefix[:1], "2006-01-02T15:04:05"))
		if c.n > len(c.prefix) { // a year past 9999: never cached
			c.n = 0
			return appendTime(b, t)
		}
	}
	b = append(b, c.prefix[:c.n]...)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := len(frac)
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z', '"')
}
