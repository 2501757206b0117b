package main

// Stress scenarios with the article's Go pieces: one goroutine per simultaneous request,
// sync.WaitGroup to wait for them, and context.WithTimeout to bound each one (the Python
// twin uses asyncio.gather and asyncio.wait_for).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/tmc/langchaingo/chains"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/schema"
)

// maxErrorChars bounds an error message kept in a result, as the Python twin does.
const maxErrorChars = 500

// errSwallowedDeadline marks a call that langchaingo returned without an error although its
// deadline passed during it. langchaingo v0.1.14's Ollama client reads the NDJSON stream
// with a bufio.Scanner and never checks scanner.Err(): when the context ends after the
// response headers arrived, the read error is dropped and the call returns whatever text had
// arrived (often "") and a nil error. The caller owns the deadline, so it checks ctx.Err()
// after the call, as asyncio.wait_for raises on the Python side.
var errSwallowedDeadline = errors.New("langchaingo returned no error")

// deadlineCheck returns err, or, when the call returned nil but ctx ended meanwhile, ctx's
// error wrapped with errSwallowedDeadline.
func deadlineCheck(ctx context.Context, err error) error {
	if err == nil && ctx.Err() != nil {
		return fmt.Errorf("%w (%w: its Ollama client dropped the stream's read error and "+
			"returned a truncated reply)", ctx.Err(), errSwallowedDeadline)
	}
	return err
}

// errorKind classifies a failed call as the Python twin does: "timeout" for a deadline
// (the error wraps context.DeadlineExceeded, is a net timeout, or the call's own deadline has
// passed, which makes any later failure its consequence), "connection" for a network error,
// else the Go type name of the innermost wrapped error.
func errorKind(ctx context.Context, err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return "connection"
	}
	inner := err
	for {
		next := errors.Unwrap(inner)
		if next == nil {
			break
		}
		inner = next
	}
	return fmt.Sprintf("%T", inner)
}

// truncate shortens s to at most n characters (runes).
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// boundedOp records one operation whose call gets its own context.WithTimeout deadline. A
// failure is recorded with ok false, the error and output.error_kind; it never stops the run.
func (r *Recorder) boundedOp(ctx context.Context, name string, timeout time.Duration,
	fn func(ctx context.Context, op *Op) error,
) {
	r.Op(name, func(op *Op) error {
		callCtx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		err := deadlineCheck(callCtx, fn(callCtx, op))
		if err == nil {
			return nil
		}
		op.Output["error_kind"] = errorKind(callCtx, err)
		if errors.Is(err, errSwallowedDeadline) {
			op.Output["langchaingo_error"] = nil
		}
		return errors.New(truncate(err.Error(), maxErrorChars))
	})
}

// seconds converts a parameter in seconds, which must be positive.
func seconds(name string, s float64) (time.Duration, error) {
	if s <= 0 {
		return 0, fmt.Errorf("params.%s must be positive, got %v", name, s)
	}
	return time.Duration(s * float64(time.Second)), nil
}

// burst runs n operations at once, one goroutine each, and waits for all of them.
func burst(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(i)
		}()
	}
	wg.Wait()
}

// waveLimits checks the minimum duration of repeated bursts (params.<name>, seconds; 0 runs
// one wave) and params.max_waves (at least 1).
func waveLimits(name string, minimumS float64, maxWaves int) (time.Duration, error) {
	if minimumS < 0 {
		return 0, fmt.Errorf("params.%s must not be negative, got %v", name, minimumS)
	}
	if maxWaves < 1 {
		return 0, fmt.Errorf("params.max_waves must be at least 1, got %d", maxWaves)
	}
	return time.Duration(minimumS * float64(time.Second)), nil
}

// inWaves runs wave(0), wave(1), ... one after another until minimum has passed since origin
// (always one, at most maxWaves; none starts once the time is reached, or once the run's
// context has ended) and returns how many ran. origin is the instant of the start stamp the
// result reports (the timed region's, a phase's), so the contestant and the verifier time
// the same span. The Python twin is in_waves.
func inWaves(ctx context.Context, origin time.Time, minimum time.Duration, maxWaves int, wave func(n int)) int {
	n := 0
	for {
		wave(n)
		n++
		if n >= maxWaves || time.Since(origin) >= minimum || ctx.Err() != nil {
			return n
		}
	}
}

