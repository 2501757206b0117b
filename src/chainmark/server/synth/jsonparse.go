package synth

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// A small JSON parser for format schemas: it keeps object members in order (a schema's
// property order is the order a model writes them), bounds nesting, and is linear in its
// input.

type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

// jsonNode is one JSON value. Numbers keep their text.
type jsonNode struct {
	kind  jsonKind
	b     bool
	s     string // string value, or number text
	items []*jsonNode
	keys  []string
	vals  []*jsonNode
	index map[string]int // for objects with many members
}

// get is an object's member (the last one, if a key repeats), or nil.
func (n *jsonNode) get(key string) *jsonNode {
	if n == nil || n.kind != jsonObject {
		return nil
	}
	if n.index != nil {
		if i, ok := n.index[key]; ok {
			return n.vals[i]
		}
		return nil
	}
	for i := len(n.keys) - 1; i >= 0; i-- {
		if n.keys[i] == key {
			return n.vals[i]
		}
	}
	return nil
}

func (n *jsonNode) str() (string, bool) {
	if n == nil || n.kind != jsonString {
		return "", false
	}
	return n.s, true
}

// float is a number member's value.
func (n *jsonNode) float() (float64, bool) {
	if n == nil || n.kind != jsonNumber {
		return 0, false
	}
	f, err := strconv.ParseFloat(n.s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}

// maxJSONDepth bounds how deeply a format schema may nest.
const maxJSONDepth = 200

var errBadJSON = errors.New("invalid JSON")

type jsonParser struct {
	s     string
	i     int
	depth int
}

func parseJSON(s string) (*jsonNode, error) {
	p := &jsonParser{s: s}
	n, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, errBadJSON
	}
	return n, nil
}

func (p *jsonParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) literal(word string) bool {
	if strings.HasPrefix(p.s[p.i:], word) {
		p.i += len(word)
		return true
	}
	return false
}

func (p *jsonParser) value() (*jsonNode, error) {
	p.space()
	if p.i >= len(p.s) {
		return nil, errBadJSON
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.string()
		if err != nil {
			return nil, err
		}
		return &jsonNode{kind: jsonString, s: s}, nil
	case c == 't' && p.literal("true"):
		return &jsonNode{kind: jsonBool, b: true}, nil
	case c == 'f' && p.literal("false"):
		return &jsonNode{kind: jsonBool}, nil
	case c == 'n' && p.literal("null"):
		return &jsonNode{kind: jsonNull}, nil
	case c == '-' || isDigit(c):
		return p.number()
	}
	return nil, errBadJSON
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > maxJSONDepth {
		return errors.New("JSON nested too deeply")
	}
	return nil
}

func (p *jsonParser) object() (*jsonNode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.i++ // '{'
	n := &jsonNode{kind: jsonObject}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return n, nil
	}
	for {
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, errBadJSON
		}
		key, err := p.string()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, errBadJSON
		}
		p.i++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		n.keys = append(n.keys, key)
		n.vals = append(n.vals, v)
		p.space()
		if p.i >= len(p.s) {
			return nil, errBadJSON
		}
		if p.s[p.i] == '}' {
			p.i++
			break
		}
		if p.s[p.i] != ',' {
			return nil, errBadJSON
		}
		p.i++
	}
	if len(n.keys) > 8 {
		n.index = make(map[string]int, len(n.keys))
		for i, k := range n.keys {
			n.index[k] = i
		}
	}
	return n, nil
}

func (p *jsonParser) array() (*jsonNode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.i++ // '['
	n := &jsonNode{kind: jsonArray}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return n, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		n.items = append(n.items, v)
		p.space()
		if p.i >= len(p.s) {
			return nil, errBadJSON
		}
		if p.s[p.i] == ']' {
			p.i++
			return n, nil
		}
		if p.s[p.i] != ',' {
			return nil, errBadJSON
		}
		p.i++
	}
}

func (p *jsonParser) number() (*jsonNode, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.s) && p.s[p.i] == '0':
		p.i++
	case p.i < len(p.s) && isDigit(p.s[p.i]):
		p.i = skipDigits(p.s, p.i)
	default:
		return nil, errBadJSON
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		d := skipDigits(p.s, p.i+1)
		if d == p.i+1 {
			return nil, errBadJSON
		}
		p.i = d
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		d := skipDigits(p.s, p.i)
		if d == p.i {
			return nil, errBadJSON
		}
		p.i = d
	}
	return &jsonNode{kind: jsonNumber, s: p.s[start:p.i]}, nil
}

// string reads a JSON string at p.i (a '"'); invalid UTF-8 and lone surrogates read as
// U+FFFD, as encoding/json reads them.
func (p *jsonParser) string() (string, error) {
	p.i++ // '"'
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			s := p.s[start:p.i]
			p.i++
			if utf8.ValidString(s) {
				return s, nil
			}
			return strings.ToValidUTF8(s, "\uFFFD"), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.i++
	}
	// Slow path: escapes.
	b := []byte(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return strings.ToValidUTF8(string(b), "\uFFFD"), nil
		case c < 0x20:
			return "", errBadJSON
		case c != '\\':
			b = append(b, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			return "", errBadJSON
		}
		e := p.s[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", errBadJSON
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if strings.HasPrefix(p.s[p.i:], `\u`) {
					save := p.i
					p.i += 2
					if r2, ok = p.hex4(); !ok {
						return "", errBadJSON
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						b = utf8.AppendRune(b, dec)
						continue
					}
					p.i = save
				}
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", errBadJSON
		}
	}
	return "", errBadJSON
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	v, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(v), true
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = AppendJSONEscaped(b, s, false)
	return append(b, '"')
}

const jsonHex = "0123456789abcdef"

// AppendJSONEscaped appends s's JSON string escaping, without the quotes; invalid UTF-8
// becomes U+FFFD. With asEncodingJSON the bytes are exactly encoding/json's (and so Ollama's):
// <, > and & escaped, and the replacement character written as \ufffd.
func AppendJSONEscaped(b []byte, s string, asEncodingJSON bool) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!asEncodingJSON || c != '<' && c != '>' && c != '&') {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', jsonHex[c>>4], jsonHex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			if asEncodingJSON {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, "\uFFFD"...)
			}
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', jsonHex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// appendJSON writes n back as JSON, with a space after ':' and ',' (as Python's json.dumps
// does), so an answer splits into word-tokens.
func appendJSON(b []byte, n *jsonNode) []byte {
	switch n.kind {
	case jsonNull:
		return append(b, "null"...)
	case jsonBool:
		return strconv.AppendBool(b, n.b)
	case jsonNumber:
		return append(b, n.s...)
	case jsonString:
		return appendJSONString(b, n.s)
	case jsonArray:
		b = append(b, '[')
		for i, v := range n.items {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendJSON(b, v)
		}
		return append(b, ']')
	}
	b = append(b, '{')
	for i, k := range n.keys {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendJSONString(b, k)
		b = append(b, ": "...)
		b = appendJSON(b, n.vals[i])
	}
	return append(b, '}')
}
