package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// The recording proxy: with --upstream, every request this server cannot answer itself (a model
// that is not synthetic, an endpoint it does not have) goes to the upstream, a real Ollama or an
// OpenAI-compatible server, and its answer comes back unchanged, byte for byte, flushed as it
// arrives. On the way through, the answer's NDJSON or SSE lines fill the same log record a
// synthetic answer would.
//
// The copy loop is hand-written rather than httputil.ReverseProxy: the body has already been
// read (to find the model), every chunk must be parsed after it is flushed, and the log's end
// time must be taken after the last flush. ReverseProxy's extras (X-Forwarded-For, upgrades,
// trailers) would change the request or are not needed.

const (
	// Longer NDJSON/SSE lines are passed through but not parsed.
	maxParsedLine = 16 << 20
	// Merged listings (/api/tags, /api/ps, /v1/models) give up on a silent upstream after this.
	listTimeout = 10 * time.Second
)

type upstream struct {
	base      *url.URL
	prefix    string // base URL without a trailing slash; the request URI is appended
	transport *http.Transport
}

func newUpstream(base *url.URL) *upstream {
	return &upstream{
		base:   base,
		prefix: strings.TrimRight(base.String(), "/"),
		// One transport for every request, so connections are reused (no handshake per request)
		// and many concurrent streams each keep an idle connection.
		transport: &http.Transport{
			Proxy:               nil, // a loopback upstream must not go through $HTTP_PROXY
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 1024,
			IdleConnTimeout:     90 * time.Second,
			// Bytes pass through unchanged and are parsed on the way: no transparent gzip.
			DisableCompression: true,
		},
	}
}

// hopHeaders belong to one connection, not to the message (RFC 9110 section 7.6.1).
var hopHeaders = map[string]bool{
	"Connection": true, "Proxy-Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true,
	"Upgrade": true,
}

func copyHeaders(dst, src http.Header) {
	var listed map[string]bool
	for _, v := range src["Connection"] {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				if listed == nil {
					listed = map[string]bool{}
				}
				listed[textproto.CanonicalMIMEHeaderKey(f)] = true
			}
		}
	}
	for k, vv := range src {
		if hopHeaders[k] || listed[k] {
			continue
		}
		dst[k] = vv
	}
}

// generationPath says which paths carry generated text (so response_chars applies) and whether
// the API streams by default (Ollama) or only when asked (OpenAI).
func generationPath(path string) (generation, streamsByDefault bool) {
	switch path {
	case "/api/generate", "/api/chat":
		return true, true
	case "/v1/chat/completions", "/v1/completions":
		return true, false
	}
	return false, false
}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// forward sends the request to the upstream and streams its answer back. body is the request
// body when it has been read already (nil: read it here); name is the model, if known.
func (s *Server) forward(x *exchange, body []byte, name string) {
	u := s.upstream
	rec := &x.rec
	rec.upstream = true
	if name != "" {
		rec.model = clip(name, maxLoggedString)
	}
	if body == nil && x.r.Body != nil && x.r.Body != http.NoBody {
		var err *apiError
		if body, err = x.readBody(); err != nil {
			x.sendError(err)
			return
		}
	}
	generation, streamsByDefault := generationPath(x.r.URL.Path)
	if generation && rec.set&hasStream == 0 {
		var probe modelIn
		if json.Unmarshal(body, &probe) == nil || probe.Stream != nil {
			rec.setStream(probe.Stream != nil && *probe.Stream || probe.Stream == nil && streamsByDefault)
		}
	}

	req, err := http.NewRequestWithContext(x.ctx, x.r.Method, u.prefix+x.r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		x.sendError(badRequest("cannot forward this request: %v", err))
		return
	}
	copyHeaders(req.Header, x.r.Header)
	// The upstream must answer uncompressed: its lines are parsed on the way through.
	delete(req.Header, "Accept-Encoding")
	resp, err := u.transport.RoundTrip(req)
	if err != nil {
		if x.ctx.Err() != nil {
			x.clientGone()
			return
		}
		x.sendError(errorf(http.StatusBadGateway, "upstream %s unreachable: %v", u.base.Redacted(), err))
		return
	}
	defer resp.Body.Close()

	copyHeaders(x.w.Header(), resp.Header)
	x.writeHeader(resp.StatusCode)
	// The headers go out now, as the upstream sent them: a client waits for them before it
	// reads a body the upstream may take long to start.
	if x.flush() != nil {
		x.clientGone()
		return
	}
	p := upstreamParser{sse: strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")}
	bufp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bufp)
	buf := *bufp
	for {
		n, readErr := resp.Body.Read(buf)
		if n > 0 {
			if x.write(buf[:n]) != nil || x.flush() != nil {
				x.clientGone()
				break
			}
			// Parsed only once the bytes are on their way: the parse never delays the client.
			p.feed(buf[:n])
		}
		if readErr == io.EOF {
			break
		}
		if readErr != nil {
			if x.ctx.Err() != nil {
				x.clientGone()
			} else {
				rec.setError("upstream: " + readErr.Error())
			}
			break
		}
	}
	p.finish()
	p.record(rec, generation, resp.StatusCode)
}

