package synth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// validate is a small JSON Schema validator for the keywords renderFormat supports; it
// returns the first violation found.
func validate(root, schema, v any, path string) error {
	for hops := 0; ; hops++ {
		m, ok := schema.(map[string]any)
		if !ok {
			break
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			break
		}
		schema = resolveRef(root, ref)
		if hops > 50 || schema == nil {
			return fmt.Errorf("%s: bad $ref %s", path, ref)
		}
	}
	switch s := schema.(type) {
	case nil:
		return nil
	case bool:
		if !s {
			return fmt.Errorf("%s: false schema", path)
		}
		return nil
	case map[string]any:
		return validateObject(root, s, v, path)
	}
	return fmt.Errorf("%s: schema is %T", path, schema)
}

func resolveRef(root any, ref string) any {
	if ref == "#" {
		return root
	}
	n := root
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := n.(map[string]any)
		if !ok {
			return nil
		}
		n = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]
	}
	return n
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if _, ok := new(big.Int).SetString(v.String(), 10); ok {
			return "integer"
		}
		if f, err := v.Float64(); err == nil && f == math.Trunc(f) {
			return "integer"
		}
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

func typeMatches(want, got string) bool {
	return want == got || (want == "number" && got == "integer")
}

func num(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case float64:
		return v, true
	}
	return 0, false
}

