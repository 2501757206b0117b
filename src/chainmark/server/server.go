package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chainmark/server/synth"
)

const (
	// Larger bodies are refused with 413 before they are read.
	maxBodyBytes = 64 << 20
	// Buffers above this size are not kept for reuse, so one huge request does not pin memory.
	maxPooledBuffer = 256 << 10
	// Reported by /api/version: the Ollama API level mimicked (clients gate features on it).
	ollamaVersion = "0.12.0"
)

// Header values shared by every response; assigned directly, so no per-request allocation.
var (
	contentTypeJSON   = []string{"application/json; charset=utf-8"}
	contentTypeNDJSON = []string{"application/x-ndjson"}
	contentTypeSSE    = []string{"text/event-stream"}
	contentTypeText   = []string{"text/plain; charset=utf-8"}
)

// Config is what the command line decides.
type Config struct {
	Profiles    map[string]synth.Profile
	Upstream    *url.URL // nil: serve the synthetic models only
	LogCapacity int
	Logger      *log.Logger
}

// Server is chainmark's LLM server: Ollama's and OpenAI's HTTP APIs over the synthetic models,
// a recording proxy for every other model, and the per-request log.
type Server struct {
	models   *registry
	log      *requestLog
	upstream *upstream
	profiles map[string]synth.Profile
	started  time.Time
	logger   *log.Logger
	ids      atomic.Uint64
	pool     sync.Pool // *exchange
}

// NewServer builds the server; it does not listen.
func NewServer(cfg Config) *Server {
	logger := cfg.Logger
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	s := &Server{
		models:   newRegistry(cfg.Profiles),
		log:      newRequestLog(cfg.LogCapacity),
		profiles: cfg.Profiles,
		started:  time.Now(),
		logger:   logger,
	}
	if cfg.Upstream != nil {
		s.upstream = newUpstream(cfg.Upstream)
	}
	s.pool.New = func() any { return new(exchange) }
	return s
}

// exchange is one request in flight: the request, its response writer and its log record.
// Exchanges are pooled, so serving a request allocates little beyond what net/http does.
type exchange struct {
	w       http.ResponseWriter
	flusher interface{ FlushError() error }
	r       *http.Request
	ctx     context.Context
	start   time.Time
	openai  bool // errors in OpenAI's shape
	rec     record
	body    []byte
	out     []byte
	timer   *time.Timer
	// When the response was last flushed, and how much of it had been written by then.
	flushedAt    time.Time
	flushedBytes int64
	lastWrite    time.Time // when the latest write began
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if strings.HasPrefix(r.URL.Path, "/chainmark/") {
		s.serveChainmark(w, r)
		return
	}
	x := s.pool.Get().(*exchange)
	x.w, x.r, x.ctx, x.start = w, r, r.Context(), start
	x.flusher, _ = w.(interface{ FlushError() error })
	x.openai = strings.HasPrefix(r.URL.Path, "/v1/")
	x.rec = record{
		path:    clip(r.URL.Path, maxLoggedString),
		method:  clip(r.Method, 16),
		startNS: start.UnixNano(),
	}
	defer s.finish(x)
	s.route(x)
}

// finish runs after every logged request, panics included: it makes sure the client got an
// answer, flushes what is left, and logs the request with the moment its last byte was handed
// over as the end.
func (s *Server) finish(x *exchange) {
	if p := recover(); p != nil {
		s.logger.Printf("panic serving %s %s: %v\n%s", x.rec.method, x.rec.path, p, debug.Stack())
		if x.rec.status == 0 {
			x.sendError(&apiError{status: http.StatusInternalServerError, msg: "internal server error"})
		}
		x.rec.setError(fmt.Sprintf("internal error: %v", p))
	}
	if x.rec.bytesOut > x.flushedBytes {
		_ = x.flush() // whatever is buffered belongs inside the measured window
	}
	if x.rec.status == 0 {
		// Nothing written: net/http answers 200 with an empty body after we return.
		x.rec.status = http.StatusOK
	}
	// The end is the moment the last piece was handed to the connection (the client may read
	// it and stop its own clock right away), as the start plus the monotonic elapsed time, so
	// the window is exactly as long as the durations reported in the response and a clock step
	// cannot skew it. So end_ns is not a second reading of the wall clock: if the wall clock is
	// set back during the request, end_ns lies later than a client's wall-clock reading of the
	// same instant, by up to the step (the one way it can pass a client's end time).
	// TestLogWindowEndsBeforeTheClientsLastByte holds the window inside the client's.
	end := x.flushedAt
	if end.IsZero() || x.rec.bytesOut > x.flushedBytes {
		end = time.Now()
	}
	x.rec.endNS = x.rec.startNS + int64(end.Sub(x.start))
	s.log.append(&x.rec)
	s.release(x)
}