// upstreamParser reads the answer's lines as they pass: Ollama's NDJSON (or one JSON object),
// or OpenAI's server-sent events.
type upstreamParser struct {
	sse      bool
	line     []byte
	skipping bool // the current line is too long to parse

	chars      int // runes of generated text, as Python's len() counts the client's text
	doneReason string
	errMsg     string
	counts     [2]int // prompt_eval_count, eval_count
	hasCounts  [2]bool
	durations  [4]int64 // total, load, prompt_eval, eval
	hasDur     bool
}

// upstreamLine is the union of the fields of interest in Ollama's and OpenAI's answers.
type upstreamLine struct {
	Response           *string         `json:"response"`
	Message            *textContent    `json:"message"`
	DoneReason         string          `json:"done_reason"`
	TotalDuration      *int64          `json:"total_duration"`
	LoadDuration       *int64          `json:"load_duration"`
	PromptEvalDuration *int64          `json:"prompt_eval_duration"`
	EvalDuration       *int64          `json:"eval_duration"`
	PromptEvalCount    *int            `json:"prompt_eval_count"`
	EvalCount          *int            `json:"eval_count"`
	Error              json.RawMessage `json:"error"`
	Choices            []struct {
		Delta        *textContent `json:"delta"`
		Message      *textContent `json:"message"`
		Text         *string      `json:"text"`
		FinishReason *string      `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

type textContent struct {
	Content *string `json:"content"`
}

func (p *upstreamParser) feed(data []byte) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			p.add(data)
			return
		}
		p.add(data[:i])
		if !p.skipping {
			p.parse(p.line)
		}
		p.line, p.skipping = p.line[:0], false
		data = data[i+1:]
	}
}

func (p *upstreamParser) add(data []byte) {
	if p.skipping {
		return
	}
	if len(p.line)+len(data) > maxParsedLine {
		p.line, p.skipping = p.line[:0], true
		return
	}
	p.line = append(p.line, data...)
}

// finish parses a last line without a newline (a non-streamed JSON answer).
func (p *upstreamParser) finish() {
	if !p.skipping && len(p.line) > 0 {
		p.parse(p.line)
	}
	p.line = nil
}

func (p *upstreamParser) parse(line []byte) {
	line = bytes.TrimSpace(line)
	if p.sse {
		data, ok := bytes.CutPrefix(line, []byte("data:"))
		if !ok {
			return
		}
		line = bytes.TrimSpace(data)
	}
	if len(line) == 0 || line[0] != '{' {
		return // "[DONE]", comments, keep-alives
	}
	var v upstreamLine
	if err := json.Unmarshal(line, &v); err != nil {
		var syntaxErr *json.SyntaxError
		if errors.As(err, &syntaxErr) {
			return
		}
		// A field of another type than expected: the others are still filled in.
	}
	if v.Response != nil {
		p.chars += utf8.RuneCountInString(*v.Response)
	}
	if v.Message != nil && v.Message.Content != nil {
		p.chars += utf8.RuneCountInString(*v.Message.Content)
	}
	for _, c := range v.Choices {
		for _, t := range []*textContent{c.Delta, c.Message} {
			if t != nil && t.Content != nil {
				p.chars += utf8.RuneCountInString(*t.Content)
			}
		}
		if c.Text != nil {
			p.chars += utf8.RuneCountInString(*c.Text)
		}
		if c.FinishReason != nil && *c.FinishReason != "" {
			p.doneReason = *c.FinishReason
		}
	}
	if v.DoneReason != "" {
		p.doneReason = v.DoneReason
	}
	for i, n := range []*int{v.PromptEvalCount, v.EvalCount} {
		if n != nil {
			p.counts[i], p.hasCounts[i] = *n, true
		}
	}
	if v.Usage != nil {
		p.counts = [2]int{v.Usage.PromptTokens, v.Usage.CompletionTokens}
		p.hasCounts = [2]bool{true, true}
	}
	for i, d := range []*int64{v.TotalDuration, v.LoadDuration, v.PromptEvalDuration, v.EvalDuration} {
		if d != nil {
			p.durations[i], p.hasDur = *d, true
		}
	}
	if msg := errorMessage(v.Error); msg != "" {
		p.errMsg = msg
	}
}

// errorMessage reads {"error": "..."} (Ollama) or {"error": {"message": "..."}} (OpenAI).
func errorMessage(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Message != "" {
		return obj.Message
	}
	return string(raw)
}

// record fills the log record from what the answer said.
func (p *upstreamParser) record(rec *record, generation bool, status int) {
	ok := status >= 200 && status < 300
	if generation && ok {
		rec.responseChars = p.chars
		rec.set |= hasResponseChars
	}
	if p.doneReason != "" && rec.err == "" {
		rec.doneReason = clip(p.doneReason, 64)
	}
	if p.hasCounts[0] {
		rec.promptEvalCount = p.counts[0]
		rec.set |= hasPromptEvalCount
	}
	if p.hasCounts[1] {
		rec.evalCount = p.counts[1]
		rec.set |= hasEvalCount
	}
	if p.hasDur {
		// The upstream's own measurements, also shown as the phase times it reported.
		rec.upstreamDurations = p.durations
		rec.loadNS, rec.promptEvalNS, rec.evalNS = p.durations[1], p.durations[2], p.durations[3]
		rec.set |= hasUpstreamDurations | hasLoad | hasPromptEval | hasEval
	}
	switch {
	case rec.err != "":
	case p.errMsg != "":
		rec.setError(p.errMsg)
	case !ok:
		rec.setError(fmt.Sprintf("upstream answered %d", status))
	}
}

// appendUpstreamList appends the upstream's entries of a model listing (field "models" or
// "data") to b. Without an upstream, or if it fails, the listing has the synthetic models only
// and the log records why.
func (s *Server) appendUpstreamList(x *exchange, b []byte, path, field string, comma bool) []byte {
	if s.upstream == nil {
		return b
	}
	entries, err := s.upstream.list(x, path, field)
	if err != nil {
		x.rec.setError("upstream: " + err.Error())
		return b
	}
	x.rec.upstream = true
	for _, e := range entries {
		if comma {
			b = append(b, ',')
		}
		b = append(b, e...)
		comma = true
	}
	return b
}

func (u *upstream) list(x *exchange, path, field string) ([]json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(x.ctx, listTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.prefix+path, nil)
	if err != nil {
		return nil, err
	}
	copyHeaders(req.Header, x.r.Header)
	delete(req.Header, "Accept-Encoding")
	delete(req.Header, "Content-Length")
	resp, err := u.transport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %d", path, resp.StatusCode)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var entries []json.RawMessage
	if raw, ok := doc[field]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &entries); err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, field, err)
		}
	}
	return entries, nil
}
