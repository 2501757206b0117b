package main

// Operational cost: conversation memory growth (memory.NewConversationBuffer +
// chains.NewConversation), and what callbacks cost on concurrent agents: bare, with a
// callbacks.Handler that logs every chain, LLM, tool and agent event, and with a handler that
// records chain, LLM and tool runs as OpenTelemetry spans (the OTel Go SDK with an in-memory
// exporter: no network).

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/tmc/langchaingo/callbacks"
	"github.com/tmc/langchaingo/chains"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/memory"
	"github.com/tmc/langchaingo/schema"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func opsMemory(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	if p.Turns <= 0 {
		return fmt.Errorf("params.turns must be positive, got %d", p.Turns)
	}
	if p.FirstTurn == "" || p.NextTurn == "" {
		return errors.New("params.first_turn and params.next_turn are required")
	}
	var buffer *memory.ConversationBuffer
	var conversation chains.LLMChain
	if err := rec.Setup(func() error {
		llm, err := newLLM(e)
		if err != nil {
			return err
		}
		buffer = memory.NewConversationBuffer()
		conversation = chains.NewConversation(llm, buffer)
		return nil
	}); err != nil {
		return err
	}
	checkpoints := map[int]bool{}
	for _, turn := range p.Checkpoints {
		checkpoints[turn] = true
	}
	opts := chainOptions(p)
	rec.Begin()
	for turn := 1; turn <= p.Turns; turn++ {
		said := p.NextTurn
		if turn == 1 {
			said = p.FirstTurn
		}
		op := rec.Timed("turn", func(op *Op) error {
			out, err := chains.Call(ctx, conversation, map[string]any{"input": said}, opts...)
			if err != nil {
				return err
			}
			text, ok := out[conversation.OutputKey].(string)
			if !ok {
				return fmt.Errorf("the conversation returned %T, not text", out[conversation.OutputKey])
			}
			op.Output["text"] = text
			return nil
		})
		// Outside the timed part, as the Python twin does.
		history, err := historyChars(ctx, buffer)
		if err != nil {
			return fmt.Errorf("turn %d: reading the buffer: %w", turn, err)
		}
		op.Output["turn"] = turn
		op.Output["history_chars"] = history
		if checkpoints[turn] {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			op.Output["heap_alloc_bytes"] = m.HeapAlloc
			op.Output["total_alloc_bytes"] = m.TotalAlloc
			op.Output["num_gc"] = m.NumGC
		}
	}
	rec.End()
	return nil
}

// historyChars is the length, in characters as Python counts them, of the buffer's history
// text ("Human: ...\nAI: ..."), the text the next turn's prompt carries.
func historyChars(ctx context.Context, buffer *memory.ConversationBuffer) (int, error) {
	vars, err := buffer.LoadMemoryVariables(ctx, map[string]any{})
	if err != nil {
		return 0, err
	}
	history, ok := vars[buffer.MemoryKey].(string)
	if !ok {
		return 0, fmt.Errorf("the buffer's %q is %T, not text", buffer.MemoryKey, vars[buffer.MemoryKey])
	}
	return utf8.RuneCountInString(history), nil
}

// agentRun is one agent run's identity and open spans. langchaingo's handler methods get
// only the call's context, no run ids, so each run's context carries its own.
type agentRun struct {
	id    int64
	mu    sync.Mutex
	spans []openSpan
}

type openSpan struct {
	kind string
	span trace.Span
}

type runKey struct{}

func withRun(ctx context.Context, run *agentRun) context.Context {
	return context.WithValue(ctx, runKey{}, run)
}

func runFrom(ctx context.Context) *agentRun {
	run, _ := ctx.Value(runKey{}).(*agentRun)
	return run
}

// maxLoggedChars bounds each event's detail in the log, as the Python twin does.
const maxLoggedChars = 200

// loggingHandler logs every chain, LLM, tool and agent event, as an application's audit log
// would, and counts them. One handler serves a whole phase of concurrent runs (log.Logger is
// safe for concurrent use). Streamed chunks (HandleStreamingFunc) are neither logged nor
// counted: the Python handler does not log tokens either.
type loggingHandler struct {
	callbacks.SimpleHandler
	log    *log.Logger
	events atomic.Int64
}

var _ callbacks.Handler = (*loggingHandler)(nil)

func (h *loggingHandler) event(ctx context.Context, kind string, detail any) {
	h.events.Add(1)
	id := int64(-1)
	if run := runFrom(ctx); run != nil {
		id = run.id
	}
	// One line per event: newlines in the detail are escaped, as Python's str() of the
	// dicts and lists the Python twin logs escapes them.
	text := strings.ReplaceAll(truncate(fmt.Sprint(detail), maxLoggedChars), "\n", `\n`)
	h.log.Printf("%s run=%d %s", kind, id, text)
}

// messageText is the text of the messages sent to the model.
func messageText(ms []llms.MessageContent) []string {
	texts := make([]string, 0, len(ms))
	for _, m := range ms {
		var b strings.Builder
		for _, part := range m.Parts {
			if t, ok := part.(llms.TextContent); ok {
				b.WriteString(t.Text)
			}
		}
		texts = append(texts, b.String())
	}
	return texts
}

