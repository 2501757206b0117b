package main

// A recursive character splitter written for the baseline: the published algorithm
// (LangChain's RecursiveCharacterTextSplitter with its defaults) that chainmark's reference
// splitter (src/chainmark/reference/splitter.py) also writes out. Separators "\n\n", "\n",
// " ", then single characters; each separator is kept at the start of the piece after it;
// chunks are stripped of whitespace. Lengths are counted in characters (code points), as
// Python counts them, so any text splits into the reference's chunks, not only ASCII.

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// defaultSeparators are tried in order: the first one present in the text splits it, and the
// rest split the pieces still too long.
var defaultSeparators = []string{"\n\n", "\n", " ", ""}

// Splitter splits text into chunks of at most Size characters, overlapping by up to Overlap.
type Splitter struct {
	Size, Overlap int
}

// newSplitter checks the sizes.
func newSplitter(size, overlap int) (Splitter, error) {
	if size <= 0 || overlap < 0 {
		return Splitter{}, errors.New("chunk_size must be positive and chunk_overlap not negative")
	}
	if overlap > size {
		return Splitter{}, errors.New("chunk_overlap must not exceed chunk_size")
	}
	return Splitter{Size: size, Overlap: overlap}, nil
}

// Split returns text's chunks.
func (s Splitter) Split(text string) []string {
	return s.split(text, defaultSeparators)
}

// piece is a piece of text and its length in characters.
type piece struct {
	text string
	n    int
}

func (s Splitter) split(text string, separators []string) []string {
	index := len(separators) - 1
	for i, sep := range separators {
		if sep == "" || strings.Contains(text, sep) {
			index = i
			break
		}
	}
	separator, finer := separators[index], separators[index+1:]
	var chunks []string
	var small []piece
	for _, p := range pieces(text, separator) {
		if p.n < s.Size {
			small = append(small, p)
			continue
		}
		if len(small) > 0 {
			chunks = s.merge(chunks, small)
			small = small[:0]
		}
		if len(finer) > 0 && separator != "" {
			chunks = append(chunks, s.split(p.text, finer)...)
		} else {
			chunks = append(chunks, p.text)
		}
	}
	if len(small) > 0 {
		chunks = s.merge(chunks, small)
	}
	return chunks
}

// pieces splits text on separator, gluing each separator to the start of the piece after it
// and dropping empty pieces; the empty separator splits into characters.
func pieces(text, separator string) []piece {
	if separator == "" {
		out := make([]piece, 0, utf8.RuneCountInString(text))
		for rest := text; rest != ""; {
			// The width as decoded: a byte that is not UTF-8 is one character of width 1.
			_, width := utf8.DecodeRuneInString(rest)
			out = append(out, piece{text: rest[:width], n: 1})
			rest = rest[width:]
		}
		return out
	}
	parts := strings.Split(text, separator)
	out := make([]piece, 0, len(parts))
	if parts[0] != "" {
		out = append(out, piece{text: parts[0], n: utf8.RuneCountInString(parts[0])})
	}
	sepLen := utf8.RuneCountInString(separator)
	// Each later piece starts where its separator does in text, so it is a substring, not a
	// new string.
	at := len(parts[0])
	for _, part := range parts[1:] {
		out = append(out, piece{text: text[at : at+len(separator)+len(part)],
			n: sepLen + utf8.RuneCountInString(part)})
		at += len(separator) + len(part)
	}
	return out
}

// merge packs consecutive pieces into chunks of at most Size characters, carrying up to
// Overlap characters of the previous chunk over, and appends them to chunks.
func (s Splitter) merge(chunks []string, ps []piece) []string {
	var b strings.Builder
	emit := func(window []piece) {
		b.Reset()
		for _, w := range window {
			b.WriteString(w.text)
		}
		if chunk := strings.TrimFunc(b.String(), isPySpace); chunk != "" {
			chunks = append(chunks, chunk)
		}
	}
	first, length := 0, 0 // the window is ps[first:i]
	for i, p := range ps {
		if length+p.n > s.Size && i > first {
			emit(ps[first:i])
			// Drop from the front until what remains may serve as overlap and the new piece
			// fits beside it.
			for first < i && (length > s.Overlap || length+p.n > s.Size) {
				length -= ps[first].n
				first++
			}
		}
		length += p.n
	}
	if first < len(ps) {
		emit(ps[first:])
	}
	return chunks
}
