package synth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// JSON-format answers: the request's "format" is "json" (any JSON object) or a JSON schema
// (an instance of it). See Model.Answer.

type formatKind uint8

const (
	formatNone formatKind = iota
	formatJSON
	formatSchema
)

type formatSpec struct {
	kind   formatKind
	schema *jsonNode
}

// schemaCache keeps parsed schemas by their text: clients send the same schema with every
// request. It stops growing at maxCachedSchemas entries.
var schemaCache = struct {
	sync.RWMutex
	m map[string]*jsonNode
}{m: map[string]*jsonNode{}}

const maxCachedSchemas = 256

// parseFormat reads a request's "format": absent, null, "" or any string but "json" is
// plain text; "json" is a JSON object; an object is a JSON schema ({} and a schema this
// parser rejects, e.g. one nested more than 200 levels, read as "json").
func parseFormat(raw json.RawMessage) formatSpec {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 || string(b) == "null" {
		return formatSpec{}
	}
	switch b[0] {
	case '"':
		if string(b) == `"json"` {
			return formatSpec{kind: formatJSON}
		}
		if n, err := parseJSON(string(b)); err == nil && n.s == "json" { // escaped spelling
			return formatSpec{kind: formatJSON}
		}
		return formatSpec{}
	case '{':
		schemaCache.RLock()
		n, ok := schemaCache.m[string(b)] // no copy for the lookup
		schemaCache.RUnlock()
		if !ok {
			s := string(b)
			var err error
			if n, err = parseJSON(s); err != nil {
				n = nil
			}
			schemaCache.Lock()
			if len(schemaCache.m) < maxCachedSchemas {
				schemaCache.m[s] = n
			}
			schemaCache.Unlock()
		}
		if n == nil || len(n.keys) == 0 {
			return formatSpec{kind: formatJSON}
		}
		return formatSpec{kind: formatSchema, schema: n}
	}
	return formatSpec{}
}

// Bounds on generating an instance: nesting, values before answers turn minimal, values
// before they turn terminal (possibly invalid, but finite), array and string sizes, and
// output size.
const (
	maxSchemaDepth   = 32
	schemaBudget     = 2000
	maxArrayItems    = 256
	maxStringChars   = 4096
	maxInstanceBytes = 1 << 20
)

type schemaGen struct {
	root     *jsonNode
	words    wordSource
	buf      []byte
	budget   int
	base     func() string // the plain answer, for the first answer-like string
	baseUsed bool
	scripted string      // a scripted reply, preferred among enum values
	active   []*jsonNode // $ref targets being generated (recursion)
}

// render writes the answer for a format: {"answer": base} for "json", an instance of the
// schema otherwise. Content comes from the prompt and seed (the same words the plain text
// uses), so it is deterministic.
func renderFormat(spec formatSpec, p Prompt, promptKey uint64, seed int, base func() string,
	scripted string) string {
	g := &schemaGen{
		root:     spec.schema,
		words:    newWordSource(textSeed(promptKey, seed)^0x4a534f4e, p),
		buf:      make([]byte, 0, 256),
		budget:   schemaBudget,
		base:     base,
		scripted: strings.TrimSpace(scripted),
	}
	if spec.kind == formatJSON {
		g.answerObject()
	} else {
		g.gen(spec.schema, 0, "", false)
	}
	return string(g.buf)
}

func (g *schemaGen) answerObject() {
	g.buf = append(g.buf, `{"answer": `...)
	g.baseUsed = true
	g.buf = appendJSONString(g.buf, g.base())
	g.buf = append(g.buf, '}')
}

// deref follows $ref (within the document: "#", "#/$defs/X", "#/definitions/X", any JSON
// pointer); a ref it cannot resolve, or a chain of more than 32, is the empty schema.
// recursive is set when the target is already being generated higher up.
func (g *schemaGen) deref(s *jsonNode) (target *jsonNode, recursive bool) {
	for hops := 0; s != nil && s.kind == jsonObject; hops++ {
		ref, ok := s.get("$ref").str()
		if !ok {
			break
		}
		if hops == 32 {
			return nil, false
		}
		s = g.resolve(ref)
		for _, a := range g.active {
			if a == s {
				recursive = true
			}
		}
	}
	return s, recursive
}

