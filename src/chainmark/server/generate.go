package main

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chainmark/server/synth"
)

// The answering of one generation request, shared by /api/generate, /api/chat and OpenAI's
// /v1/chat/completions and /v1/completions: wait for a slot, decide the answer, spend the
// profile's time with real sleeps, and stream or send it in the API's own format.

type apiKind uint8

const (
	apiGenerate apiKind = iota
	apiChat
	apiOpenAIChat
	apiOpenAICompletion
)

// job is a parsed generation request.
type job struct {
	kind   apiKind
	name   string // the model as the client named it: echoed back, as Ollama does
	model  *model
	prompt synth.Prompt
	opts   synth.Options
	tools  []synth.Tool
	format json.RawMessage
	stream bool
	// OpenAI: stream_options.include_usage, the completion id and its creation time.
	includeUsage bool
	id           string
	created      int64
	// /api/generate's final "context": the prompt's tokens (none for raw prompts).
	contextTexts []string

	nameJSON []byte // name, JSON-encoded once for every chunk
	prefix   []byte // OpenAI: the chunk prefix up to `"choices":[`
	clock    clock
}

// progress is what the answer has come to so far.
type progress struct {
	ans          *synth.Answer
	doneReason   string
	totalNS      int64
	promptEvalNS int64
	evalNS       int64
	chunks       int  // OpenAI chunks with content written
	toolCallSent bool // OpenAI: finish_reason becomes "tool_calls"
	callIDs      []string
}

func (s *Server) answer(x *exchange, j *job) {
	m := j.model
	m.used.Store(true)
	rec := &x.rec
	rec.set |= hasLocalStats
	rec.setStream(j.stream)
	j.nameJSON = appendString(j.nameJSON[:0], j.name)

	queued := time.Now()
	if err := m.acquire(x.ctx); err != nil {
		rec.queueNS = int64(time.Since(queued))
		x.clientGone()
		return
	}
	held := true
	defer func() {
		if held {
			m.release()
		}
	}()
	start := time.Now()
	rec.queueNS = int64(start.Sub(queued))

	ans := m.gen.Answer(j.prompt, j.opts, j.tools, j.format)
	rec.promptEvalCount = ans.PromptTokens
	evaluated := ans.PromptTokens
	if m.cache != nil {
		cached := m.cache.reuse(j.prompt.Text(), ans.PromptTokens, strings.Join(ans.Tokens, ""))
		rec.promptCachedCount = cached
		rec.set |= hasPromptCachedCount
		evaluated -= cached
	}
	if d := m.pace.PromptDelay(evaluated); d > 0 {
		if x.sleepUntil(start.Add(d)) != nil {
			rec.promptEvalNS = int64(time.Since(start))
			x.clientGone()
			return
		}
	}
	first := time.Now()
	rec.promptEvalNS = int64(first.Sub(start))
	interval := m.pace.TokenInterval()

	p := progress{ans: &ans, doneReason: ans.DoneReason, promptEvalNS: rec.promptEvalNS}
	if p.doneReason == "" {
		p.doneReason = "stop"
	}
	if len(ans.ToolCalls) > 0 {
		p.callIDs = make([]string, len(ans.ToolCalls))
		for i := range p.callIDs {
			p.callIDs[i] = s.toolCallID()
		}
	}
	// Pieces sent one by one: every token, then the tool calls as one more piece. Piece i is
	// due at first + i*interval, an absolute schedule, so sleep overshoot does not accumulate.
	// Tool calls are due once all their tokens (ans.Generated counts them) would have been
	// generated, although none of those tokens is streamed as text.
	pieces := len(ans.Tokens)
	lastDue := pieces - 1
	if len(ans.ToolCalls) > 0 {
		pieces++
		lastDue = max(pieces, ans.Generated) - 1
	}
	due := func(i int) time.Time {
		if i == len(ans.Tokens) {
			i = lastDue // the tool-call piece
		}
		return first.Add(time.Duration(i) * interval)
	}

	if !j.stream {
		if lastDue > 0 && interval > 0 {
			if x.sleepUntil(due(lastDue)) != nil {
				rec.evalNS = int64(time.Since(first))
				x.clientGone()
				return
			}
		}
		p.evalNS = int64(time.Since(first))
		m.release()
		held = false
		x.finishStats(&p)
		p.totalNS = int64(time.Since(x.start))
		x.out = appendWhole(x.out[:0], j, &p)
		if x.sendJSON(x.out) != nil {
			x.clientGone()
			return
		}
		chars := 0
		for _, t := range ans.Tokens {
			chars += utf8.RuneCountInString(t)
		}
		rec.responseChars = chars
		rec.set |= hasResponseChars
		return
	}

	h := x.w.Header()
	if j.kind == apiGenerate || j.kind == apiChat {
		h["Content-Type"] = contentTypeNDJSON
	} else {
		h["Content-Type"] = contentTypeSSE
	}
	x.writeHeader(http.StatusOK)
	rec.set |= hasResponseChars
	buf := x.out[:0]
	// Every piece is flushed before a wait, so it reaches the client when it is "generated".
	// Pieces due at once (a zero-latency profile) share a flush, except the first, which goes
	// out alone so time-to-first-token stays honest: one write per token would cost more CPU
	// than the rest of the request and show the client nothing different.
	pending := 0 // characters written but not yet flushed
	for i := range pieces {
		if i > 0 && interval > 0 {
			if x.sleepUntil(due(i)) != nil {
				x.abandonStream(first, i)
				return
			}
		}
		if i < len(ans.Tokens) {
			buf = appendTokenChunk(buf[:0], j, &p, ans.Tokens[i])
			pending += utf8.RuneCountInString(ans.Tokens[i])
		} else {
			buf = appendToolChunk(buf[:0], j, &p)
		}
		if x.write(buf) != nil {
			x.abandonStream(first, i)
			return
		}
		if i == 0 || interval > 0 && i < pieces-1 {
			if x.flush() != nil {
				x.abandonStream(first, i)
				return
			}
			rec.responseChars += pending
			pending = 0
		}
	}
	p.evalNS = int64(time.Since(first))
	m.release()
	held = false
	x.finishStats(&p)
	p.totalNS = int64(time.Since(x.start))
	buf = appendFinalChunks(buf[:0], j, &p)
	x.out = buf
	if x.write(buf) != nil || x.flush() != nil {
		x.clientGone()
		return
	}
	rec.responseChars += pending
}