func (s *Server) release(x *exchange) {
	x.w, x.r, x.ctx, x.flusher = nil, nil, nil, nil
	x.rec = record{}
	x.flushedAt, x.flushedBytes, x.lastWrite = time.Time{}, 0, time.Time{}
	if cap(x.body) > maxPooledBuffer {
		x.body = nil
	}
	if cap(x.out) > maxPooledBuffer {
		x.out = nil
	}
	x.body, x.out = x.body[:0], x.out[:0]
	s.pool.Put(x)
}

type route struct {
	methods string // as in an Allow header: "GET, HEAD"
	handle  func(*Server, *exchange)
}

// routes are the endpoints served here; anything else goes to the upstream, or is a 404.
var routes = map[string]route{
	"/":                    {"GET, HEAD", (*Server).root},
	"/api/generate":        {"POST", (*Server).ollamaGenerate},
	"/api/chat":            {"POST", (*Server).ollamaChat},
	"/api/embed":           {"POST", (*Server).ollamaEmbed},
	"/api/embeddings":      {"POST", (*Server).ollamaEmbeddings},
	"/api/tags":            {"GET, HEAD", (*Server).tags},
	"/api/ps":              {"GET", (*Server).ps},
	"/api/show":            {"POST", (*Server).show},
	"/api/pull":            {"POST", (*Server).pull},
	"/api/version":         {"GET, HEAD", (*Server).version},
	"/v1/chat/completions": {"POST", (*Server).openaiChat},
	"/v1/completions":      {"POST", (*Server).openaiCompletion},
	"/v1/embeddings":       {"POST", (*Server).openaiEmbeddings},
	"/v1/models":           {"GET", (*Server).openaiModels},
}

// Ollama endpoints that exist but that a synthetic model cannot serve (nothing to create, copy,
// delete or push). With an upstream they are forwarded like any other path.
var unsupported = map[string]string{
	"/api/create": "POST",
	"/api/copy":   "POST",
	"/api/delete": "DELETE",
	"/api/push":   "POST",
	"/api/status": "GET",
	"/api/me":     "POST",
}

func (s *Server) route(x *exchange) {
	path := x.r.URL.Path
	if rt, ok := routes[path]; ok {
		if !methodAllowed(rt.methods, x.r.Method) {
			x.methodNotAllowed(rt.methods)
			return
		}
		rt.handle(s, x)
		return
	}
	if name, ok := strings.CutPrefix(path, "/v1/models/"); ok && name != "" {
		if x.r.Method != http.MethodGet {
			x.methodNotAllowed("GET")
			return
		}
		s.openaiModel(x, name)
		return
	}
	if s.upstream != nil {
		s.forward(x, nil, "")
		return
	}
	if methods, ok := unsupported[path]; ok || strings.HasPrefix(path, "/api/blobs/") {
		if strings.HasPrefix(path, "/api/blobs/") {
			methods = "HEAD, POST"
		}
		if !methodAllowed(methods, x.r.Method) {
			x.methodNotAllowed(methods)
			return
		}
		x.sendError(errorf(http.StatusNotFound, "%s is not supported by chainmark-server: its models are synthetic", path))
		return
	}
	x.sendError(errorf(http.StatusNotFound, "404 page not found: %s", clip(path, maxLoggedString)))
}

func methodAllowed(methods, method string) bool {
	for m := range strings.SplitSeq(methods, ", ") {
		if m == method {
			return true
		}
	}
	return false
}

func (x *exchange) methodNotAllowed(methods string) {
	x.w.Header()["Allow"] = []string{methods}
	x.sendError(errorf(http.StatusMethodNotAllowed, "method %s not allowed on %s (allowed: %s)",
		clip(x.r.Method, 16), x.r.URL.Path, methods))
}

