package main

// Part 4, stress: one goroutine per simultaneous operation, a sync.WaitGroup to wait for a
// burst, context.WithTimeout to bound each operation. A burst repeats back to back (waves)
// until the scenario's minimum duration has passed.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxErrorChars bounds an error message kept in a result.
const maxErrorChars = 500

// boundedOp records one operation whose work gets its own deadline. A failure is recorded
// with ok false, the error and output.error_kind; it never stops the run.
func (r *Recorder) boundedOp(ctx context.Context, name string, timeout time.Duration,
	fn func(ctx context.Context, op *Op) error,
) {
	r.Op(name, func(op *Op) error {
		callCtx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		err := fn(callCtx, op)
		if err == nil {
			return nil
		}
		op.Output["error_kind"] = errorKind(callCtx, err)
		return errors.New(truncate(err.Error(), maxErrorChars))
	})
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
// context has ended) and returns how many ran. origin is the instant the result's start stamp
// reports (the timed region's, a phase's), so the contestant and the verifier time the same
// span.
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

// stressLimits checks the concurrency and reads the per-operation timeout and the waves'
// minimum duration.
func stressLimits(p *Params) (time.Duration, time.Duration, error) {
	if p.Concurrency <= 0 {
		return 0, 0, errors.New("params.concurrency must be positive")
	}
	timeout, err := seconds("timeout_s", p.TimeoutS)
	if err != nil {
		return 0, 0, err
	}
	minimum, err := waveLimits("min_duration_s", p.MinDurationS, p.MaxWaves)
	return timeout, minimum, err
}

func concurrentRAG(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	if len(p.Queries) == 0 {
		return errors.New("params.queries must not be empty")
	}
	timeout, minimum, err := stressLimits(p)
	if err != nil {
		return err
	}
	var qa *QA
	if err := rec.Setup(func() (err error) {
		qa, err = newQA(ctx, p, e, p.Concurrency)
		return err
	}); err != nil {
		return err
	}
	origin := rec.Begin()
	inWaves(ctx, origin, minimum, p.MaxWaves, func(wave int) {
		burst(p.Concurrency, func(i int) {
			query := p.Queries[i%len(p.Queries)]
			rec.boundedOp(ctx, "qa", timeout, func(ctx context.Context, op *Op) error {
				op.Output["wave"] = wave
				op.Output["query"] = query
				text, docs, err := qa.Answer(ctx, query)
				if err != nil {
					return err
				}
				op.Output["text"] = text
				op.Output["documents"] = docs
				return nil
			})
		})
	})
	rec.End()
	return nil
}

func concurrentAgent(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	timeout, minimum, err := stressLimits(p)
	if err != nil {
		return err
	}
	agent, err := agentSetup(p, e, rec, p.Concurrency)
	if err != nil {
		return err
	}
	origin := rec.Begin()
	inWaves(ctx, origin, minimum, p.MaxWaves, func(wave int) {
		burst(p.Concurrency, func(int) {
			rec.boundedOp(ctx, "agent", timeout, func(ctx context.Context, op *Op) error {
				op.Output["wave"] = wave
				return runAgentOnce(ctx, agent, p, op.Output, "", nil, nil)
			})
		})
	})
	rec.End()
	return nil
}

// saturation: `concurrency` workers call the model back to back until duration_s has passed;
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
	llm, err := llmClient(e, rec, p.Concurrency)
	if err != nil {
		return err
	}
	opts := sampling(p)
	deadline := rec.Begin().Add(duration)
	burst(p.Concurrency, func(int) {
		// The run's own context ending (the harness's timeout) stops the workers too.
		for time.Now().Before(deadline) && ctx.Err() == nil {
			rec.boundedOp(ctx, "generate", timeout, func(ctx context.Context, op *Op) error {
				text, err := llm.Generate(ctx, p.Prompt, opts)
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