func validateObject(root any, s map[string]any, v any, path string) error {
	if t, ok := s["type"]; ok {
		var types []string
		switch t := t.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				types = append(types, x.(string))
			}
		}
		ok := false
		for _, want := range types {
			ok = ok || typeMatches(want, jsonType(v))
		}
		if !ok {
			return fmt.Errorf("%s: %s is not %v", path, jsonType(v), types)
		}
	}
	if c, ok := s["const"]; ok && !jsonEqual(c, v) {
		return fmt.Errorf("%s: %v is not const %v", path, v, c)
	}
	if e, ok := s["enum"].([]any); ok {
		found := false
		for _, x := range e {
			found = found || jsonEqual(x, v)
		}
		if !found {
			return fmt.Errorf("%s: %v not in enum", path, v)
		}
	}
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			if err := validate(root, sub, v, path); err != nil {
				return err
			}
		}
	}
	if anyOf, ok := s["anyOf"].([]any); ok {
		var errs []error
		for _, sub := range anyOf {
			if err := validate(root, sub, v, path); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) == len(anyOf) {
			return fmt.Errorf("%s: no anyOf branch: %v", path, errs)
		}
	}
	if oneOf, ok := s["oneOf"].([]any); ok {
		n := 0
		for _, sub := range oneOf {
			if validate(root, sub, v, path) == nil {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("%s: %d oneOf branches match", path, n)
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range asList(s["required"]) {
			if _, ok := v[r.(string)]; !ok {
				return fmt.Errorf("%s: lacks required %s", path, r)
			}
		}
		for k, x := range v {
			sub, declared := props[k]
			if !declared {
				addl, has := s["additionalProperties"]
				if has && addl == false {
					return fmt.Errorf("%s: extra member %s", path, k)
				}
				sub = addl
			}
			if err := validate(root, sub, x, path+"."+k); err != nil {
				return err
			}
		}
		if n, ok := num(s["minProperties"]); ok && float64(len(v)) < n {
			return fmt.Errorf("%s: fewer than %v members", path, n)
		}
		if n, ok := num(s["maxProperties"]); ok && float64(len(v)) > n {
			return fmt.Errorf("%s: more than %v members", path, n)
		}
	case []any:
		if n, ok := num(s["minItems"]); ok && float64(len(v)) < n {
			return fmt.Errorf("%s: fewer than %v items", path, n)
		}
		if n, ok := num(s["maxItems"]); ok && float64(len(v)) > n {
			return fmt.Errorf("%s: more than %v items", path, n)
		}
		prefix := asList(s["prefixItems"])
		rest := s["items"]
		if tuple, ok := s["items"].([]any); ok {
			prefix, rest = tuple, s["additionalItems"]
		}
		for i, x := range v {
			sub := rest
			if i < len(prefix) {
				sub = prefix[i]
			}
			if err := validate(root, sub, x, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		if s["uniqueItems"] == true {
			for i := range v {
				for j := i + 1; j < len(v); j++ {
					if jsonEqual(v[i], v[j]) {
						return fmt.Errorf("%s: items %d and %d repeat", path, i, j)
					}
				}
			}
		}
	case string:
		n := float64(utf8.RuneCountInString(v))
		if m, ok := num(s["minLength"]); ok && n < m {
			return fmt.Errorf("%s: %q shorter than %v", path, v, m)
		}
		if m, ok := num(s["maxLength"]); ok && n > m {
			return fmt.Errorf("%s: %q longer than %v", path, v, m)
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(v) {
			return fmt.Errorf("%s: %q does not match %s", path, v, p)
		}
		layouts := map[string]string{"date": "2006-01-02", "date-time": time.RFC3339, "time": "15:04:05Z07:00"}
		if layout, ok := layouts[fmt.Sprint(s["format"])]; ok {
			if _, err := time.Parse(layout, v); err != nil {
				return fmt.Errorf("%s: %q is no %s", path, v, s["format"])
			}
		}
	case json.Number:
		f, _ := v.Float64()
		lo, hasLo := num(s["minimum"])
		hi, hasHi := num(s["maximum"])
		if hasLo && (f < lo || (s["exclusiveMinimum"] == true && f == lo)) {
			return fmt.Errorf("%s: %v below %v", path, f, lo)
		}
		if hasHi && (f > hi || (s["exclusiveMaximum"] == true && f == hi)) {
			return fmt.Errorf("%s: %v above %v", path, f, hi)
		}
		if x, ok := num(s["exclusiveMinimum"]); ok && f <= x {
			return fmt.Errorf("%s: %v not above %v", path, f, x)
		}
		if x, ok := num(s["exclusiveMaximum"]); ok && f >= x {
			return fmt.Errorf("%s: %v not below %v", path, f, x)
		}
		if m, ok := num(s["multipleOf"]); ok {
			q := f / m
			if math.Abs(q-math.Round(q)) > 1e-9 {
				return fmt.Errorf("%s: %v not a multiple of %v", path, f, m)
			}
		}
	}
	return nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func decode(t *testing.T, text string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("invalid JSON %q: %v", text, err)
	}
	if d.More() {
		t.Fatalf("trailing data in %q", text)
	}
	return v
}

// Pydantic v2 schemas as LangChain's with_structured_output sends them.
var testSchemas = map[string]string{
	"person": `{"$defs": {"Address": {"properties": {"street": {"title": "Street", "type": "string"}, "city": {"title": "City", "type": "string"}, "zip": {"anyOf": [{"type": "string", "pattern": "^[0-9]{5}$"}, {"type": "null"}], "default": null}}, "required": ["street", "city"], "title": "Address", "type": "object"}, "Color": {"enum": ["red", "green", "blue"], "title": "Color", "type": "string"}},
		"properties": {"name": {"description": "Full name", "maxLength": 20, "minLength": 3, "title": "Name", "type": "string"}, "age": {"exclusiveMinimum": 0, "maximum": 150, "title": "Age", "type": "integer"}, "height": {"exclusiveMaximum": 3.0, "exclusiveMinimum": 0.5, "type": "number"}, "email": {"format": "email", "type": "string"}, "born": {"format": "date", "type": "string"}, "seen": {"format": "date-time", "type": "string"}, "address": {"$ref": "#/$defs/Address"}, "favourite": {"$ref": "#/$defs/Color"}, "tags": {"items": {"type": "string"}, "maxItems": 5, "minItems": 2, "type": "array", "uniqueItems": true}, "kind": {"const": "person", "type": "string"}, "nickname": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null}, "scores": {"additionalProperties": {"type": "integer", "multipleOf": 5, "minimum": 10, "maximum": 20}, "type": "object", "minProperties": 2}, "active": {"type": "boolean"}, "nothing": {"type": "null"}},
		"required": ["name", "age", "address", "favourite", "tags", "kind", "scores"], "title": "Person", "type": "object"}`,
	"recursive":    `{"$defs": {"Node": {"properties": {"name": {"type": "string"}, "children": {"items": {"$ref": "#/$defs/Node"}, "type": "array"}, "parent": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}}, "required": ["name", "children", "parent"], "title": "Node", "type": "object"}}, "$ref": "#/$defs/Node"}`,
	"draft4":       `{"definitions": {"pos": {"type": "integer", "minimum": 0, "exclusiveMinimum": true, "maximum": 3, "exclusiveMaximum": true}}, "type": "object", "properties": {"pair": {"type": "array", "items": [{"$ref": "#/definitions/pos"}, {"type": "string", "enum": ["a", "b"]}], "additionalItems": false, "minItems": 2}, "ratio": {"type": ["number", "null"], "minimum": 0.25, "maximum": 0.26}, "even": {"type": "integer", "multipleOf": 2, "minimum": 7, "maximum": 9}}, "required": ["pair", "ratio", "even"], "additionalProperties": false}`,
	"allOf":        `{"definitions": {"Base": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}}, "allOf": [{"$ref": "#/definitions/Base"}, {"properties": {"label": {"type": "string", "minLength": 40}}, "required": ["label"]}]}`,
	"oneOf":        `{"type": "object", "properties": {"shape": {"oneOf": [{"const": "circle"}, {"const": "square"}]}, "size": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 3}, {"type": "string"}]}}, "required": ["shape", "size"], "maxProperties": 2}`,
	"limits":       `{"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "string"}}, "required": ["c"], "maxProperties": 2, "additionalProperties": false}`,
	"array":        `{"type": "array", "items": {"type": "object", "properties": {"answer": {"type": "string"}, "confidence": {"type": "number", "minimum": 0, "maximum": 1}}, "required": ["answer", "confidence"]}, "minItems": 1}`,
	"string":       `{"type": "string", "maxLength": 5}`,
	"integer":      `{"type": "integer", "minimum": -1000000000000, "maximum": -999999999999}`,
	"empty-object": `{"type": "object"}`,
	"no-type":      `{"properties": {"answer": {}}}`,
	"tuple2020":    `{"type": "array", "prefixItems": [{"type": "boolean"}, {"type": "null"}], "items": false}`,
	"uniqueEnum":   `{"type": "array", "items": {"enum": [1, 2]}, "uniqueItems": true, "minItems": 2, "maxItems": 2}`,
	"answer":       `{"title": "AnswerWithJustification", "type": "object", "properties": {"answer": {"type": "string"}, "justification": {"type": "string"}}, "required": ["answer", "justification"]}`,
	"escapes":      `{"type": "object", "properties": {"quo\"te\u00e9\ud83d\ude00": {"enum": ["tab\there", "\ud800"]}}, "required": ["quo\"te\u00e9\ud83d\ude00"]}`,
}

func TestSchemaInstancesAreValid(t *testing.T) {
	m := zeroModel(BehaviourCorrect, 30)
	for name, schema := range testSchemas {
		for seed := 0; seed < 20; seed++ {
			p := userPrompt("Tell me about Ada Lovelace, born in London. " + name)
			a := m.Answer(p, Options{Seed: seed}, nil, json.RawMessage(schema))
			text := join(a.Tokens)
			if a.DoneReason != "stop" || a.Generated != len(a.Tokens) || len(a.Tokens) < 1 {
				t.Fatalf("%s: %+v", name, a)
			}
			root := decode(t, schema)
			if err := validate(root, root, decode(t, text), "$"); err != nil {
				t.Fatalf("%s seed %d: %v\n%s", name, seed, err, text)
			}
			if again := join(m.Answer(p, Options{Seed: seed}, nil, json.RawMessage(schema)).Tokens); again != text {
				t.Fatalf("%s: not deterministic", name)
			}
			if seed == 0 && testing.Verbose() {
				t.Logf("%s: %s", name, text)
			}
		}
	}
}

func TestSchemaContent(t *testing.T) {
	m := zeroModel(BehaviourCorrect, 12)
	p := userPrompt("Why is the sky blue?")
	a := m.Answer(p, Options{}, nil, json.RawMessage(testSchemas["answer"]))
	var v struct{ Answer, Justification string }
	if err := json.Unmarshal([]byte(join(a.Tokens)), &v); err != nil {
		t.Fatal(err)
	}
	if v.Answer != DeterministicText(p, 0, 12) || v.Justification == "" || v.Justification == v.Answer {
		t.Fatalf("the answer member should carry the plain answer: %+v", v)
	}
	if join(m.Answer(p, Options{Seed: 1}, nil, json.RawMessage(testSchemas["person"])).Tokens) ==
		join(m.Answer(p, Options{Seed: 2}, nil, json.RawMessage(testSchemas["person"])).Tokens) {
		t.Fatal("the seed should change the instance")
	}
	// A router asked for structured output picks the scripted route.
	router := "Given the user query, classify it as either \"math\" or \"prose\".\nQuery: What is 15 * 12?"
	schema := `{"type": "object", "properties": {"destination": {"enum": ["prose", "math"]}}, "required": ["destination"]}`
	for seed := 0; seed < 5; seed++ {
		a = m.Answer(userPrompt(router), Options{Seed: seed}, nil, json.RawMessage(schema))
		if join(a.Tokens) != `{"destination": "math"}` {
			t.Fatalf("%q", join(a.Tokens))
		}
	}
}

func TestJSONFormat(t *testing.T) {
	m := zeroModel(BehaviourCorrect, 40)
	p := userPrompt("Why is the sky blue?")
	for _, format := range []string{`"json"`, ` "json" `, `{}`, `{"type": "object"}`} {
		a := m.Answer(p, Options{}, nil, json.RawMessage(format))
		var v map[string]string
		if err := json.Unmarshal([]byte(join(a.Tokens)), &v); err != nil || v["answer"] != DeterministicText(p, 0, 40) {
			t.Fatalf("format %s: %q %v", format, join(a.Tokens), err)
		}
		if len(a.Tokens) != 41 {
			t.Fatalf("format %s: %d tokens", format, len(a.Tokens))
		}
	}
	plain := join(m.Answer(p, Options{}, nil, nil).Tokens)
	for _, format := range []string{``, `null`, `""`, `"text"`, `42`, `[1]`, `true`} {
		if got := join(m.Answer(p, Options{}, nil, json.RawMessage(format)).Tokens); got != plain {
			t.Fatalf("format %q should be plain text, got %q", format, got)
		}
	}
	// A scripted reply inside JSON, with characters that need escaping.
	q := "Action Input Final Answer\nQuestion: Tell me \"quoted\" \\ things\t\xff"
	a := m.Answer(userPrompt(q), Options{}, nil, json.RawMessage(`"json"`))
	var v map[string]string
	if err := json.Unmarshal([]byte(join(a.Tokens)), &v); err != nil || !strings.Contains(v["answer"], "Final Answer: I cannot break") {
		t.Fatalf("%q %v", join(a.Tokens), err)
	}
	// num_predict cuts JSON like any text, as a real model would.
	a = m.Answer(p, Options{NumPredict: 3}, nil, json.RawMessage(`"json"`))
	if a.DoneReason != "length" || len(a.Tokens) != 3 || json.Valid([]byte(join(a.Tokens))) {
		t.Fatalf("%+v", a)
	}
}

func TestHostileSchemas(t *testing.T) {
	m := zeroModel(BehaviourCorrect, 10)
	p := userPrompt("x")
	// Exponential fan-out through $defs: every level doubles.
	var defs []string
	for i := 0; i < 40; i++ {
		defs = append(defs, fmt.Sprintf(`"d%d": {"type": "object", "properties": {"a": {"$ref": "#/$defs/d%d"}, "b": {"$ref": "#/$defs/d%d"}}, "required": ["a", "b"]}`, i, i+1, i+1))
	}
	defs = append(defs, `"d40": {"type": "string"}`)
	fanout := `{"$defs": {` + strings.Join(defs, ", ") + `}, "$ref": "#/$defs/d0"}`
	deep := strings.Repeat(`{"items": `, 300) + `{}` + strings.Repeat(`}`, 300)
	deepValid := strings.Repeat(`{"type": "array", "items": `, 100) + `{"type": "string"}` + strings.Repeat(`}`, 100)
	for name, schema := range map[string]string{
		"fanout":     fanout,
		"deep":       deep,
		"deep100":    deepValid,
		"cycle":      `{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}`,
		"self":       `{"$ref": "#"}`,
		"missing":    `{"$ref": "#/$defs/nope"}`,
		"remote":     `{"$ref": "https://example.com/schema.json"}`,
		"huge":       `{"type": "object", "properties": {"s": {"type": "string", "minLength": 1e12}, "a": {"type": "array", "minItems": 1e12}, "n": {"type": "number", "minimum": 1e308, "maximum": 1.7e308}, "i": {"type": "integer", "minimum": 1e300}}}`,
		"false":      `{"type": "object", "properties": {"never": false}, "required": ["never"]}`,
		"badtypes":   `{"type": 7, "properties": [], "required": {}, "items": "x", "enum": [], "allOf": 3, "anyOf": [], "minItems": "2", "$ref": 5}`,
		"impossible": `{"type": "integer", "minimum": 5, "maximum": 4}`,
		"allOfCycle": `{"$defs": {"A": {"allOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}]}, "B": {"allOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}], "properties": {"x": {"$ref": "#/$defs/A"}}}}, "$ref": "#/$defs/A"}`,
		"anyOfDeep":  strings.Repeat(`{"anyOf": [`, 150) + `{"type": "string"}` + strings.Repeat(`]}`, 150),
	} {
		start := time.Now()
		a := m.Answer(p, Options{}, nil, json.RawMessage(schema))
		text := join(a.Tokens)
		if !json.Valid([]byte(text)) {
			t.Fatalf("%s: invalid JSON %.200q", name, text)
		}
		if d := time.Since(start); d > 200*time.Millisecond || len(text) > 2<<20 {
			t.Fatalf("%s: %v, %d bytes", name, d, len(text))
		}
	}
	var v map[string]any
	json.Unmarshal([]byte(join(m.Answer(p, Options{}, nil, json.RawMessage(deep)).Tokens)), &v)
	if _, ok := v["answer"]; !ok {
		t.Fatal("a schema nested past the parser's limit reads as \"json\"")
	}
}

func TestConcurrentAnswers(t *testing.T) {
	m := zeroModel(BehaviourCorrect, 20)
	done := make(chan string, 8)
	for g := 0; g < 8; g++ {
		go func() {
			names := make([]string, 0, len(testSchemas))
			for name := range testSchemas {
				names = append(names, name)
			}
			sort.Strings(names)
			var all strings.Builder
			for i := 0; i < 50; i++ {
				for _, name := range names {
					a := m.Answer(userPrompt(name), Options{Seed: i}, nil, json.RawMessage(testSchemas[name]))
					all.WriteString(join(a.Tokens))
				}
				Embed("concurrent text", 64)
			}
			done <- all.String()
		}()
	}
	first := <-done
	for g := 1; g < 8; g++ {
		if got := <-done; got != first {
			t.Fatal("answers differ across goroutines")
		}
	}
}

func TestParseJSON(t *testing.T) {
	good := []string{`{}`, `[]`, `"a\u00e9\ud83d\ude00\n"`, `-0.5e+3`, `{"a": [1, true, false, null, "x"]}`, " \t\n{ \"k\" : 1 } "}
	for _, s := range good {
		n, err := parseJSON(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		var want, got any
		json.Unmarshal([]byte(s), &want)
		json.Unmarshal(appendJSON(nil, n), &got)
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%q round-trips to %s", s, appendJSON(nil, n))
		}
	}
	for _, s := range []string{``, `{`, `{"a"}`, `{"a":}`, `[1,]`, `01`, `1.`, `"\x"`, `"a`, "\"\x01\"", `tru`, `{} x`, `"\u12"`,
		strings.Repeat("[", 201) + strings.Repeat("]", 201)} {
		if _, err := parseJSON(s); err == nil {
			t.Fatalf("%q should not parse", s)
		}
	}
	if n, _ := parseJSON(`"\ud800x"`); n.s != "\uFFFDx" {
		t.Fatalf("lone surrogate: %q", n.s)
	}
	if got := string(appendJSONString(nil, "a\"\\\n\x01\xff\u2028")); got != `"a\"\\\n\u0001`+"\uFFFD"+`\u2028"` {
		t.Fatalf("%s", got)
	}
}