// responseText is the text of the model's choices.
func responseText(res *llms.ContentResponse) []string {
	if res == nil {
		return nil
	}
	texts := make([]string, 0, len(res.Choices))
	for _, c := range res.Choices {
		texts = append(texts, c.Content)
	}
	return texts
}

func (h *loggingHandler) HandleText(ctx context.Context, text string) {
	h.event(ctx, "text", text)
}

func (h *loggingHandler) HandleLLMStart(ctx context.Context, prompts []string) {
	h.event(ctx, "llm_start", prompts)
}

func (h *loggingHandler) HandleLLMGenerateContentStart(ctx context.Context, ms []llms.MessageContent) {
	h.event(ctx, "llm_start", messageText(ms))
}

func (h *loggingHandler) HandleLLMGenerateContentEnd(ctx context.Context, res *llms.ContentResponse) {
	h.event(ctx, "llm_end", responseText(res))
}

func (h *loggingHandler) HandleLLMError(ctx context.Context, err error) {
	h.event(ctx, "llm_error", err)
}

func (h *loggingHandler) HandleChainStart(ctx context.Context, inputs map[string]any) {
	h.event(ctx, "chain_start", inputs)
}

func (h *loggingHandler) HandleChainEnd(ctx context.Context, outputs map[string]any) {
	h.event(ctx, "chain_end", outputs)
}

func (h *loggingHandler) HandleChainError(ctx context.Context, err error) {
	h.event(ctx, "chain_error", err)
}

func (h *loggingHandler) HandleToolStart(ctx context.Context, input string) {
	h.event(ctx, "tool_start", input)
}

func (h *loggingHandler) HandleToolEnd(ctx context.Context, output string) {
	h.event(ctx, "tool_end", output)
}

func (h *loggingHandler) HandleToolError(ctx context.Context, err error) {
	h.event(ctx, "tool_error", err)
}

func (h *loggingHandler) HandleAgentAction(ctx context.Context, action schema.AgentAction) {
	h.event(ctx, "agent_action", action)
}

func (h *loggingHandler) HandleAgentFinish(ctx context.Context, finish schema.AgentFinish) {
	h.event(ctx, "agent_finish", finish)
}

func (h *loggingHandler) HandleRetrieverStart(ctx context.Context, query string) {
	h.event(ctx, "retriever_start", query)
}

func (h *loggingHandler) HandleRetrieverEnd(ctx context.Context, query string, documents []schema.Document) {
	h.event(ctx, "retriever_end", fmt.Sprintf("%s: %d documents", query, len(documents)))
}

// tracingHandler records one OpenTelemetry span per chain, LLM and tool run, nested as the
// runs are: each agent run keeps a stack of its open spans (its context carries the run), and
// a new span's parent is the innermost open one. The Python twin nests by LangChain's parent
// run ids. Start and end events are counted.
type tracingHandler struct {
	callbacks.SimpleHandler
	tracer trace.Tracer
	events atomic.Int64
}

var _ callbacks.Handler = (*tracingHandler)(nil)

