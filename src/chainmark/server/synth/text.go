package synth

import (
	"math/bits"
	"unicode"
	"unicode/utf8"
)

// Deterministic text and word-tokens.
//
// A token here is a whitespace-separated word: a prompt's token count is its word count, and
// each streamed token is one word with the whitespace before it (" word"). Whitespace is
// Python's str.isspace (Unicode White_Space plus the ASCII separators U+001C..U+001F), so
// counts agree with the Python harness.

// vocabulary: plain, short English words so answers look like text to splitters and parsers.
var vocabulary = [...]string{
	"the", "a", "an", "of", "to", "in", "on", "for", "with", "by", "from", "at", "as", "is",
	"are", "was", "be", "been", "it", "this", "that", "these", "those", "and", "or", "but",
	"so", "because", "while", "when", "where", "which", "who", "what", "how", "why", "light",
	"sky", "blue", "air", "water", "small", "large", "model", "answer", "question", "data",
	"system", "time", "result", "process", "energy", "color", "wave", "long", "short",
	"scatter", "sun", "red", "green", "value", "number", "text", "word", "sentence", "reason",
	"first", "next", "then", "also", "more", "less", "most", "many", "some", "each", "other",
	"same", "different", "simple", "clear", "good", "new", "old", "high", "low", "often",
	"usually", "always", "never", "can", "may", "will", "would", "should", "could", "make",
	"take", "give", "find", "use", "show", "help", "work", "call", "return", "store",
	"search", "read", "write", "point", "part", "place", "way", "case", "fact", "idea",
	"example",
}

// asciiSpace marks the ASCII bytes Python's str.isspace accepts.
var asciiSpace = [utf8.RuneSelf]bool{
	'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true,
	0x1c: true, 0x1d: true, 0x1e: true, 0x1f: true,
}

// isPySpace is Python's str.isspace for one character.
func isPySpace(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiSpace[r]
	}
	return unicode.IsSpace(r)
}

// spaceAt reports whether s[i:] starts with whitespace, and the width of that character.
// An invalid UTF-8 byte is one non-space character.
func spaceAt(s string, i int) (bool, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return asciiSpace[c], 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError {
		return false, n
	}
	return unicode.IsSpace(r), n
}

// spaceClass maps a byte to 1 for ASCII whitespace, 0 for other ASCII, 2 for the bytes of
// a multi-byte character.
var spaceClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = 2
		case asciiSpace[c]:
			t[c] = 1
		}
	}
	return t
}()

// CountTokens counts word-tokens: whitespace-separated words, as Python's len(text.split()).
// ASCII text goes eight bytes at a time.
func CountTokens(text string) int {
	count := 0
	prevSpace := uint64(1) // whether the byte before i is whitespace (1) or not (0)
	i := 0
	for i+8 <= len(text) {
		w := uint64(text[i]) | uint64(text[i+1])<<8 | uint64(text[i+2])<<16 |
			uint64(text[i+3])<<24 | uint64(text[i+4])<<32 | uint64(text[i+5])<<40 |
			uint64(text[i+6])<<48 | uint64(text[i+7])<<56
		if w&hi8 != 0 { // a multi-byte character: this block byte by byte
			break
		}
		space := asciiSpaceMask(w)
		// A word starts at a non-space byte after a space byte.
		starts := ^space & (space<<8 | prevSpace<<7) & hi8
		count += bits.OnesCount64(starts)
		prevSpace = space >> 63
		i += 8
	}
	for i < len(text) {
		class := spaceClass[text[i]]
		if class == 2 {
			space, n := spaceAt(text, i)
			i += n
			class = 0
			if space {
				class = 1
			}
		} else {
			i++
		}
		count += int(uint8(prevSpace) &^ class)
		prevSpace = uint64(class)
		// Back to eight at a time once past the multi-byte characters.
		for i+8 <= len(text) {
			w := uint64(text[i]) | uint64(text[i+1])<<8 | uint64(text[i+2])<<16 |
				uint64(text[i+3])<<24 | uint64(text[i+4])<<32 | uint64(text[i+5])<<40 |
				uint64(text[i+6])<<48 | uint64(text[i+7])<<56
			if w&hi8 != 0 {
				break
			}
			space := asciiSpaceMask(w)
			count += bits.OnesCount64(^space & (space<<8 | prevSpace<<7) & hi8)
			prevSpace = space >> 63
			i += 8
		}
	}
	return count
}

