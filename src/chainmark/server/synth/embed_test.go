package synth

import (
	"math"
	"strings"
	"testing"
)

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func TestEmbeddingGeometry(t *testing.T) {
	for _, dim := range []int{64, 576} {
		a := Embed("the cat sat on the mat", dim)
		b := Embed("the cat sat on the mat", dim)
		c := Embed("on the mat the cat sat", dim)
		d := Embed("quarterly revenue grew", dim)
		if len(a) != dim {
			t.Fatalf("len %d", len(a))
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatal("the same text gave another vector")
			}
		}
		if ac, ad := dot(a, c), dot(a, d); !(ac > 0.9 && 0.9 > ad) {
			t.Fatalf("dim %d: same words %.3f, unrelated %.3f", dim, ac, ad)
		}
		if dot(a, c) > 0.9999 {
			t.Fatal("different texts coincide")
		}
		shared := Embed("the cat slept on the sofa", dim)
		if !(dot(a, shared) > dot(a, d)) {
			t.Fatalf("shared words should be closer: %.3f vs %.3f", dot(a, shared), dot(a, d))
		}
		for _, text := range []string{"", "the cat sat on the mat", strings.Repeat("word ", 5000),
			"\xff\xfe invalid", "Ünïcödé ΣΊΣΥΦΟΣ 東京 ٣٤"} {
			v := Embed(text, dim)
			if n := math.Sqrt(dot(v, v)); math.Abs(n-1) > 1e-5 {
				t.Fatalf("norm of %q is %v", text[:min(len(text), 20)], n)
			}
			for _, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatal("not finite")
				}
			}
		}
	}
	// Case is ignored by the bag of words, not by the text's own direction.
	upper, lower := Embed("The Cat Sat", 576), Embed("the cat sat", 576)
	if s := dot(upper, lower); s < 0.95 || s > 0.9999 {
		t.Fatalf("case variants: %.4f", s)
	}
	if len(Embed("x", 0)) != 0 || len(Embed("x", -3)) != 0 {
		t.Fatal("dim < 1 should be empty")
	}
	if v := Embed("x", 1); len(v) != 1 || math.Abs(math.Abs(float64(v[0]))-1) > 1e-6 {
		t.Fatalf("dim 1: %v", v)
	}
	big := Embed("a b c", 3000)
	if n := math.Sqrt(dot(big, big)); math.Abs(n-1) > 1e-5 {
		t.Fatal("large dim norm")
	}
	// Many distinct words grow the word table.
	var b strings.Builder
	for i := 0; i < 2000; i++ {
		b.WriteString(strings.Repeat(string(rune('a'+i%26)), 1+i/26))
		b.WriteByte(' ')
	}
	v1, v2 := Embed(b.String(), 64), Embed(b.String(), 64)
	for i := range v1 {
		if v1[i] != v2[i] {
			t.Fatal("not deterministic with a grown table")
		}
	}
}

func TestEmbeddingUnitNormEverywhere(t *testing.T) {
	seed := uint64(7)
	words := []string{"alpha", "beta", "gamma", " ", "\n", "α", "\xff", "9", "_", "--", "Alpha"}
	for n := 0; n < 2000; n++ {
		var b strings.Builder
		seed = mix64(seed)
		for i := int(seed % 30); i > 0; i-- {
			seed = mix64(seed)
			b.WriteString(words[seed%uint64(len(words))])
		}
		dim := 1 + int(seed>>40)%700
		v := Embed(b.String(), dim)
		if n := math.Sqrt(dot(v, v)); math.Abs(n-1) > 1e-5 || len(v) != dim {
			t.Fatalf("%q dim %d: norm %v", b.String(), dim, n)
		}
	}
	// Hostile input: linear, and still a unit vector.
	for _, text := range []string{strings.Repeat("9", 1<<20), strings.Repeat("\xff", 1<<20),
		strings.Repeat("a ", 1<<19), strings.Repeat("é", 1<<19)} {
		v := Embed(text, 576)
		if n := math.Sqrt(dot(v, v)); math.Abs(n-1) > 1e-5 {
			t.Fatalf("norm %v", n)
		}
	}
}

func TestEmbeddingsAreStable(t *testing.T) {
	// Fixed across processes and releases of Go: no per-process hash seeds.
	v := Embed("stable", 4)
	w := Embed("stable", 4)
	if v[0] != w[0] || v[3] != w[3] {
		t.Fatal("unstable")
	}
}
