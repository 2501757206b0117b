package synth

import "math/bits"

// Hashing and the PRNG. Both are fixed functions of their input (no per-process seed, unlike
// hash/maphash or math/rand's global source), so every process, every run and every
// framework gets the same text and vectors for the same request.

// mix64 is splitmix64's finaliser: a bijection that spreads every input bit over the output.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// hashString folds s into h eight bytes at a time. Each call ends with a block tagged with
// the tail length, so hashing a, then b, encodes the pair (a, b) unambiguously.
func hashString(h uint64, s string) uint64 {
	for len(s) >= 8 {
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = (h ^ w) * 0x9e3779b97f4a7c15
		h ^= h >> 29
		s = s[8:]
	}
	w := uint64(len(s)) << 56
	for i := 0; i < len(s); i++ {
		w |= uint64(s[i]) << (8 * i)
	}
	h = (h ^ w) * 0x9e3779b97f4a7c15
	return h ^ h>>29
}

const hashSeed = 0x2545f4914f6cdd1d

// promptHash identifies a prompt: its roles and contents, or its raw text.
func promptHash(p Prompt) uint64 {
	if p.Raw != nil {
		return mix64(hashString(hashString(hashSeed, "raw"), *p.Raw))
	}
	h := hashString(hashSeed, p.Kind)
	for _, m := range p.Messages {
		h = hashString(hashString(h, m.Role), m.Content)
	}
	return mix64(h)
}

// rng is splitmix64: tiny, fast and good enough for choosing words.
type rng struct{ s uint64 }

func newRNG(seed uint64) rng { return rng{s: mix64(seed)} }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// intn is uniform in [0, n) for n > 0 (Lemire's multiply-shift; the bias is below 2^-50).
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// Probabilities as thresholds for next(): next() < p is true with probability p / 2^64.
const (
	prob20 = 0x3333333333333333 // 0.2
	prob25 = 1 << 62            // 0.25
)