const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// asciiSpaceMask has the top bit of each byte of w set where that byte is whitespace (as
// asciiSpace: '\t'..'\r', U+001C..U+001F, ' '); every byte of w is ASCII. Each byte is
// computed on its own: no sum carries into the next byte.
func asciiSpaceMask(w uint64) uint64 {
	t := w ^ (0x20 * lo8)
	blank := ^((t&(0x7f*lo8) + 0x7f*lo8) | t) // ' '
	// lo <= byte <= hi: byte+(0x80-lo) has its top bit set, byte+(0x7f-hi) has not.
	controls := (w + (0x80-'\t')*lo8) &^ (w + (0x7f-'\r')*lo8)
	separators := (w + (0x80-0x1c)*lo8) &^ (w + (0x7f-0x1f)*lo8)
	return (blank | controls | separators) & hi8
}

// SplitWordTokens cuts text into word-tokens that concatenate to exactly text: each token is
// the whitespace before a word plus the word (`\s*\S+`), and trailing whitespace is a token
// of its own: "The sky  is\nblue. " -> ["The", " sky", "  is", "\nblue.", " "].
func SplitWordTokens(text string) []string {
	if text == "" {
		return nil
	}
	tokens := make([]string, 0, len(text)/6+2)
	start := 0
	inWord := false // in the word part of the current token
	for i := 0; i < len(text); {
		c := text[i]
		space, n := false, 1
		if c < utf8.RuneSelf {
			space = asciiSpace[c]
		} else {
			space, n = spaceAt(text, i)
		}
		if space && inWord { // a word ended: its token ends here
			tokens = append(tokens, text[start:i])
			start, inWord = i, false
		} else if !space {
			inWord = true
		}
		i += n
	}
	return append(tokens, text[start:])
}

func isASCIILetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

// promptWordClass is `[A-Za-z'-]`, the characters of a prompt word after its first letter.
func promptWordClass(c byte) bool { return isASCIILetter(c) || c == '\'' || c == '-' }

// wordSource picks words: a quarter from the prompt (so answers stay on topic, and a stop
// sequence taken from the prompt can actually occur), the rest from the vocabulary.
//
// A prompt word matches `[A-Za-z][A-Za-z'-]+` (letters, apostrophes and hyphens, starting
// with a letter, two characters at least). Rather than indexing every word of the prompt,
// a pick draws a random offset in Prompt.Text and takes the first word that starts there or
// within promptWordReach bytes after (else from the start of that message), so a pick
// costs the same for any prompt size. A pick that finds none takes a vocabulary word.
type wordSource struct {
	r      rng
	prompt Prompt
	total  int    // len(Prompt.Text)
	ends   []int  // where each message's content ends in Prompt.Text, past eight messages
	endBuf [8]int // the ends of up to eight messages, without allocating
}

// promptWordReach bounds the scan for a prompt word, and the length of one.
const promptWordReach = 64

func newWordSource(seed uint64, p Prompt) wordSource {
	w := wordSource{r: newRNG(seed), prompt: p}
	if p.Raw != nil {
		w.total = len(*p.Raw)
		return w
	}
	if len(p.Messages) > len(w.endBuf) {
		w.ends = make([]int, len(p.Messages))
	}
	for i, m := range p.Messages {
		if i > 0 {
			w.total++ // the "\n" Text puts between messages
		}
		w.total += len(m.Content)
		w.setEnd(i, w.total)
	}
	return w
}

func (w *wordSource) setEnd(i, end int) {
	if w.ends != nil {
		w.ends[i] = end
	} else {
		w.endBuf[i] = end
	}
}

func (w *wordSource) end(i int) int {
	if w.ends != nil {
		return w.ends[i]
	}
	return w.endBuf[i]
}

