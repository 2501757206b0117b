package synth

import (
	"encoding/json"
	"strings"
)

// The behaviours: the synthetic model families (see the scripted replies).
const (
	BehaviourCorrect   = "synthetic"
	BehaviourLiar      = "synthetic-liar"
	BehaviourMalformed = "synthetic-malformed"
)

// Behaviours are the synthetic model families: correct, liar, malformed.
var Behaviours = []string{BehaviourCorrect, BehaviourLiar, BehaviourMalformed}

// DefaultNumCtx is Ollama's default context length: prompt tokens are capped at it when the
// request sets no num_ctx.
const DefaultNumCtx = 2048

// Model is one synthetic model: a behaviour at a latency profile ("synthetic-liar:zero").
type Model struct {
	Name      string
	Behaviour string
	Profile   Profile
}

// NewModels makes every behaviour at every profile, keyed by lower-case name.
func NewModels(profiles map[string]Profile) map[string]*Model {
	out := map[string]*Model{}
	for _, b := range Behaviours {
		for name, p := range profiles {
			n := b + ":" + name
			out[strings.ToLower(n)] = &Model{Name: n, Behaviour: b, Profile: p}
		}
	}
	return out
}

// ModelKey is the NewModels key a requested model name refers to: trimmed and lower-cased,
// with a bare behaviour or its ":latest" tag meaning the "zero" profile
// ("Synthetic" -> "synthetic:zero", "synthetic-liar:latest" -> "synthetic-liar:zero").
func ModelKey(name string) string {
	key := strings.ToLower(strings.TrimSpace(name))
	family, tag, _ := strings.Cut(key, ":")
	if tag == "" || tag == "latest" {
		for _, b := range Behaviours {
			if family == b {
				return b + ":zero"
			}
		}
	}
	return key
}

// Answer decides the whole reply to one request, without waiting: the server paces it with
// the Profile (PromptDelay(PromptTokens) before the first token, TokenInterval between
// tokens). It never panics, and its cost is linear in the prompt's size.
//
// The reply is, in order of precedence:
//
//  1. Tools offered on a chat (Prompt.Kind "chat", no Raw): the question is the last "user"
//     message (its last "Question:" line, if it has one) and its Plan (word length,
//     arithmetic, counting) the calls to make; each step goes to the offered tool whose
//     name, else description, mentions word/length, calc/math or count, and steps no tool
//     serves are dropped. The "tool" messages after that user message are the results, in
//     order. While steps remain, the reply is the next call: ToolCalls holds one call,
//     Tokens is empty, Arguments is {key: input} where key is the tool's first "required"
//     parameter, else its only (or alphabetically first) property, else "input", and the
//     input is a number if that property's type is "integer"/"number", else a string.
//     Then the reply is the final answer in the ReAct script's words ("25*4 = 100; the word
//     'knowledge' has 9 characters."; a liar's numbers are off by one; the malformed
//     behaviour calls tools correctly). A chat with no plan, or none an offered tool
//     serves, goes on to 2.
//  2. A scripted reply (ScriptedReply on Prompt.Text): a ReAct step, a router label, a
//     math chain's answer.
//  3. DeterministicText of Profile.OutputTokens words for (prompt, Options.Seed).
//
// format is the request's raw "format" member: absent, null, "" and any string but "json"
// mean plain text. "json" makes the text the JSON object {"answer": <text above>}. A JSON
// schema makes it an instance of the schema built from the prompt and seed: the first
// answer-like string member ("answer", "text", "content", "result", ...) carries the text
// above, and an enum holding a scripted reply's value ("math") picks it. Supported: type
// (and type lists), properties, required, additionalProperties, min/maxProperties, items,
// prefixItems, additionalItems, min/maxItems, uniqueItems, enum, const, min/maxLength,
// format (date, date-time, time, email, uri, uuid, hostname, ipv4, ipv6, duration),
// minimum, maximum, exclusiveMinimum/Maximum (both drafts), multipleOf, anyOf/oneOf (the
// first branch that is neither null nor has a pattern, else null), allOf (merged), and
// $ref to any local JSON pointer ($defs, definitions); recursive references end in minimal
// instances. "pattern" is not honoured. Schemas {} and {"type": "object"} with no members
// give {"answer": ...}. The JSON is written with a space after ':' and ',' (as Python's
// json.dumps) so it splits into word-tokens.
//
// Tokens are the text's word-tokens (SplitWordTokens), then cut as a real model's would
// be: Options.NumPredict > 0 keeps the first NumPredict tokens (DoneReason "length"; a JSON
// answer may then be invalid JSON, as with a real model), and the earliest of Options.Stop
// found in what is left cuts the text there (DoneReason "stop"; Generated still counts the
// token the stop sequence began in, and the stop sequence is not sent). Tool calls are cut
// by neither: their Generated is their size in word-tokens, to be paced like streamed
// tokens although Tokens is empty. PromptTokens is the word count of the messages'
// contents (or the raw text), capped at Options.NumCtx (DefaultNumCtx if <= 0).
func (m *Model) Answer(p Prompt, o Options, tools []Tool, format json.RawMessage) Answer {
	out := Answer{DoneReason: "stop", PromptTokens: promptTokens(p, o.NumCtx)}
	var text string
	have := false
	if len(tools) > 0 && p.Raw == nil && p.Kind == "chat" {
		if call, final, ok := toolTurn(p, tools, m.Behaviour); ok {
			if call != nil {
				out.ToolCalls = []ToolCall{*call}
				out.Generated = toolCallTokens(call)
				return out
			}
			text, have = final, true
		}
	}
	scripted := ""
	if !have {
		if reply, ok := ScriptedReply(p.Text(), m.Behaviour); ok {
			text, have, scripted = reply, true, reply
		}
	}
	key := promptHash(p)
	var tokens []string
	cutShort := false // the text already stops at num_predict
	switch spec := parseFormat(format); {
	case spec.kind != formatNone:
		base := func() string {
			if have {
				return text
			}
			text, _ := deterministicText(p, key, o.Seed, m.Profile.OutputTokens, true)
			return text
		}
		text = renderFormat(spec, p, key, o.Seed, base, scripted)
		tokens = SplitWordTokens(text)
	case !have:
		// Words past num_predict would be cut anyway: write only those.
		n, full := m.Profile.OutputTokens, true
		if o.NumPredict > 0 && o.NumPredict < n {
			n, full, cutShort = o.NumPredict, false, true
		}
		text, tokens = deterministicText(p, key, o.Seed, n, full)
	default:
		tokens = SplitWordTokens(text)
	}
	out.Tokens, out.Generated, out.DoneReason = limitTokens(text, tokens, o, cutShort)
	return out
}

