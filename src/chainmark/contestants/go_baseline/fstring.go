package main

// Prompt templates: the scenario parameters carry Python format strings ("{input}", "{{" for
// a literal brace), the one form every contestant reads. A template is cut into literal text
// and field names once, then filled per call.

import (
	"fmt"
	"strings"
)

// fstring is a compiled template: literal text and field names, alternating.
type fstring struct {
	parts  []string // literal, field, literal, field, ..., literal
	fields map[string]bool
}

// compileFString reads a template with "{name}" fields; "{{" and "}}" are literal braces.
// Format specs and conversions ("{x:>5}", "{x!r}") are refused: no prompt here uses them.
func compileFString(template string) (*fstring, error) {
	f := &fstring{fields: map[string]bool{}}
	var lit strings.Builder
	for i := 0; i < len(template); i++ {
		c := template[i]
		switch {
		case c == '{' && i+1 < len(template) && template[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(template) && template[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(template[i+1:], '}')
			if end < 0 {
				return nil, fmt.Errorf("template: unclosed '{' at %d", i)
			}
			name := template[i+1 : i+1+end]
			if name == "" || strings.ContainsAny(name, "{:!") {
				return nil, fmt.Errorf("template: unsupported field %q", name)
			}
			f.parts = append(f.parts, lit.String(), name)
			f.fields[name] = true
			lit.Reset()
			i += end + 1
		case c == '}':
			return nil, fmt.Errorf("template: single '}' at %d", i)
		default:
			lit.WriteByte(c)
		}
	}
	f.parts = append(f.parts, lit.String())
	return f, nil
}

// render fills every field; a field without a value is an error.
func (f *fstring) render(values map[string]string) (string, error) {
	var b strings.Builder
	for i, part := range f.parts {
		if i%2 == 0 {
			b.WriteString(part)
			continue
		}
		v, ok := values[part]
		if !ok {
			return "", fmt.Errorf("template: no value for {%s}", part)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// partial fills some fields now, leaving the others for render.
func (f *fstring) partial(values map[string]string) *fstring {
	out := &fstring{fields: map[string]bool{}}
	lit := f.parts[0]
	for i := 1; i < len(f.parts); i += 2 {
		name, next := f.parts[i], f.parts[i+1]
		if v, ok := values[name]; ok {
			lit += v + next
			continue
		}
		out.parts = append(out.parts, lit, name)
		out.fields[name] = true
		lit = next
	}
	out.parts = append(out.parts, lit)
	return out
}
