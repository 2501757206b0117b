package main

// Hooks: what an application sees of an agent run. The events are the ones LangChainGo's
// callbacks.Handler exposes for an agent (chain, LLM and tool start/end/error, agent action,
// agent finish), called by the baseline's own loop (react.go) at the same points. There is
// no inner chain per step here, so a run has one chain (the run itself), not one per step.

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Kinds of span and event.
const (
	KindChain       = "chain"
	KindLLM         = "llm"
	KindTool        = "tool"
	KindAgentAction = "agent_action"
	KindAgentFinish = "agent_finish"
)

// Observer sees a run. Start returns the context the matching End (and anything inside)
// gets, so an observer can nest what it records; End's err is the failure, if any. Every
// method may be called from many goroutines at once.
type Observer interface {
	Start(ctx context.Context, kind, name string, detail any) context.Context
	End(ctx context.Context, kind, name string, detail any, err error)
	Event(ctx context.Context, kind string, detail any)
}

// runKey carries a run's id in its context, for observers that tell runs apart.
type runKey struct{}

// runIDs numbers runs across a process.
var runIDs atomic.Int64

// withRunID gives the context a run id if it has none yet (the outermost start of a run).
func withRunID(ctx context.Context) (context.Context, int64) {
	if id, ok := ctx.Value(runKey{}).(int64); ok {
		return ctx, id
	}
	id := runIDs.Add(1)
	return context.WithValue(ctx, runKey{}, id), id
}

func runID(ctx context.Context) int64 {
	id, ok := ctx.Value(runKey{}).(int64)
	if !ok {
		return -1
	}
	return id
}

// maxLoggedChars bounds each event's detail in the log.
const maxLoggedChars = 200

// loggingObserver writes every event to a log/slog logger, as an application's audit log
// would, and counts them. One observer serves a whole phase of concurrent runs (a
// slog.Logger is safe for concurrent use). Streamed tokens are neither logged nor counted.
type loggingObserver struct {
	log    *slog.Logger
	events atomic.Int64
}

var _ Observer = (*loggingObserver)(nil)

func (o *loggingObserver) write(ctx context.Context, event, name string, detail any, err error) {
	o.events.Add(1)
	attrs := []slog.Attr{slog.Int64("run", runID(ctx))}
	if name != "" {
		attrs = append(attrs, slog.String("name", name))
	}
	attrs = append(attrs, slog.String("detail", truncate(fmt.Sprint(detail), maxLoggedChars)))
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	o.log.LogAttrs(ctx, level, event, attrs...)
}

func (o *loggingObserver) Start(ctx context.Context, kind, name string, detail any) context.Context {
	if kind == KindChain {
		ctx, _ = withRunID(ctx)
	}
	o.write(ctx, kind+"_start", name, detail, nil)
	return ctx
}

func (o *loggingObserver) End(ctx context.Context, kind, name string, detail any, err error) {
	if err != nil {
		o.write(ctx, kind+"_error", name, detail, err)
		return
	}
	o.write(ctx, kind+"_end", name, detail, nil)
}

func (o *loggingObserver) Event(ctx context.Context, kind string, detail any) {
	o.write(ctx, kind, "", detail, nil)
}

// Span is one finished span: what a tracing exporter receives. The ids are W3C trace
// context's sizes (16-byte trace, 8-byte span), random.
type Span struct {
	TraceID  [16]byte
	SpanID   [8]byte
	ParentID [8]byte // zero for a root span
	Name     string
	Kind     string
	Start    time.Time
	End      time.Time
	Error    string
}

// spanKey carries the open span in a context, so the spans of a run nest as its calls do.
type spanKey struct{}

// tracingObserver records one span per chain, model call and tool call, nested by context,
// and exports every span synchronously when it ends into an in-memory list (no network):
// OpenTelemetry's span model with the standard library, since the baseline takes no module
// outside it. Start and end events are counted.
type tracingObserver struct {
	events atomic.Int64
	mu     sync.Mutex
	spans  []Span
}

var _ Observer = (*tracingObserver)(nil)

func (o *tracingObserver) Start(ctx context.Context, kind, name string, _ any) context.Context {
	o.events.Add(1)
	span := &Span{Name: name, Kind: kind, Start: time.Now()}
	binary.LittleEndian.PutUint64(span.SpanID[:], rand.Uint64())
	if parent, ok := ctx.Value(spanKey{}).(*Span); ok {
		span.TraceID, span.ParentID = parent.TraceID, parent.SpanID
	} else {
		binary.LittleEndian.PutUint64(span.TraceID[:8], rand.Uint64())
		binary.LittleEndian.PutUint64(span.TraceID[8:], rand.Uint64())
	}
	return context.WithValue(ctx, spanKey{}, span)
}

func (o *tracingObserver) End(ctx context.Context, _, _ string, _ any, err error) {
	o.events.Add(1)
	span, ok := ctx.Value(spanKey{}).(*Span)
	if !ok {
		return
	}
	done := *span
	done.End = time.Now()
	if err != nil {
		done.Error = err.Error()
	}
	o.mu.Lock()
	o.spans = append(o.spans, done)
	o.mu.Unlock()
}

// Event records nothing: spans are for chain, model and tool runs only, as the framework
// contestants' OpenTelemetry handlers record them.
func (o *tracingObserver) Event(context.Context, string, any) {}

// Spans is how many spans were exported.
func (o *tracingObserver) Spans() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.spans)
}
