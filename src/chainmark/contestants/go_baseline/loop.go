package main

import (
	"iter"
	"time"
)

// Loop is the timed loop's counter: p.Iterations at least; then, while the loop has run for
// less than p.MinRoundS, more, up to p.MaxRoundIterations. pyperf sizes its loops the same
// way: on a zero-latency model one call is a millisecond, and a figure needs enough work for
// the clock to mean something. Without those params it yields exactly p.Iterations.
func (p Params) Loop() iter.Seq[int] {
	return func(yield func(int) bool) {
		limit := max(p.Iterations, p.MaxRoundIterations)
		floor := time.Duration(p.MinRoundS * float64(time.Second))
		start := time.Now()
		for done := 0; done < p.Iterations || (done < limit && time.Since(start) < floor); done++ {
			if !yield(done) {
				return
			}
		}
	}
}
