package main

// Part 5, operational cost: a conversation whose buffer memory (a slice of turns) goes into
// every prompt, and what hooks cost on concurrent agents: none, a log/slog log of every
// event, and spans for every chain, model and tool run (observe.go).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// conversationPrompt is the classic conversation prompt (LangChain's and LangChainGo's
// ConversationChain default, word for word): the whole history, then the new input.
const conversationPrompt = "The following is a friendly conversation between a human and an " +
	"AI. The AI is talkative and provides lots of specific details from its context. If the AI " +
	"does not know the answer to a question, it truthfully says it does not know.\n\n" +
	"Current conversation:\n%s\nHuman: %s\nAI:"

// Turn is one exchange the buffer keeps.
type Turn struct {
	Human, AI string
}

// Conversation is a chat with buffer memory: every turn, whole, in order.
type Conversation struct {
	llm   *Ollama
	opts  Sampling
	turns []Turn
}

// History is the buffer as the prompt carries it: "Human: ...\nAI: ..." per turn, one line
// each, joined by newlines.
func (c *Conversation) History() string {
	lines := make([]string, 0, 2*len(c.turns))
	for _, t := range c.turns {
		lines = append(lines, "Human: "+t.Human, "AI: "+t.AI)
	}
	return strings.Join(lines, "\n")
}

// Say sends input with the history and keeps the exchange.
func (c *Conversation) Say(ctx context.Context, input string) (string, error) {
	reply, err := c.llm.Generate(ctx, fmt.Sprintf(conversationPrompt, c.History(), input), c.opts)
	if err != nil {
		return "", err
	}
	c.turns = append(c.turns, Turn{Human: input, AI: reply})
	return reply, nil
}

func opsMemory(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	if p.Turns <= 0 {
		return fmt.Errorf("params.turns must be positive, got %d", p.Turns)
	}
	if p.FirstTurn == "" || p.NextTurn == "" {
		return errors.New("params.first_turn and params.next_turn are required")
	}
	llm, err := llmClient(e, rec, 1)
	if err != nil {
		return err
	}
	conversation := &Conversation{llm: llm, opts: sampling(p)}
	checkpoints := map[int]bool{}
	for _, turn := range p.Checkpoints {
		checkpoints[turn] = true
	}
	rec.Begin()
	for turn := 1; turn <= p.Turns; turn++ {
		said := p.NextTurn
		if turn == 1 {
			said = p.FirstTurn
		}
		op := rec.Op("turn", func(op *Op) error {
			text, err := conversation.Say(ctx, said)
			if err != nil {
				return err
			}
			op.Output["text"] = text
			return nil
		})
		// Outside the timed part.
		op.Output["turn"] = turn
		op.Output["history_chars"] = utf8.RuneCountInString(conversation.History())
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

// phaseObserver is one phase's hooks (nil for bare), what its record reports about them, and
// how to release them.
type phaseObserver struct {
	obs    Observer
	record func(phase map[string]any)
	close  func() error
}

// newPhaseObserver builds the hooks of one phase; logDir holds the log file.
func newPhaseObserver(mode, logDir string) (*phaseObserver, error) {
	switch mode {
	case "bare":
		return &phaseObserver{record: func(map[string]any) {}, close: func() error { return nil }}, nil
	case "logging":
		f, err := os.OpenFile(filepath.Join(logDir, "events.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, err
		}
		o := &loggingObserver{log: slog.New(slog.NewTextHandler(f, nil))}
		return &phaseObserver{
			obs:    o,
			record: func(phase map[string]any) { phase["events"] = o.events.Load() },
			close:  f.Close,
		}, nil
	case "otel":
		o := &tracingObserver{}
		return &phaseObserver{
			obs: o,
			record: func(phase map[string]any) {
				phase["events"] = o.events.Load()
				phase["spans"] = o.Spans()
			},
			close: func() error { return nil },
		}, nil
	}
	return nil, fmt.Errorf("unknown observability mode %q", mode)
}

func observability(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) (err error) {
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
	agent, err := agentSetup(p, e, rec, p.Concurrency)
	if err != nil {
		return err
	}
	logDir, err := os.MkdirTemp("", "chainmark-events-")
	if err != nil {
		return err
	}
	defer func() {
		if rmErr := os.RemoveAll(logDir); rmErr != nil && err == nil {
			err = rmErr
		}
	}()
	phases := []map[string]any{}
	phase := func(mode string) error {
		hooks, err := newPhaseObserver(mode, logDir)
		if err != nil {
			return err
		}
		began := time.Now()
		// The burst again and again until the phase has lasted min_phase_s.
		waves := inWaves(ctx, began, minimum, p.MaxWaves, func(wave int) {
			burst(p.Concurrency, func(int) {
				rec.boundedOp(ctx, mode, timeout, func(ctx context.Context, op *Op) error {
					op.Output["wave"] = wave
					return runAgentOnce(ctx, agent, p, op.Output, "", nil, hooks.obs)
				})
			})
		})
		record := map[string]any{"mode": mode, "start_ns": began.UnixNano(),
			"end_ns": time.Now().UnixNano(), "waves": waves}
		hooks.record(record)
		phases = append(phases, record)
		return hooks.close()
	}
	// One untimed bare burst first, so no measured phase pays for a cold process.
	var warmErr error
	var warmOnce sync.Once
	burst(p.Concurrency, func(int) {
		if err := runAgentOnce(ctx, agent, p, map[string]any{}, "", nil, nil); err != nil {
			warmOnce.Do(func() { warmErr = err })
		}
	})
	if warmErr != nil {
		return fmt.Errorf("warm-up: %w", warmErr)
	}
	rec.Begin()
	// Modes alternate within each round, and every other round runs them in reverse (ABC
	// CBA ...), so drift on a shared machine hits every mode alike.
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