func (g *schemaGen) resolve(ref string) *jsonNode {
	if ref == "#" {
		return g.root
	}
	if !strings.HasPrefix(ref, "#/") {
		return nil
	}
	n := g.root
	for _, part := range strings.Split(ref[2:], "/") {
		if strings.IndexByte(part, '%') >= 0 {
			if u, err := url.PathUnescape(part); err == nil {
				part = u
			}
		}
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		switch {
		case n == nil:
			return nil
		case n.kind == jsonObject:
			n = n.get(part)
		case n.kind == jsonArray:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(n.items) {
				return nil
			}
			n = n.items[i]
		default:
			return nil
		}
	}
	return n
}

func (g *schemaGen) terminal() bool {
	return g.budget < -schemaBudget || len(g.buf) > maxInstanceBytes
}

// gen writes an instance of s. name is the property it is for (answer-like names get the
// plain answer); lean asks for a minimal instance (required members only, fewest items,
// null where allowed), used under recursion and once the budget is spent.
func (g *schemaGen) gen(s *jsonNode, depth int, name string, lean bool) {
	s, recursive := g.deref(s)
	if recursive {
		lean = true
	}
	g.budget--
	if g.budget <= 0 {
		lean = true
	}
	if s != nil && s.kind == jsonBool && !s.b {
		g.buf = append(g.buf, "null"...) // false: nothing is valid
		return
	}
	if s == nil || s.kind != jsonObject {
		s = nil // true, or not a schema: anything goes
	}
	if s != nil {
		g.active = append(g.active, s)
		defer func() { g.active = g.active[:len(g.active)-1] }()
	}
	if c := s.get("const"); c != nil {
		g.buf = appendJSON(g.buf, c)
		return
	}
	if e := s.get("enum"); e != nil && e.kind == jsonArray && len(e.items) > 0 {
		g.buf = appendJSON(g.buf, g.pickEnum(e.items))
		return
	}
	typ := g.pickType(s, depth, lean)
	if depth >= maxSchemaDepth || g.terminal() {
		g.terminalValue(typ)
		return
	}
	if all := s.get("allOf"); all != nil && all.kind == jsonArray && len(all.items) > 0 {
		g.gen(g.mergeAllOf(s, 0), depth+1, name, lean)
		return
	}
	for _, key := range [...]string{"anyOf", "oneOf"} {
		if alt := s.get(key); alt != nil && alt.kind == jsonArray && len(alt.items) > 0 {
			g.gen(g.pickBranch(alt.items, lean), depth+1, name, lean)
			return
		}
	}
	switch typ {
	case "object":
		g.genObject(s, depth, lean)
	case "answer":
		g.answerObject()
	case "array":
		g.genArray(s, depth, lean)
	case "integer":
		g.genNumber(s, true)
	case "number":
		g.genNumber(s, false)
	case "boolean":
		g.buf = strconv.AppendBool(g.buf, g.words.r.next()&1 == 1)
	case "null":
		g.buf = append(g.buf, "null"...)
	default:
		g.genString(s, name, lean)
	}
}

func (g *schemaGen) terminalValue(typ string) {
	switch typ {
	case "object", "answer":
		g.buf = append(g.buf, "{}"...)
	case "array":
		g.buf = append(g.buf, "[]"...)
	case "integer", "number":
		g.buf = append(g.buf, '0')
	case "boolean":
		g.buf = append(g.buf, "false"...)
	case "null":
		g.buf = append(g.buf, "null"...)
	default:
		g.buf = append(g.buf, `""`...)
	}
}