// instantOf is the wall-clock epoch stamp wallNs as a time.Time with a monotonic reading
// (from one clock read), so time.Since measures from it however long ago it was taken.
func instantOf(wallNs int64) time.Time {
	now := time.Now()
	return now.Add(-time.Duration(now.UnixNano() - wallNs))
}

func concurrentRAG(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	if p.Concurrency <= 0 || len(p.Queries) == 0 {
		return errors.New("params.concurrency must be positive and params.queries non-empty")
	}
	timeout, err := seconds("timeout_s", p.TimeoutS)
	if err != nil {
		return err
	}
	minimum, err := waveLimits("min_duration_s", p.MinDurationS, p.MaxWaves)
	if err != nil {
		return err
	}
	var qa chains.RetrievalQA
	if err := rec.Setup(func() (err error) {
		qa, err = newRetrievalQA(ctx, p, e)
		return err
	}); err != nil {
		return err
	}
	opts := chainOptions(p)
	rec.Begin()
	inWaves(ctx, instantOf(*rec.measureStart), minimum, p.MaxWaves, func(wave int) {
		burst(p.Concurrency, func(i int) {
			query := p.Queries[i%len(p.Queries)]
			rec.boundedOp(ctx, "qa", timeout, func(ctx context.Context, op *Op) error {
				op.Output["wave"] = wave
				answer, err := chains.Call(ctx, qa, map[string]any{"query": query}, opts...)
				if err != nil {
					return err
				}
				text, ok := answer["text"].(string)
				if !ok {
					return fmt.Errorf("retrieval QA returned no text: %v", answer["text"])
				}
				sources, _ := answer["source_documents"].([]schema.Document)
				op.Output["query"] = query
				op.Output["text"] = text
				op.Output["documents"] = len(sources)
				return nil
			})
		})
	})
	rec.End()
	return nil
}

func concurrentAgent(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	if err := checkAgentParams(p); err != nil {
		return err
	}
	if p.Concurrency <= 0 {
		return errors.New("params.concurrency must be positive")
	}
	timeout, err := seconds("timeout_s", p.TimeoutS)
	if err != nil {
		return err
	}
	minimum, err := waveLimits("min_duration_s", p.MinDurationS, p.MaxWaves)
	if err != nil {
		return err
	}
	runner := &agentRunner{params: p, opts: chainOptions(p)}
	if err := rec.Setup(func() (err error) {
		runner.llm, err = newLLM(e)
		return err
	}); err != nil {
		return err
	}
	rec.Begin()
	inWaves(ctx, instantOf(*rec.measureStart), minimum, p.MaxWaves, func(wave int) {
		burst(p.Concurrency, func(int) {
			rec.boundedOp(ctx, "agent", timeout, func(ctx context.Context, op *Op) error {
				op.Output["wave"] = wave
				return runner.run(ctx, p.Question, op.Output)
			})
		})
	})
	rec.End()
	return nil
}

// saturation: `concurrency` workers call the LLM back to back until `duration_s` has passed;
// a call already under way at the deadline finishes.
func saturation(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	if p.Concurrency <= 0 {
		return errors.New("params.concurrency must be positive")
	}
	timeout, err := seconds("timeout_s", p.TimeoutS)
	if err != nil {
		return err
	}
	duration, err := seconds("duration_s", p.DurationS)
	if err != nil {
		return err
	}
	var llm *ollama.LLM
	if err := rec.Setup(func() (err error) {
		llm, err = newLLM(e)
		return err
	}); err != nil {
		return err
	}
	opts := callOptions(p)
	rec.Begin()
	deadline := time.Now().Add(duration)
	burst(p.Concurrency, func(int) {
		// The run's own context ending (the harness's timeout) stops the workers too.
		for time.Now().Before(deadline) && ctx.Err() == nil {
			rec.boundedOp(ctx, "generate", timeout, func(ctx context.Context, op *Op) error {
				text, err := llms.GenerateFromSinglePrompt(ctx, llm, p.Prompt, opts...)
				if err != nil {
					return err
				}
				op.Output["text"] = text
				return nil
			})
		}
	})
	rec.End()
	return nil
}
