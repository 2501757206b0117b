package main

import (
	"reflect"
	"strings"
	"testing"
)

// The expected chunks are what chainmark's reference splitter
// (src/chainmark/reference/splitter.py, split_text) returns for the same text, size and
// overlap. tests/test_go_baseline.py compares the built binary with the reference on random
// text and on the real corpus; these cases pin the edges: overlap, every separator level,
// text with nothing to keep, non-ASCII text counted in characters, Python's whitespace, and
// single characters as long as a chunk (kept unstripped).
var splitterCases = []struct {
	text          string
	size, overlap int
	want          []string
}{
	{"aaaa bbbb cccc dddd", 10, 0, []string{"aaaa bbbb", "cccc dddd"}},
	{"aaaa bbbb cccc dddd", 10, 5, []string{"aaaa bbbb", "bbbb cccc", "cccc dddd"}},
	{"one two three\n\nfour five six seven\neight nine", 12, 4,
		[]string{"one two", "two three", "four five", "six seven", "eight nine"}},
	{strings.Repeat("x", 25) + " tail", 10, 2,
		[]string{"xxxxxxxxxx", "xxxxxxxxxx", "xxxxxxxxx", "tail"}},
	{"  \n\n  ", 10, 0, nil},
	{"", 10, 0, nil},
	{"héllo wörld ünïcode çharacters ßtrasse", 12, 3,
		[]string{"héllo wörld", "ünïcode", "çharacters", "ßtrasse"}},
	{"para one is here.\n\npara two is a bit longer than one.\n\nthree", 20, 5,
		[]string{"para one is here.", "para two is a bit", "bit longer than", "than one.", "three"}},
	{"ab c", 1, 0, []string{"a", "b", " ", "c"}},
	{"\u2003word\u2003 other\x1c", 5, 0, []string{"word", "othe", "r"}},
	{"a\nb\nc d e f g", 3, 1, []string{"a\nb", "c", "d", "e", "f", "g"}},
}

func TestSplitterMatchesTheReference(t *testing.T) {
	for _, c := range splitterCases {
		s, err := newSplitter(c.size, c.overlap)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Split(c.text); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Split(%q, %d, %d) = %q, want %q", c.text, c.size, c.overlap, got, c.want)
		}
	}
}

func TestSplitterChunksAreSubstringsWithinSize(t *testing.T) {
	text := strings.Repeat("Some words in a sentence. ", 200) + "\n\n" +
		strings.Repeat("Another paragraph\nwith lines ", 100)
	s, err := newSplitter(100, 20)
	if err != nil {
		t.Fatal(err)
	}
	chunks := s.Split(text)
	if len(chunks) < 50 {
		t.Fatalf("%d chunks", len(chunks))
	}
	for _, c := range chunks {
		if len([]rune(c)) > 100 || !strings.Contains(text, c) || strings.TrimSpace(c) != c {
			t.Fatalf("bad chunk %q", c)
		}
	}
}

func TestSplitterSurvivesBytesThatAreNotUTF8(t *testing.T) {
	s, err := newSplitter(2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Split("a\xffb\xe2\x82"); strings.Join(got, "|") != "a\xff|b\xe2|\x82" {
		t.Fatalf("%q", got)
	}
}

func TestSplitterRefusesBadSizes(t *testing.T) {
	for _, c := range [][2]int{{10, 20}, {0, 0}, {10, -1}} {
		if _, err := newSplitter(c[0], c[1]); err == nil {
			t.Errorf("size %d overlap %d accepted", c[0], c[1])
		}
	}
}