// pickType is the type to write: the first listed type that is not "null" (null when it is
// the only one, or when lean), else inferred from the keywords; a schema with none of them
// is a string, or at the top an object {"answer": ...}.
func (g *schemaGen) pickType(s *jsonNode, depth int, lean bool) string {
	t := s.get("type")
	first, hasNull := "", false
	if v, ok := t.str(); ok {
		first, hasNull = v, v == "null"
	} else if t != nil && t.kind == jsonArray {
		for _, item := range t.items {
			v, _ := item.str()
			if v == "null" {
				hasNull = true
			} else if first == "" && v != "" {
				first = v
			}
		}
	}
	if hasNull && (lean || first == "") {
		return "null"
	}
	if first != "" {
		if first == "object" && depth == 0 && s.get("properties") == nil &&
			s.get("required") == nil && !isFalse(s.get("additionalProperties")) {
			return "answer"
		}
		return first
	}
	has := func(keys ...string) bool {
		for _, k := range keys {
			if s.get(k) != nil {
				return true
			}
		}
		return false
	}
	switch {
	case has("properties", "required", "additionalProperties", "patternProperties",
		"minProperties", "maxProperties"):
		return "object"
	case has("items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains"):
		return "array"
	case has("minLength", "maxLength", "pattern", "format"):
		return "string"
	case has("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
		return "number"
	case has("allOf", "anyOf", "oneOf"):
		return "string" // decided by the branch; only used for terminal values
	case depth == 0:
		return "answer"
	}
	return "string"
}

func isFalse(n *jsonNode) bool { return n != nil && n.kind == jsonBool && !n.b }

// pickEnum prefers the value a scripted reply names (a router's "math"), else draws one.
func (g *schemaGen) pickEnum(items []*jsonNode) *jsonNode {
	if g.scripted != "" {
		for _, it := range items {
			if v, ok := it.str(); ok && strings.EqualFold(strings.TrimSpace(v), g.scripted) {
				return it
			}
		}
	}
	return items[g.words.r.intn(len(items))]
}

// isNullSchema: a branch that only allows null.
func (g *schemaGen) isNullSchema(s *jsonNode) bool {
	s, _ = g.deref(s)
	if t, ok := s.get("type").str(); ok {
		return t == "null"
	}
	if c := s.get("const"); c != nil {
		return c.kind == jsonNull
	}
	return false
}

// pickBranch is the first anyOf/oneOf branch that is not just null and has no "pattern"
// (which instances do not honour), else a null branch, else the first; when lean, a null
// branch first, so recursive optional members end.
func (g *schemaGen) pickBranch(items []*jsonNode, lean bool) *jsonNode {
	var null, plain *jsonNode
	for _, it := range items {
		switch target, _ := g.deref(it); {
		case g.isNullSchema(it):
			if null == nil {
				null = it
			}
		case plain == nil && target.get("pattern") == nil:
			plain = it
		}
	}
	if lean && null != nil {
		return null
	}
	if plain != nil {
		return plain
	}
	if null != nil {
		return null
	}
	return items[0]
}

// mergeAllOf folds allOf's schemas (and the schema's own keywords) into one: properties
// merge, required lists join, other keywords keep their first value.
func (g *schemaGen) mergeAllOf(s *jsonNode, level int) *jsonNode {
	out := &jsonNode{kind: jsonObject}
	var props, required *jsonNode
	var merged []*jsonNode // each schema merges once, so cycles and repeats cost nothing
	var add func(n *jsonNode, level int)
	add = func(n *jsonNode, level int) {
		n, _ = g.deref(n)
		if n == nil || n.kind != jsonObject || level > maxSchemaDepth || len(merged) > schemaBudget {
			return
		}
		for _, m := range merged {
			if m == n {
				return
			}
		}
		merged = append(merged, n)
		for i, k := range n.keys {
			v := n.vals[i]
			switch k {
			case "allOf":
				if v.kind == jsonArray {
					for _, sub := range v.items {
						add(sub, level+1)
					}
				}
			case "$ref":
			case "properties":
				if v.kind != jsonObject {
					continue
				}
				if props == nil {
					props = &jsonNode{kind: jsonObject}
					out.keys, out.vals = append(out.keys, k), append(out.vals, props)
				}
				for j, pk := range v.keys {
					if props.get(pk) == nil {
						props.keys, props.vals = append(props.keys, pk), append(props.vals, v.vals[j])
					}
				}
			case "required":
				if v.kind != jsonArray {
					continue
				}
				if required == nil {
					required = &jsonNode{kind: jsonArray}
					out.keys, out.vals = append(out.keys, k), append(out.vals, required)
				}
				required.items = append(required.items, v.items...)
			default:
				if out.get(k) == nil {
					out.keys, out.vals = append(out.keys, k), append(out.vals, v)
				}
			}
		}
	}
	add(s, level)
	return out
}

// intKeyword is a non-negative integer keyword's value, or def.
func intKeyword(s *jsonNode, key string, def int) int {
	f, ok := s.get(key).float()
	if !ok || f < 0 || math.IsNaN(f) {
		return def
	}
	if f > 1<<30 {
		return 1 << 30
	}
	return int(math.Ceil(f))
}

// requiredSet is the names in "required", in order, without repeats.
func requiredNames(s *jsonNode) []string {
	r := s.get("required")
	if r == nil || r.kind != jsonArray {
		return nil
	}
	names := make([]string, 0, len(r.items))
	var seen map[string]bool
	if len(r.items) > 16 {
		seen = make(map[string]bool, len(r.items))
	}
	for _, it := range r.items {
		name, ok := it.str()
		if !ok {
			continue
		}
		if seen != nil {
			if seen[name] {
				continue
			}
			seen[name] = true
		} else if containsString(names, name) {
			continue
		}
		names = append(names, name)
	}
	return names
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (g *schemaGen) genObject(s *jsonNode, depth int, lean bool) {
	props := s.get("properties")
	if props != nil && props.kind != jsonObject {
		props = nil
	}
	required := requiredNames(s)
	var requiredSet map[string]bool
	if len(required) > 16 {
		requiredSet = make(map[string]bool, len(required))
		for _, r := range required {
			requiredSet[r] = true
		}
	}
	isRequired := func(name string) bool {
		if requiredSet != nil {
			return requiredSet[name]
		}
		return containsString(required, name)
	}
	addl := s.get("additionalProperties")
	var addlSchema *jsonNode
	if addl != nil && addl.kind == jsonObject {
		addlSchema = addl
	}
	optional := -1 // optional members still allowed; -1: any number
	if maxP := intKeyword(s, "maxProperties", -1); maxP >= 0 {
		optional = max(maxP-len(required), 0)
	}
	if lean {
		optional = 0
	}
	g.buf = append(g.buf, '{')
	count := 0
	member := func(name string, schema *jsonNode) {
		if count > 0 {
			g.buf = append(g.buf, ", "...)
		}
		g.buf = appendJSONString(g.buf, name)
		g.buf = append(g.buf, ": "...)
		g.gen(schema, depth+1, name, lean)
		count++
	}
	if props != nil {
		for i, name := range props.keys {
			if props.index != nil && props.index[name] != i || props.index == nil && props.get(name) != props.vals[i] {
				continue // a repeated key: its last value stands
			}
			if !isRequired(name) {
				if optional == 0 || g.terminal() {
					continue
				}
				if optional > 0 {
					optional--
				}
			}
			member(name, props.vals[i])
		}
	}
	for _, name := range required {
		if props.get(name) == nil {
			member(name, addlSchema)
		}
	}
	if minP := intKeyword(s, "minProperties", 0); count < minP && !isFalse(addl) {
		for i := 1; count < minP && count < maxArrayItems; i++ {
			name := "field_" + strconv.Itoa(i)
			if props.get(name) == nil && !isRequired(name) {
				member(name, addlSchema)
			}
		}
	}
	g.buf = append(g.buf, '}')
}

func (g *schemaGen) genArray(s *jsonNode, depth int, lean bool) {
	minItems := intKeyword(s, "minItems", 0)
	maxItems := intKeyword(s, "maxItems", -1)
	n := 1 + g.words.r.intn(3)
	if lean {
		n = 0
	}
	n = max(n, minItems)
	if maxItems >= 0 {
		n = min(n, maxItems)
	}
	n = min(n, maxArrayItems)
	var prefix []*jsonNode
	items := s.get("items")
	rest := items
	if p := s.get("prefixItems"); p != nil && p.kind == jsonArray {
		prefix = p.items
	} else if items != nil && items.kind == jsonArray {
		prefix, rest = items.items, s.get("additionalItems")
	}
	unique := s.get("uniqueItems")
	isUnique := unique != nil && unique.kind == jsonBool && unique.b
	var spans [][2]int
	g.buf = append(g.buf, '[')
	for i := 0; i < n; i++ {
		schema := rest
		if i < len(prefix) {
			schema = prefix[i]
		}
		if isFalse(schema) {
			break
		}
		mark := len(g.buf)
		if i > 0 {
			g.buf = append(g.buf, ", "...)
		}
		start := len(g.buf)
		g.gen(schema, depth+1, "", lean)
		if isUnique {
			if !g.makeUnique(schema, depth, lean, spans, start) {
				g.buf = g.buf[:mark]
				break
			}
			spans = append(spans, [2]int{start, len(g.buf)})
		}
	}
	g.buf = append(g.buf, ']')
}

// makeUnique makes the item written from start differ from the earlier ones (spans): it
// draws again a few times, then tries an enum's values in turn; false if it cannot.
func (g *schemaGen) makeUnique(schema *jsonNode, depth int, lean bool, spans [][2]int, start int) bool {
	for try := 0; try < 8; try++ {
		if !duplicate(g.buf, spans, start) {
			return true
		}
		g.buf = g.buf[:start]
		g.gen(schema, depth+1, "", lean)
	}
	target, _ := g.deref(schema)
	if e := target.get("enum"); e != nil && e.kind == jsonArray {
		for _, it := range e.items {
			if !duplicate(g.buf, spans, start) {
				return true
			}
			g.buf = appendJSON(g.buf[:start], it)
		}
	}
	return !duplicate(g.buf, spans, start)
}

func duplicate(buf []byte, spans [][2]int, start int) bool {
	item := buf[start:]
	for _, sp := range spans {
		if bytes.Equal(buf[sp[0]:sp[1]], item) {
			return true
		}
	}
	return false
}

// bound is a numeric keyword: minimum / maximum with their exclusive forms (draft 4's
// boolean and later drafts' number).
func bounds(s *jsonNode) (lo, hi float64, loEx, hiEx bool) {
	lo, hi = math.Inf(-1), math.Inf(1)
	if v, ok := s.get("minimum").float(); ok {
		lo = v
	}
	if v, ok := s.get("maximum").float(); ok {
		hi = v
	}
	if e := s.get("exclusiveMinimum"); e != nil {
		if v, ok := e.float(); ok && v >= lo {
			lo, loEx = v, true
		} else if e.kind == jsonBool && e.b {
			loEx = true
		}
	}
	if e := s.get("exclusiveMaximum"); e != nil {
		if v, ok := e.float(); ok && v <= hi {
			hi, hiEx = v, true
		} else if e.kind == jsonBool && e.b {
			hiEx = true
		}
	}
	return lo, hi, loEx, hiEx
}

// genNumber draws a number inside the bounds (by default 0..100), a multiple of multipleOf
// if given; integers print without a fraction, numbers with at most two decimals.
func (g *schemaGen) genNumber(s *jsonNode, integer bool) {
	lo, hi, loEx, hiEx := bounds(s)
	mult, _ := s.get("multipleOf").float()
	if !(mult > 0) || math.IsInf(mult, 0) {
		mult = 0
	}
	if integer && mult != math.Trunc(mult) {
		mult = 0
	}
	if integer && mult == 0 {
		mult = 1
	}
	// The allowed closed range [a, b], on multiples of mult if it is set.
	a, b := lo, hi
	if mult > 0 {
		if !math.IsInf(a, 0) {
			k := math.Ceil(a / mult)
			if loEx && k*mult <= lo {
				k++
			}
			a = k * mult
		}
		if !math.IsInf(b, 0) {
			k := math.Floor(b / mult)
			if hiEx && k*mult >= hi {
				k--
			}
			b = k * mult
		}
	}
	switch {
	case math.IsInf(a, -1) && math.IsInf(b, 1):
		a, b = 0, 100
	case math.IsInf(a, -1):
		a = b - 100
	case math.IsInf(b, 1):
		b = a + 100
	}
	var v float64
	switch {
	case a > b:
		v = a // no value fits; the schema is unsatisfiable
	case mult > 0:
		first, last := math.Ceil(a/mult), math.Floor(b/mult)
		k := first
		if span := last - first; span >= 1 && span < 1<<53 {
			k += float64(g.words.r.intn(int(math.Min(span, 1<<30)) + 1))
		}
		v = k * mult
	default:
		u := float64(g.words.r.next()>>11) / (1 << 53)
		v = math.Round((a+(b-a)*u)*100) / 100
		if math.IsInf(b-a, 0) {
			v = a/2 + b/2
		}
		if v < a || v > b || (loEx && v <= lo) || (hiEx && v >= hi) {
			v = a/2 + b/2
		}
	}
	if v == 0 {
		v = 0 // no "-0"
	}
	if integer || (mult > 0 && mult == math.Trunc(mult) && math.Abs(v) < 1e15) {
		g.buf = strconv.AppendFloat(g.buf, v, 'f', 0, 64)
		return
	}
	g.buf = strconv.AppendFloat(g.buf, v, 'f', -1, 64)
}

// answerLike names are the members that get the plain answer.
var answerLike = [...]string{"text", "content", "response", "output", "result", "reply",
	"message", "explanation", "reasoning", "summary", "body"}

func isAnswerLike(name string) bool {
	if containsFold(name, "answer") {
		return true
	}
	for _, a := range answerLike {
		if strings.EqualFold(name, a) {
			return true
		}
	}
	return false
}

// genString writes a string: a formatted value for the common formats (date, date-time,
// time, email, uri, uuid, hostname, ipv4, ipv6, duration), the plain answer for the first
// answer-like member, a few words otherwise; then fitted to minLength/maxLength
// (characters). "pattern" is not honoured.
func (g *schemaGen) genString(s *jsonNode, name string, lean bool) {
	r := &g.words.r
	vocab := func() string { return vocabulary[r.intn(len(vocabulary))] }
	var v string
	format, _ := s.get("format").str()
	switch format {
	case "date":
		v = fmt.Sprintf("%04d-%02d-%02d", 2000+r.intn(30), 1+r.intn(12), 1+r.intn(28))
	case "date-time":
		v = fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", 2000+r.intn(30), 1+r.intn(12),
			1+r.intn(28), r.intn(24), r.intn(60), r.intn(60))
	case "time":
		v = fmt.Sprintf("%02d:%02d:%02dZ", r.intn(24), r.intn(60), r.intn(60))
	case "email", "idn-email":
		v = vocab() + "." + vocab() + "@example.com"
	case "uri", "url", "iri", "uri-reference", "iri-reference":
		v = "https://example.com/" + vocab()
	case "hostname", "idn-hostname":
		v = vocab() + ".example.com"
	case "uuid":
		x, y := r.next(), r.next()
		v = fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", x>>32, (x>>16)&0xffff, x&0xfff,
			0x8000|(y>>48)&0x3fff, y&0xffffffffffff)
	case "ipv4":
		v = "192.0.2." + strconv.Itoa(1+r.intn(254))
	case "ipv6":
		v = "2001:db8::" + strconv.FormatUint(uint64(1+r.intn(0xfffe)), 16)
	case "duration":
		v = "P" + strconv.Itoa(1+r.intn(30)) + "D"
	}
	if v == "" && !g.baseUsed && g.base != nil && isAnswerLike(name) {
		g.baseUsed = true
		v = g.base()
	}
	if v == "" {
		n := 2 + r.intn(5)
		if lean {
			n = 1
		}
		var buf [64]byte
		v = string(g.words.appendSentences(buf[:0], nil, n, false))
	}
	minLen := min(intKeyword(s, "minLength", 0), maxStringChars)
	maxLen := intKeyword(s, "maxLength", -1)
	g.buf = appendJSONString(g.buf, g.fitLength(v, minLen, maxLen))
}

// fitLength pads s with words up to minLen characters and cuts it to maxLen (< 0: none).
func (g *schemaGen) fitLength(s string, minLen, maxLen int) string {
	count := utf8.RuneCountInString(s)
	if count < minLen {
		b := []byte(s)
		for count < minLen {
			if len(b) > 0 {
				b = append(b, ' ')
				count++
			}
			before := len(b)
			b = g.words.appendWord(b, false)
			count += len(b) - before // words are ASCII
		}
		s = string(b)
	}
	if maxLen >= 0 && count > maxLen {
		i, n := 0, 0
		for i < len(s) && n < maxLen {
			_, w := utf8.DecodeRuneInString(s[i:])
			i += w
			n++
		}
		s = s[:i]
		if minLen < maxLen && strings.HasSuffix(s, " ") {
			s = s[:len(s)-1]
		}
	}
	return s
}