// promptWord picks a prompt word, or "" if there is none where it looked.
func (w *wordSource) promptWord() string {
	if w.total == 0 {
		return ""
	}
	off := w.r.intn(w.total)
	text := ""
	if w.prompt.Raw != nil {
		text = *w.prompt.Raw
	} else {
		// The message holding off (binary search over the ends).
		lo, hi := 0, len(w.prompt.Messages)-1
		for lo < hi {
			if mid := (lo + hi) / 2; w.end(mid) <= off {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		start := 0
		if lo > 0 {
			start = w.end(lo-1) + 1
		}
		text, off = w.prompt.Messages[lo].Content, max(off-start, 0)
	}
	if word := wordFrom(text, off); word != "" {
		return word
	}
	return wordFrom(text, 0)
}

// wordFrom is the first prompt word starting in text[from:from+promptWordReach] (a letter
// that no word character precedes), cut to promptWordReach bytes; "" if none.
func wordFrom(text string, from int) string {
	limit := min(len(text), from+promptWordReach)
	for i := from; i < limit; i++ {
		if !isASCIILetter(text[i]) || (i > 0 && promptWordClass(text[i-1])) {
			continue
		}
		j := i + 1
		for end := min(len(text), i+promptWordReach); j < end && promptWordClass(text[j]); j++ {
		}
		if j-i >= 2 {
			return text[i:j]
		}
	}
	return ""
}

// appendWord appends one lower-cased word, capitalised if asked.
func (w *wordSource) appendWord(buf []byte, capital bool) []byte {
	start := len(buf)
	// One draw decides both the source (its top bits) and the vocabulary word (its low 32).
	x := w.r.next()
	word := ""
	if w.total > 0 && x < prob25 {
		word = w.promptWord()
	}
	if word != "" {
		buf = append(buf, word...)
		for i := start; i < len(buf); i++ {
			if c := buf[i]; c >= 'A' && c <= 'Z' {
				buf[i] = c + 32
			}
		}
	} else {
		buf = append(buf, vocabulary[(x&0xffffffff)*uint64(len(vocabulary))>>32]...) // lower case
	}
	if capital {
		if c := buf[start]; c >= 'a' && c <= 'z' {
			buf[start] = c - 32
		}
	}
	return buf
}

// appendSentences appends n words in sentences: capitalised, ended with '.' after six words
// or more (one chance in five per word), and the last word ends one if full is set. If
// spaces is not nil, the index of each space written is appended to it.
func (w *wordSource) appendSentences(buf []byte, spaces *[]int32, n int, full bool) []byte {
	sentence := 0
	for i := 0; i < n; i++ {
		if i > 0 {
			if spaces != nil {
				*spaces = append(*spaces, int32(len(buf)))
			}
			buf = append(buf, ' ')
		}
		buf = w.appendWord(buf, sentence == 0)
		sentence++
		if sentence >= 6 && w.r.next() < prob20 {
			buf = append(buf, '.')
			sentence = 0
		}
	}
	if full && n > 0 && buf[len(buf)-1] != '.' {
		buf = append(buf, '.')
	}
	return buf
}

// textSeed is the generator seed for (prompt, seed): promptHash mixed with Ollama's seed.
func textSeed(promptKey uint64, seed int) uint64 {
	return mix64(promptKey ^ mix64(uint64(seed)+0x632be59bd9b4e019))
}

// deterministicText is the first n of the words DeterministicText would write, and its
// word-tokens; full says whether n is all of them (only then is a final '.' added).
func deterministicText(p Prompt, promptKey uint64, seed, n int, full bool) (string, []string) {
	if n <= 0 {
		return "", nil
	}
	w := newWordSource(textSeed(promptKey, seed), p)
	var spaceBuf [256]int32
	spaces := spaceBuf[:0]
	buf := make([]byte, 0, n*7+8)
	text := string(w.appendSentences(buf, &spaces, n, full))
	// The words contain no whitespace: a token ends at every space written.
	tokens := make([]string, 0, n)
	prev := 0
	for _, sp := range spaces {
		tokens = append(tokens, text[prev:sp])
		prev = int(sp)
	}
	return text, append(tokens, text[prev:])
}

// DeterministicText is words word-tokens of plain English chosen by a PRNG seeded with
// (prompt, seed): the same request always gets the same text, another seed another text.
// About a quarter of the words come from the prompt (words of two letters or more,
// lower-cased; see wordSource); sentences are capitalised and end with '.'.
func DeterministicText(p Prompt, seed, words int) string {
	text, _ := deterministicText(p, promptHash(p), seed, words, true)
	return text
}