// readBody reads the whole request body into the exchange's reusable buffer.
func (x *exchange) readBody() ([]byte, *apiError) {
	r := x.r
	if r.ContentLength > maxBodyBytes {
		return nil, errorf(http.StatusRequestEntityTooLarge, "request body too large: more than %d bytes", maxBodyBytes)
	}
	buf := x.body[:0]
	if r.ContentLength > 0 && int64(cap(buf)) < r.ContentLength {
		// A known length is read into a buffer of exactly that size: one allocation at most,
		// and net/http hands back the last bytes together with io.EOF.
		buf = make([]byte, 0, r.ContentLength)
	}
	body := http.MaxBytesReader(x.w, r.Body, maxBodyBytes)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(512, cap(buf)))
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			x.body = buf
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, errorf(http.StatusRequestEntityTooLarge, "request body too large: more than %d bytes", maxBodyBytes)
			}
			return nil, badRequest("reading the request body: %v", err)
		}
	}
	x.body = buf
	return buf, nil
}

func (x *exchange) writeHeader(status int) {
	if x.rec.status == 0 {
		x.rec.status = status
	}
	x.w.WriteHeader(status)
}

func (x *exchange) write(p []byte) error {
	if x.rec.status == 0 {
		x.rec.status = http.StatusOK
	}
	// Taken before the bytes can leave: a write larger than the buffer goes straight to the
	// socket, and a client may read it and stop its clock before this call returns.
	x.lastWrite = time.Now()
	n, err := x.w.Write(p)
	x.rec.bytesOut += int64(n)
	return err
}

// flush sends what is buffered and notes when; its error says the client is gone.
func (x *exchange) flush() error {
	if x.flusher != nil {
		if err := x.flusher.FlushError(); err != nil {
			return err
		}
	} else if f, ok := x.w.(http.Flusher); ok {
		f.Flush()
	}
	// The end of what has been sent is when its last piece was handed over, never after the
	// client could have it: a timestamp taken after the flush could land after a quick
	// client's own end time (the scheduler may run the client first), giving negative overhead.
	x.flushedAt, x.flushedBytes = x.lastWrite, x.rec.bytesOut
	if x.flushedAt.IsZero() {
		x.flushedAt = time.Now()
	}
	return nil
}

// send writes a whole (non-streamed) response and flushes it; the log's end is when its bytes
// were handed over, before the client could have read them.
func (x *exchange) send(status int, contentType []string, body []byte) error {
	h := x.w.Header()
	h["Content-Type"] = contentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	x.writeHeader(status)
	if err := x.write(body); err != nil {
		return err
	}
	return x.flush()
}

func (x *exchange) sendJSON(body []byte) error {
	return x.send(http.StatusOK, contentTypeJSON, body)
}

// sendError answers e in the exchange's API flavour and records it.
func (x *exchange) sendError(e *apiError) {
	x.rec.setError(e.msg)
	if x.rec.status != 0 {
		return // a response is under way: too late for an error status
	}
	if x.openai {
		x.out = appendOpenAIError(x.out[:0], e.status, e.msg)
	} else {
		x.out = appendOllamaError(x.out[:0], e.msg)
	}
	if err := x.send(e.status, contentTypeJSON, x.out); err != nil {
		x.clientGone()
	}
}

// clientGone records a request its client abandoned.
func (x *exchange) clientGone() {
	x.rec.setError(errClientDisconnected)
	x.rec.doneReason = ""
	if x.rec.status == 0 {
		x.rec.status = statusClientClosed
	}
}

// sleepUntil waits until t or until the client goes away, whichever comes first.
func (x *exchange) sleepUntil(t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return x.ctx.Err()
	}
	if x.timer == nil {
		x.timer = time.NewTimer(d)
	} else {
		x.timer.Reset(d)
	}
	select {
	case <-x.timer.C:
		return nil
	case <-x.ctx.Done():
		x.timer.Stop()
		return x.ctx.Err()
	}
}

func (s *Server) nextID() uint64 { return s.ids.Add(1) }

func (s *Server) root(x *exchange) {
	_ = x.send(http.StatusOK, contentTypeText, []byte("Ollama is running"))
}

func (s *Server) version(x *exchange) {
	if s.upstream != nil {
		s.forward(x, nil, "")
		return
	}
	_ = x.sendJSON([]byte(`{"version":"` + ollamaVersion + `"}`))
}
