package main

// The contract's timing: operations timed on one clock read at each end, a measure window,
// set-up time reported apart.

import (
	"fmt"
	"sync"
	"time"
)

// Op is one timed operation.
type Op struct {
	Name      string         `json:"name"`
	StartNs   int64          `json:"start_ns"`
	EndNs     int64          `json:"end_ns"`
	ElapsedNs int64          `json:"elapsed_ns"`
	OK        bool           `json:"ok"`
	Error     *string        `json:"error"`
	Output    map[string]any `json:"output"`

	t0 time.Time // monotonic start, for stamps inside the operation (first token)
}

// SinceStart is the monotonic time since the operation began.
func (o *Op) SinceStart() time.Duration { return time.Since(o.t0) }

// Recorder times operations and collects what the harness should see. Op may be called from
// several goroutines at once (the stress scenarios); the rest from one.
type Recorder struct {
	mu           sync.Mutex
	ops          []*Op
	outputs      map[string]any
	setup        time.Duration
	measureStart *int64
	measureEnd   *int64
}

func newRecorder() *Recorder { return &Recorder{outputs: map[string]any{}} }

// Begin marks the start of the timed region (after set-up and warm-up) and returns it.
func (r *Recorder) Begin() time.Time {
	now := time.Now()
	ns := now.UnixNano()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.measureStart = &ns
	return now
}

// End marks the end of the timed region.
func (r *Recorder) End() {
	now := time.Now().UnixNano()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.measureEnd = &now
}

// Setup times initialisation, reported as setup_s apart from the operations.
func (r *Recorder) Setup(fn func() error) error {
	t0 := time.Now()
	err := fn()
	r.setup = time.Since(t0)
	return err
}

// Op times fn as one operation and returns its record. A returned error (or a panic) marks
// the operation failed and is recorded, not propagated: the loop goes on so the harness sees
// every failure.
func (r *Recorder) Op(name string, fn func(op *Op) error) *Op {
	r.mu.Lock()
	if r.measureStart == nil {
		now := time.Now().UnixNano()
		r.measureStart = &now
	}
	r.mu.Unlock()
	op := &Op{Name: name, OK: true, Output: map[string]any{}}
	// elapsed_ns comes from the monotonic clock, and end_ns is start_ns plus it (as the Python
	// recorder does): the wall clock can be stepped mid-operation, and the two would disagree.
	op.t0 = time.Now()
	op.StartNs = op.t0.UnixNano()
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		return fn(op)
	}()
	end := time.Now()
	op.ElapsedNs = end.Sub(op.t0).Nanoseconds()
	op.EndNs = op.StartNs + op.ElapsedNs
	if err != nil {
		msg := err.Error()
		op.OK, op.Error = false, &msg
	}
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
	return op
}

// Operations is a copy of the operations recorded so far.
func (r *Recorder) Operations() []*Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Op(nil), r.ops...)
}
