package synth

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestFoldFinderAgreesWithLowerIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pats := []string{"classify it as either", "count from", "length of the word",
		"evaluate this math expression:", "ab", "a", "to"}
	alphabet := "aAbBcCtToO :yYfF"
	for n := 0; n < 3000; n++ {
		pat := pats[r.IntN(len(pats))]
		var b strings.Builder
		for i := r.IntN(60); i > 0; i-- {
			if r.IntN(5) == 0 {
				p := pat
				if r.IntN(2) == 0 {
					p = strings.ToUpper(p)
				}
				b.WriteString(p[:r.IntN(len(p)+1)])
			} else {
				b.WriteByte(alphabet[r.IntN(len(alphabet))])
			}
		}
		s := b.String()
		lower := strings.ToLower(s)
		f := newFoldFinder(s, pat)
		for from := 0; from <= len(s)+1; from++ {
			want := -1
			if from <= len(s) {
				if k := strings.Index(lower[from:], pat); k >= 0 {
					want = from + k
				}
			}
			if got := f.next(from); got != want {
				t.Fatalf("next(%d) of %q in %q = %d, want %d", from, pat, s, got, want)
			}
		}
	}
}