// finishStats fills the record once the answer is complete.
func (x *exchange) finishStats(p *progress) {
	x.rec.evalNS = p.evalNS
	x.rec.evalCount = p.ans.Generated
	x.rec.doneReason = p.doneReason
}

// abandonStream records a stream its client left after sent pieces.
func (x *exchange) abandonStream(first time.Time, sent int) {
	x.rec.evalNS = int64(time.Since(first))
	x.rec.evalCount = sent
	x.clientGone()
}

// toolCallID is an id in Ollama's format: "call_" and 8 lower-case letters or digits.
func (s *Server) toolCallID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	// splitmix64 of a counter: unique within the process, and looks random as Ollama's do.
	z := s.nextID() * 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	id := []byte("call_00000000")
	for i := 5; i < len(id); i++ {
		id[i] = alphabet[z%36]
		z /= 36
	}
	return string(id)
}

// -- Ollama's format ---------------------------------------------------------------------------

// appendOllamaHead writes `{"model":…,"created_at":…,` and the opening of the text field.
func appendOllamaHead(b []byte, j *job) []byte {
	b = append(b, `{"model":`...)
	b = append(b, j.nameJSON...)
	b = append(b, `,"created_at":`...)
	b = j.clock.appendNow(b)
	if j.kind == apiGenerate {
		return append(b, `,"response":`...)
	}
	return append(b, `,"message":{"role":"assistant","content":`...)
}

func appendOllamaToolCalls(b []byte, calls []synth.ToolCall, ids []string) []byte {
	b = append(b, `,"tool_calls":[`...)
	for i, c := range calls {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendString(b, ids[i])
		b = append(b, `,"function":{"index":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"name":`...)
		b = appendString(b, c.Name)
		b = append(b, `,"arguments":`...)
		b = appendArguments(b, c.Arguments)
		b = append(b, "}}"...)
	}
	return append(b, ']')
}

// appendArguments writes tool-call arguments as a JSON object (keys sorted, as encoding/json
// writes a map).
func appendArguments(b []byte, args map[string]any) []byte {
	if len(args) == 0 {
		return append(b, "{}"...)
	}
	data, err := json.Marshal(args)
	if err != nil {
		return append(b, "{}"...)
	}
	return append(b, data...)
}

// appendOllamaMetrics closes a final object: done, done_reason, the optional context and the
// measured durations.
func appendOllamaMetrics(b []byte, j *job, p *progress) []byte {
	b = append(b, `,"done":true,"done_reason":`...)
	b = appendString(b, p.doneReason)
	if j.kind == apiGenerate && j.contextTexts != nil {
		b = appendContext(b, j, p)
	}
	b = append(b, `,"total_duration":`...)
	b = appendInt(b, p.totalNS)
	b = append(b, `,"load_duration":0,"prompt_eval_count":`...)
	b = appendInt(b, int64(p.ans.PromptTokens))
	b = append(b, `,"prompt_eval_duration":`...)
	b = appendInt(b, p.promptEvalNS)
	b = append(b, `,"eval_count":`...)
	b = appendInt(b, int64(p.ans.Generated))
	b = append(b, `,"eval_duration":`...)
	b = appendInt(b, p.evalNS)
	return append(b, '}')
}

