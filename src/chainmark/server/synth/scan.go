package synth

import "strings"

// Hand-written scanners for the few patterns the scripts look for. Each is linear in its
// input (no backtracking), so hostile prompts cost no more than reading them.

// lowerASCII folds an ASCII upper-case letter to lower case.
func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}

// hasPrefixFold reports whether s starts with pat, ignoring ASCII case; pat is lower case.
func hasPrefixFold(s, pat string) bool {
	if len(s) < len(pat) {
		return false
	}
	for i := 0; i < len(pat); i++ {
		if lowerASCII(s[i]) != pat[i] {
			return false
		}
	}
	return true
}

// foldFinder finds the occurrences of pat in s ignoring ASCII case; pat is lower case.
// Candidates come from IndexByte for the pattern's rarest character (in either case), each
// case's search resuming where it last stopped, so finding every occurrence in turn costs
// about one pass over s, and common letters do not make a candidate of every other byte.
type foldFinder struct {
	s, pat               string
	anchor               int  // the index in pat searched for
	lower, upper         byte // pat[anchor] in both cases (the same if not a letter)
	nextLower, nextUpper int  // candidate anchor positions; -2: not searched yet; -1: none left
}

// letterCommonness ranks letters from the most common in English text to the least.
const letterCommonness = "etaoinshrdlcumwfgypbvkjxqz"

func newFoldFinder(s, pat string) foldFinder {
	f := foldFinder{s: s, pat: pat, nextLower: -2, nextUpper: -2}
	best := -1
	for i := 0; i < len(pat); i++ {
		rank := 0 // a space is the most common of all
		switch c := pat[i]; {
		case c >= 'a' && c <= 'z':
			rank = 1 + strings.IndexByte(letterCommonness, c)
		case c != ' ':
			rank = 100
		}
		if rank > best {
			best, f.anchor = rank, i
		}
	}
	if len(pat) > 0 {
		f.lower = pat[f.anchor]
		f.upper = f.lower
		if f.lower >= 'a' && f.lower <= 'z' {
			f.upper -= 32
		}
	}
	return f
}

// next is the index of the first occurrence at or after from, or -1.
func (f *foldFinder) next(from int) int {
	s, pat := f.s, f.pat
	limit := len(s) - len(pat) // the last possible start
	if len(pat) == 0 || limit < 0 {
		return -1
	}
	for i := max(from, 0) + f.anchor; i <= limit+f.anchor; {
		if f.nextLower != -1 && f.nextLower < i {
			f.nextLower = indexByteFrom(s, f.lower, i)
		}
		if f.nextUpper != -1 && f.nextUpper < i {
			f.nextUpper = indexByteFrom(s, f.upper, i)
		}
		j := f.nextLower
		if j < 0 || (f.nextUpper >= 0 && f.nextUpper < j) {
			j = f.nextUpper
		}
		if j < 0 || j > limit+f.anchor {
			return -1
		}
		if start := j - f.anchor; hasPrefixFold(s[start:], pat) {
			return start
		}
		i = j + 1
	}
	return -1
}

// indexFold is the index of the first occurrence of pat in s ignoring ASCII case, or -1
// (pat as for foldFinder).
func indexFold(s, pat string) int {
	f := newFoldFinder(s, pat)
	return f.next(0)
}

func indexByteFrom(s string, c byte, from int) int {
	if k := strings.IndexByte(s[from:], c); k >= 0 {
		return from + k
	}
	return -1
}

// containsFold reports whether s contains pat ignoring ASCII case (pat lower case).
func containsFold(s, pat string) bool { return indexFold(s, pat) >= 0 }

// skipSpace skips `\s*` from i.
func skipSpace(s string, i int) int {
	for i < len(s) {
		space, n := spaceAt(s, i)
		if !space {
			break
		}
		i += n
	}
	return i
}

// skipHSpace skips `[ \t]*` from i.
func skipHSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func skipDigits(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// lineEnd is the index of the '\n' ending the line at i, or len(s).
func lineEnd(s string, i int) int {
	if k := strings.IndexByte(s[i:], '\n'); k >= 0 {
		return i + k
	}
	return len(s)
}

// trimPySpace is Python's str.strip().
func trimPySpace(s string) string { return strings.TrimFunc(s, isPySpace) }