func (h *tracingHandler) start(ctx context.Context, kind string) {
	h.events.Add(1)
	run := runFrom(ctx)
	if run == nil {
		return
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	parent := context.Background()
	if n := len(run.spans); n > 0 {
		parent = trace.ContextWithSpan(parent, run.spans[n-1].span)
	}
	_, span := h.tracer.Start(parent, kind)
	run.spans = append(run.spans, openSpan{kind: kind, span: span})
}

// end ends the innermost open span of this kind.
func (h *tracingHandler) end(ctx context.Context, kind string) {
	h.events.Add(1)
	run := runFrom(ctx)
	if run == nil {
		return
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	for i := len(run.spans) - 1; i >= 0; i-- {
		if run.spans[i].kind == kind {
			run.spans[i].span.End()
			run.spans = append(run.spans[:i], run.spans[i+1:]...)
			return
		}
	}
}

func (h *tracingHandler) HandleChainStart(ctx context.Context, _ map[string]any) {
	h.start(ctx, "chain")
}

func (h *tracingHandler) HandleChainEnd(ctx context.Context, _ map[string]any) {
	h.end(ctx, "chain")
}

func (h *tracingHandler) HandleChainError(ctx context.Context, _ error) {
	h.end(ctx, "chain")
}

func (h *tracingHandler) HandleLLMGenerateContentStart(ctx context.Context, _ []llms.MessageContent) {
	h.start(ctx, "llm")
}

func (h *tracingHandler) HandleLLMGenerateContentEnd(ctx context.Context, _ *llms.ContentResponse) {
	h.end(ctx, "llm")
}

func (h *tracingHandler) HandleLLMError(ctx context.Context, _ error) {
	h.end(ctx, "llm")
}

func (h *tracingHandler) HandleToolStart(ctx context.Context, _ string) {
	h.start(ctx, "tool")
}

func (h *tracingHandler) HandleToolEnd(ctx context.Context, _ string) {
	h.end(ctx, "tool")
}

func (h *tracingHandler) HandleToolError(ctx context.Context, _ error) {
	h.end(ctx, "tool")
}

// observer is one phase's callbacks: the handler (nil for bare) and what the phase record
// reports about it.
type observer struct {
	handler callbacks.Handler
	record  func(phase map[string]any)
	close   func() error
}

// newObserver builds the callbacks of one phase. logDir holds the logging handler's file.
func newObserver(mode, logDir string) (*observer, error) {
	switch mode {
	case "bare":
		return &observer{record: func(map[string]any) {}, close: func() error { return nil }}, nil
	case "logging":
		f, err := os.OpenFile(filepath.Join(logDir, "events.log"),
			os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, err
		}
		h := &loggingHandler{log: log.New(f, "", 0)}
		return &observer{
			handler: h,
			record:  func(phase map[string]any) { phase["events"] = h.events.Load() },
			close:   f.Close,
		}, nil
	case "otel":
		exporter := tracetest.NewInMemoryExporter()
		// WithSyncer: a simple (synchronous) span processor, as the Python twin uses.
		provider := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
		h := &tracingHandler{tracer: provider.Tracer("chainmark")}
		return &observer{
			handler: h,
			record: func(phase map[string]any) {
				phase["events"] = h.events.Load()
				phase["spans"] = len(exporter.GetSpans())
			},
			close: func() error { return provider.Shutdown(context.Background()) },
		}, nil
	}
	return nil, fmt.Errorf("unknown observability mode %q", mode)
}

func observability(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) (err error) {
	if err := checkAgentParams(p); err != nil {
		return err
	}
	if p.Concurrency <= 0 || p.Rounds <= 0 || len(p.Modes) == 0 {
		return errors.New("params.concurrency and params.rounds must be positive, params.modes non-empty")
	}
	timeout, err := seconds("timeout_s", p.TimeoutS)
	if err != nil {
		return err
	}
	minimum, err := waveLimits("min_phase_s", p.MinPhaseS, p.MaxWaves)
	if err != nil {
		return err
	}
	runner := &agentRunner{params: p, opts: chainOptions(p)}
	var logDir string
	if err := rec.Setup(func() (err error) {
		if runner.llm, err = newLLM(e); err != nil {
			return err
		}
		logDir, err = os.MkdirTemp("", "chainmark-events-")
		return err
	}); err != nil {
		return err
	}
	defer func() {
		if rmErr := os.RemoveAll(logDir); rmErr != nil && err == nil {
			err = rmErr
		}
	}()
	var runs atomic.Int64
	phases := []map[string]any{}
	phase := func(mode string) error {
		// langchaingo attaches a handler to objects, not to a call: the phase gets its own
		// Ollama client reporting to the handler (the agent, its LLM chain, the executor and
		// the tools get it per run, in runWith).
		llm, err := newLLM(e)
		if err != nil {
			return err
		}
		obs, err := newObserver(mode, logDir)
		if err != nil {
			return err
		}
		if obs.handler != nil {
			llm.CallbacksHandler = obs.handler
		}
		cfg := agentConfig{llm: llm, handler: obs.handler}
		began := time.Now()
		start := began.UnixNano()
		// The burst again and again until the phase has lasted min_phase_s.
		waves := inWaves(ctx, began, minimum, p.MaxWaves, func(wave int) {
			burst(p.Concurrency, func(int) {
				rec.boundedOp(ctx, mode, timeout, func(ctx context.Context, op *Op) error {
					op.Output["wave"] = wave
					ctx = withRun(ctx, &agentRun{id: runs.Add(1)})
					return runner.runWith(ctx, p.Question, op.Output, cfg)
				})
			})
		})
		record := map[string]any{"mode": mode, "start_ns": start, "end_ns": time.Now().UnixNano(),
			"waves": waves}
		obs.record(record)
		phases = append(phases, record)
		return obs.close()
	}
	// One untimed bare burst first, so no measured phase pays for a cold process.
	var warmErr error
	var warmOnce sync.Once
	burst(p.Concurrency, func(int) {
		ctx := withRun(ctx, &agentRun{id: runs.Add(1)})
		if err := runner.runWith(ctx, p.Question, map[string]any{}, agentConfig{llm: runner.llm}); err != nil {
			warmOnce.Do(func() { warmErr = err })
		}
	})
	if warmErr != nil {
		return fmt.Errorf("warm-up: %w", warmErr)
	}
	rec.Begin()
	// Modes alternate within each round, and every other round runs them in reverse
	// (ABC CBA ...), so drift on a shared machine hits every mode alike.
	for round := range p.Rounds {
		for i := range p.Modes {
			mode := p.Modes[i]
			if round%2 == 1 {
				mode = p.Modes[len(p.Modes)-1-i]
			}
			if err := phase(mode); err != nil {
				return fmt.Errorf("%s phase: %w", mode, err)
			}
		}
	}
	rec.End()
	rec.outputs["phases"] = phases
	return nil
}