// limitTokens applies num_predict, then the stop sequences, to tokens (text's tokens, in
// order): the tokens to send, how many were generated, and the done reason. cutShort says
// the text was written only up to num_predict tokens.
func limitTokens(text string, tokens []string, o Options, cutShort bool) ([]string, int, string) {
	reason := "stop"
	if cutShort {
		reason = "length"
	}
	if o.NumPredict > 0 && len(tokens) > o.NumPredict {
		tokens, reason = tokens[:o.NumPredict], "length"
	}
	generated := len(tokens)
	if len(o.Stop) == 0 || len(tokens) == 0 {
		return tokens, generated, reason
	}
	n := 0
	for _, t := range tokens {
		n += len(t)
	}
	shown := text[:n]
	cut := -1
	for _, s := range o.Stop {
		if s == "" {
			continue
		}
		limit := shown
		if cut >= 0 {
			limit = shown[:min(cut+len(s), len(shown))]
		}
		if i := strings.Index(limit, s); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut < 0 {
		return tokens, generated, reason
	}
	used := 0
	for k, t := range tokens {
		if used+len(t) > cut {
			generated = k + 1
			kept := tokens[:k:k]
			if part := t[:cut-used]; part != "" {
				kept = append(kept, part)
			}
			return kept, generated, "stop"
		}
		used += len(t)
	}
	return tokens, generated, "stop" // not reached: cut < len(shown)
}

// promptTokens is the prompt's word count capped at numCtx (DefaultNumCtx if <= 0).
func promptTokens(p Prompt, numCtx int) int {
	if numCtx <= 0 {
		numCtx = DefaultNumCtx
	}
	n := 0
	if p.Raw != nil {
		n = CountTokens(*p.Raw)
	} else {
		// Text joins the contents with "\n", so no word spans two messages.
		for _, m := range p.Messages {
			n += CountTokens(m.Content)
		}
	}
	return min(n, numCtx)
}

// Text is everything the caller wrote, without any template: the raw text, else the
// messages' contents joined with "\n".
func (p Prompt) Text() string {
	if p.Raw != nil {
		return *p.Raw
	}
	switch len(p.Messages) {
	case 0:
		return ""
	case 1:
		return p.Messages[0].Content
	}
	n := len(p.Messages) - 1
	for _, m := range p.Messages {
		n += len(m.Content)
	}
	var b strings.Builder
	b.Grow(n)
	for i, m := range p.Messages {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(m.Content)
	}
	return b.String()
}