// appendContext writes /api/generate's "context": one token id per word of the prompt (at most
// num_ctx of them) and of the answer. Clients only hand it back; the ids are stable hashes.
func appendContext(b []byte, j *job, p *progress) []byte {
	b = append(b, `,"context":[`...)
	n := 0
	for _, t := range j.contextTexts {
		b, n = appendWordIDs(b, t, n, max(j.opts.NumCtx, 1))
	}
	for _, t := range p.ans.Tokens {
		b, n = appendWordIDs(b, t, n, math.MaxInt)
	}
	return append(b, ']')
}

// appendWordIDs appends an id (FNV-1a, modulo SmolLM2's vocabulary size) for each word of text
// while fewer than limit ids have been written; n counts the ids written so far.
func appendWordIDs(b []byte, text string, n, limit int) ([]byte, int) {
	for i := 0; i < len(text) && n < limit; {
		for i < len(text) && isSpace(text[i]) {
			i++
		}
		if i == len(text) {
			break
		}
		h := uint32(2166136261)
		for ; i < len(text) && !isSpace(text[i]); i++ {
			h = (h ^ uint32(text[i])) * 16777619
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(h%49152), 10)
		n++
	}
	return b, n
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// -- chunks by API -----------------------------------------------------------------------------

func appendTokenChunk(b []byte, j *job, p *progress, tok string) []byte {
	switch j.kind {
	case apiGenerate:
		b = appendOllamaHead(b, j)
		b = appendString(b, tok)
		return append(b, `,"done":false}`+"\n"...)
	case apiChat:
		b = appendOllamaHead(b, j)
		b = appendString(b, tok)
		return append(b, `},"done":false}`+"\n"...)
	case apiOpenAIChat:
		b = append(b, j.prefix...)
		b = append(b, `{"index":0,"delta":{`...)
		if p.chunks == 0 {
			b = append(b, `"role":"assistant",`...)
		}
		b = append(b, `"content":`...)
		b = appendString(b, tok)
		p.chunks++
		return append(b, `},"finish_reason":null}]}`+"\n\n"...)
	default:
		b = append(b, j.prefix...)
		b = append(b, `{"text":`...)
		b = appendString(b, tok)
		b = append(b, `,"index":0,"finish_reason":null}]`...)
		return appendCompletionTail(b, j, nil)
	}
}

func appendToolChunk(b []byte, j *job, p *progress) []byte {
	calls := p.ans.ToolCalls
	switch j.kind {
	case apiChat:
		b = appendOllamaHead(b, j)
		b = append(b, `""`...)
		b = appendOllamaToolCalls(b, calls, p.callIDs)
		return append(b, `},"done":false}`+"\n"...)
	case apiOpenAIChat:
		b = append(b, j.prefix...)
		b = append(b, `{"index":0,"delta":{`...)
		if p.chunks == 0 {
			b = append(b, `"role":"assistant",`...)
		}
		b = append(b, `"content":""`...)
		b = appendOpenAIToolCalls(b, calls, p.callIDs)
		p.chunks++
		p.toolCallSent = true
		return append(b, `},"finish_reason":null}]}`+"\n\n"...)
	default:
		// Completion APIs have no tool calls; synth offers none without tools.
		return b
	}
}

// appendFinalChunks writes what ends a stream: Ollama's final object, or OpenAI's finish chunk,
// optional usage chunk and [DONE].
func appendFinalChunks(b []byte, j *job, p *progress) []byte {
	switch j.kind {
	case apiGenerate:
		b = appendOllamaHead(b, j)
		b = append(b, `""`...)
		return append(appendOllamaMetrics(b, j, p), '\n')
	case apiChat:
		b = appendOllamaHead(b, j)
		b = append(b, `""}`...)
		return append(appendOllamaMetrics(b, j, p), '\n')
	case apiOpenAIChat:
		if p.chunks == 0 {
			// A wholly empty answer still opens with the assistant's role, as Ollama's does.
			b = append(b, j.prefix...)
			b = append(b, `{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`+"\n\n"...)
		}
		reason := p.doneReason
		if reason == "stop" && p.toolCallSent {
			reason = "tool_calls"
		}
		b = append(b, j.prefix...)
		b = append(b, `{"index":0,"delta":{},"finish_reason":`...)
		b = appendString(b, reason)
		b = append(b, `}]}`+"\n\n"...)
		if j.includeUsage {
			b = append(b, j.prefix...)
			b = append(b, ']')
			b = appendUsage(b, p)
			b = append(b, "}\n\n"...)
		}
		return append(b, "data: [DONE]\n\n"...)
	default:
		b = append(b, j.prefix...)
		b = append(b, `{"text":"","index":0,"finish_reason":`...)
		b = appendString(b, p.doneReason)
		b = append(b, "}]"...)
		b = appendCompletionTail(b, j, nil)
		if j.includeUsage {
			b = append(b, j.prefix...)
			b = append(b, ']')
			b = appendCompletionTail(b, j, p)
		}
		return append(b, "data: [DONE]\n\n"...)
	}
}

// appendCompletionTail ends a /v1/completions chunk: model, fingerprint and, when the client
// asked for usage, Ollama's usage (zeros on every chunk but the last, as Ollama sends it).
func appendCompletionTail(b []byte, j *job, p *progress) []byte {
	b = append(b, `,"model":`...)
	b = append(b, j.nameJSON...)
	b = append(b, `,"system_fingerprint":"fp_ollama"`...)
	if j.includeUsage {
		if p == nil {
			b = append(b, `,"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}`...)
		} else {
			b = appendUsage(b, p)
		}
	}
	return append(b, "}\n\n"...)
}

func appendUsage(b []byte, p *progress) []byte {
	b = append(b, `,"usage":{"prompt_tokens":`...)
	b = appendInt(b, int64(p.ans.PromptTokens))
	b = append(b, `,"completion_tokens":`...)
	b = appendInt(b, int64(p.ans.Generated))
	b = append(b, `,"total_tokens":`...)
	b = appendInt(b, int64(p.ans.PromptTokens+p.ans.Generated))
	return append(b, '}')
}

func appendOpenAIToolCalls(b []byte, calls []synth.ToolCall, ids []string) []byte {
	b = append(b, `,"tool_calls":[`...)
	for i, c := range calls {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendString(b, ids[i])
		b = append(b, `,"index":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"type":"function","function":{"name":`...)
		b = appendString(b, c.Name)
		b = append(b, `,"arguments":`...)
		// OpenAI sends the arguments as a string holding JSON.
		b = appendString(b, string(appendArguments(nil, c.Arguments)))
		b = append(b, "}}"...)
	}
	return append(b, ']')
}

// appendJoined writes the tokens' concatenation as one JSON string.
func appendJoined(b []byte, tokens []string) []byte {
	b = append(b, '"')
	for _, t := range tokens {
		b = appendEscaped(b, t)
	}
	return append(b, '"')
}

// appendWhole writes a non-streamed answer.
func appendWhole(b []byte, j *job, p *progress) []byte {
	switch j.kind {
	case apiGenerate:
		b = appendOllamaHead(b, j)
		b = appendJoined(b, p.ans.Tokens)
		return appendOllamaMetrics(b, j, p)
	case apiChat:
		b = appendOllamaHead(b, j)
		b = appendJoined(b, p.ans.Tokens)
		if len(p.ans.ToolCalls) > 0 {
			b = appendOllamaToolCalls(b, p.ans.ToolCalls, p.callIDs)
		}
		b = append(b, '}')
		return appendOllamaMetrics(b, j, p)
	case apiOpenAIChat:
		b = append(b, `{"id":`...)
		b = appendString(b, j.id)
		b = append(b, `,"object":"chat.completion","created":`...)
		b = appendInt(b, j.created)
		b = append(b, `,"model":`...)
		b = append(b, j.nameJSON...)
		b = append(b, `,"system_fingerprint":"fp_ollama","choices":[{"index":0,"message":{"role":"assistant","content":`...)
		b = appendJoined(b, p.ans.Tokens)
		reason := p.doneReason
		if len(p.ans.ToolCalls) > 0 {
			b = appendOpenAIToolCalls(b, p.ans.ToolCalls, p.callIDs)
			if reason == "stop" {
				reason = "tool_calls"
			}
		}
		b = append(b, `},"finish_reason":`...)
		b = appendString(b, reason)
		b = append(b, "}]"...)
		b = appendUsage(b, p)
		return append(b, "}\n"...)
	default:
		b = append(b, `{"id":`...)
		b = appendString(b, j.id)
		b = append(b, `,"object":"text_completion","created":`...)
		b = appendInt(b, j.created)
		b = append(b, `,"model":`...)
		b = append(b, j.nameJSON...)
		b = append(b, `,"system_fingerprint":"fp_ollama","choices":[{"text":`...)
		b = appendJoined(b, p.ans.Tokens)
		b = append(b, `,"index":0,"finish_reason":`...)
		b = appendString(b, p.doneReason)
		b = append(b, "}]"...)
		b = appendUsage(b, p)
		return append(b, "}\n"...)
	}
}
