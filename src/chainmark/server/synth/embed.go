package synth

import (
	"math"
	"unicode"
	"unicode/utf8"
)

// embedNoise is the weight of the text-specific direction added to the bag of words.
const embedNoise = 0.15

// Embed is a deterministic unit vector of length dim for text (float32, norm 1): a hashed
// bag of words, so texts that share words are closer, plus a small direction drawn from the
// exact text, so different texts never coincide and an empty text still has a direction.
//
// Words are runs of Unicode letters, digits and '_' (`\w+`), lower-cased; each distinct word
// adds 1+ln(count) to one hashed slot (sign from the hash) and half that to another. The
// text's own direction is a random ±1 per dimension seeded by the text, weighted 0.15
// against the unit bag of words. The cost is linear in len(text) plus dim. dim < 1 gives an
// empty vector.
func Embed(text string, dim int) []float32 {
	if dim < 1 {
		return []float32{}
	}
	out := make([]float32, dim)

	// The text's own signs, 64 per draw.
	var signStack [16]uint64
	signs := signStack[:]
	if n := (dim + 63) / 64; n > len(signs) {
		signs = make([]uint64, n)
	}
	signs = signs[:(dim+63)/64]
	r := newRNG(hashString(0x7f4a7c15f39cc060, text))
	for i := range signs {
		signs[i] = r.next()
	}

	// The bag of words, summed in out, with its squared norm and its dot product with the
	// signs kept up to date as slots change.
	var keys [256]uint64
	var counts [256]uint32
	words := wordCounts{keys: keys[:], counts: counts[:]}
	scanWords(text, &words)
	var bagNorm, cross float64
	d := uint64(dim)
	add := func(i uint64, w float64) {
		old := float64(out[i])
		v := float32(old + w)
		out[i] = v
		bagNorm += float64(v)*float64(v) - old*old
		if signs[i>>6]>>(i&63)&1 != 0 {
			cross += float64(v) - old
		} else {
			cross -= float64(v) - old
		}
	}
	for i, key := range words.keys {
		if key == 0 {
			continue
		}
		weight := 1.0
		if c := words.counts[i]; c > 1 {
			weight += math.Log(float64(c))
		}
		s := mix64(key)
		a := (s & 0xffffffff) * d >> 32
		b := (s >> 32) * d >> 32
		if s&(1<<31) == 0 { // the bit just above a's: a sign independent of the slot
			weight = -weight
		}
		add(a, weight)
		if s&(1<<63) == 0 {
			weight = -weight
		}
		add(b, weight/2)
	}

	// out = (bag/|bag| + 0.15 * signs/sqrt(dim)) / norm, the norm from the sums above.
	bagScale, noiseScale := 0.0, 1/math.Sqrt(float64(dim))
	total := 1.0
	if bagNorm > 1e-12 {
		bagScale = 1 / math.Sqrt(bagNorm)
		noiseScale *= embedNoise
		total = 1 + 2*bagScale*noiseScale*cross + embedNoise*embedNoise
	}
	scale := 1 / math.Sqrt(total)
	bag := float32(bagScale * scale)
	noise := [2]float32{float32(-noiseScale * scale), float32(noiseScale * scale)}
	for k, bits := range signs {
		block := out[k*64 : min(k*64+64, dim)]
		for i := range block {
			block[i] = block[i]*bag + noise[bits&1]
			bits >>= 1
		}
	}
	return out
}

// wordCounts is an open-addressing table from word hashes (never 0) to counts, over arrays
// its caller provides (on the stack); it grows onto the heap as needed.
type wordCounts struct {
	keys   []uint64
	counts []uint32
	used   int
}

func (w *wordCounts) add(key uint64) {
	if key == 0 {
		key = 1
	}
	if 2*(w.used+1) > len(w.keys) {
		w.grow()
	}
	mask := uint64(len(w.keys) - 1)
	for i := mix64(key) & mask; ; i = (i + 1) & mask {
		switch w.keys[i] {
		case key:
			w.counts[i]++
			return
		case 0:
			w.keys[i], w.counts[i] = key, 1
			w.used++
			return
		}
	}
}

func (w *wordCounts) grow() {
	keys, counts := w.keys, w.counts
	w.keys = make([]uint64, 2*len(keys))
	w.counts = make([]uint32, 2*len(keys))
	mask := uint64(len(w.keys) - 1)
	for j, key := range keys {
		if key == 0 {
			continue
		}
		i := mix64(key) & mask
		for w.keys[i] != 0 {
			i = (i + 1) & mask
		}
		w.keys[i], w.counts[i] = key, counts[j]
	}
}

// wordByte marks the ASCII bytes of `\w`.
var wordByte = func() (t [utf8.RuneSelf]bool) {
	for c := 0; c < utf8.RuneSelf; c++ {
		t[c] = c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
	}
	return t
}()

const (
	fnvOffset = 0xcbf29ce484222325
	fnvPrime  = 0x100000001b3
)

// scanWords adds the FNV-1a hash of every lower-cased `\w+` word of text to words.
func scanWords(text string, words *wordCounts) {
	h := uint64(fnvOffset)
	in := false
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			if wordByte[c] {
				if c >= 'A' && c <= 'Z' {
					c += 32
				}
				h = (h ^ uint64(c)) * fnvPrime
				in = true
				continue
			}
		} else {
			r, n := utf8.DecodeRuneInString(text[i:])
			i += n
			if r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsNumber(r)) {
				r = unicode.ToLower(r)
				for shift := 0; shift < 32; shift += 8 {
					h = (h ^ uint64(byte(r>>shift))) * fnvPrime
				}
				in = true
				continue
			}
		}
		if in {
			words.add(h)
			h, in = fnvOffset, false
		}
	}
	if in {
		words.add(h)
	}
}
