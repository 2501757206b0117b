package synth

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

func userPrompt(text string) Prompt {
	return Prompt{Kind: "generate", Messages: []Message{{Role: "user", Content: text}}}
}

func zeroModel(behaviour string, outputTokens int) *Model {
	p := ZeroProfile()
	p.OutputTokens = outputTokens
	return &Model{Name: behaviour + ":zero", Behaviour: behaviour, Profile: p}
}

func join(tokens []string) string { return strings.Join(tokens, "") }

func TestSplitWordTokensRebuildTheText(t *testing.T) {
	text := "The sky  is\nblue. "
	tokens := SplitWordTokens(text)
	want := []string{"The", " sky", "  is", "\nblue.", " "}
	if !reflect.DeepEqual(tokens, want) {
		t.Fatalf("got %q, want %q", tokens, want)
	}
	for _, text := range []string{"", " ", "a", "  lead", "trail  ", "\u00a0nbsp\u2003em\x1fsep",
		"bad \xff\xfe utf8 \xe2\x82", "tab\tand\r\nlines\n\n"} {
		if got := join(SplitWordTokens(text)); got != text {
			t.Errorf("tokens of %q join to %q", text, got)
		}
	}
}

func TestCountTokensIsPythonsSplit(t *testing.T) {
	for text, want := range map[string]int{
		"": 0, "   ": 0, "one": 1, " one two ": 2, "a\tb\nc\rd\ve\ff": 6,
		"a\x1cb\x1dc\x1ed\x1ff": 5, "a\u00a0b\u2003c\u3000d": 4, "a\u200bb": 1, "\xff \xfe": 2,
	} {
		if got := CountTokens(text); got != want {
			t.Errorf("CountTokens(%q) = %d, want %d", text, got, want)
		}
	}
}

func TestCountTokensAgreesByteByByte(t *testing.T) {
	slow := func(text string) int {
		n, in := 0, false
		for _, r := range text {
			if isPySpace(r) {
				in = false
			} else if !in {
				in, n = true, n+1
			}
		}
		return n
	}
	alphabet := []string{"a", "b", " ", "\t", "\n", "\r", "\v", "\f", "\x1c", "\x1f", "\x1b", "\x08",
		"\x0e", "!", "~", "\x7f", "\x00", "é", "\u00a0", "\u2003", "\xff", "!!!!!!!!", "        "}
	seed := uint64(1)
	for n := 0; n < 20000; n++ {
		var b strings.Builder
		seed = mix64(seed)
		for i := int(seed % 40); i > 0; i-- {
			seed = mix64(seed)
			b.WriteString(alphabet[seed%uint64(len(alphabet))])
		}
		text := b.String()
		if got, want := CountTokens(text), slow(text); got != want {
			t.Fatalf("CountTokens(%q) = %d, want %d", text, got, want)
		}
	}
}

func TestDeterministicTextProperties(t *testing.T) {
	p := userPrompt("Explain Rayleigh scattering: sunlight, nitrogen molecules, bluish skies.")
	a := DeterministicText(p, 0, 250)
	if b := DeterministicText(p, 0, 250); a != b {
		t.Fatal("the same prompt and seed gave different text")
	}
	if DeterministicText(p, 1, 250) == a {
		t.Fatal("another seed gave the same text")
	}
	if DeterministicText(userPrompt("Why is the sky green?"), 0, 250) == a {
		t.Fatal("another prompt gave the same text")
	}
	words := strings.Fields(a)
	if len(words) != 250 {
		t.Fatalf("%d words, want 250", len(words))
	}
	promptWords := map[string]bool{}
	for _, w := range regexp.MustCompile(`[A-Za-z][A-Za-z'-]+`).FindAllString(p.Text(), -1) {
		promptWords[strings.ToLower(w)] = true
	}
	vocab := map[string]bool{}
	for _, w := range vocabulary {
		vocab[w] = true
	}
	fromPrompt := 0
	sentenceStart := true
	for i, w := range words {
		bare := strings.TrimSuffix(w, ".")
		lower := strings.ToLower(bare)
		if !promptWords[lower] && !vocab[lower] {
			t.Fatalf("word %q is neither from the prompt nor the vocabulary", w)
		}
		if promptWords[lower] {
			fromPrompt++
		}
		first := rune(bare[0])
		if sentenceStart != unicode.IsUpper(first) && unicode.IsLetter(first) {
			t.Fatalf("word %d %q: capitalised %v at a sentence start %v", i, w, unicode.IsUpper(first), sentenceStart)
		}
		sentenceStart = strings.HasSuffix(w, ".")
	}
	if !strings.HasSuffix(a, ".") {
		t.Fatal("the text does not end a sentence")
	}
	// A quarter of the words come from the prompt (this one shares none with the vocabulary).
	if fromPrompt < 40 || fromPrompt > 85 {
		t.Fatalf("%d of 250 words only from the prompt, want about a quarter", fromPrompt)
	}
	if DeterministicText(p, 0, 0) != "" {
		t.Fatal("zero words should be empty")
	}
	if got := DeterministicText(Prompt{}, 0, 5); len(strings.Fields(got)) != 5 {
		t.Fatalf("an empty prompt gave %q", got)
	}
}

func TestAnswerTokensAndCounts(t *testing.T) {
	m := zeroModel(BehaviourCorrect, 250)
	p := Prompt{Kind: "chat", Messages: []Message{
		{Role: "system", Content: "You are helpful."},
		{Role: "user", Content: "Why is the sky blue?"},
	}}
	a := m.Answer(p, Options{Seed: 7}, nil, nil)
	if len(a.Tokens) != 250 || a.Generated != 250 || a.DoneReason != "stop" {
		t.Fatalf("tokens %d generated %d reason %s", len(a.Tokens), a.Generated, a.DoneReason)
	}
	if a.PromptTokens != 8 {
		t.Fatalf("prompt tokens %d, want 8", a.PromptTokens)
	}
	if a.Tokens[0] == "" || a.Tokens[0][0] == ' ' || a.Tokens[1][0] != ' ' {
		t.Fatalf("tokens should be words with their leading space: %q", a.Tokens[:3])
	}
	if join(a.Tokens) != DeterministicText(p, 7, 250) {
		t.Fatal("Answer's text is not DeterministicText")
	}
	if got := m.Answer(p, Options{NumCtx: 5}, nil, nil).PromptTokens; got != 5 {
		t.Fatalf("num_ctx should cap prompt tokens: %d", got)
	}
	raw := "raw text here"
	if got := m.Answer(Prompt{Kind: "generate", Raw: &raw}, Options{}, nil, nil).PromptTokens; got != 3 {
		t.Fatalf("raw prompt tokens %d", got)
	}
}

func TestNumPredictAndStop(t *testing.T) {
	text := "One two three four five."
	tokens := SplitWordTokens(text)
	for _, c := range []struct {
		o      Options
		reason string
		text   string
		gen    int
	}{
		{Options{NumPredict: 3}, "length", "One two three", 3},
		{Options{Stop: []string{"four"}}, "stop", "One two three ", 4},
		{Options{Stop: []string{"hre"}}, "stop", "One two t", 3},
		{Options{Stop: []string{"zzz", "", "two", "One"}}, "stop", "", 1},
		{Options{NumPredict: 2, Stop: []string{"four"}}, "length", "One two", 2},
		{Options{NumPredict: -1}, "stop", text, 5},
		{Options{}, "stop", text, 5},
	} {
		got, gen, reason := limitTokens(text, append([]string(nil), tokens...), c.o, false)
		if join(got) != c.text || reason != c.reason || gen != c.gen {
			t.Errorf("%+v: got %q %d %s, want %q %d %s", c.o, join(got), gen, reason, c.text, c.gen, c.reason)
		}
		for _, tok := range got {
			if tok == "" {
				t.Errorf("%+v: an empty token", c.o)
			}
		}
	}
}

func TestAnswerNumPredictMatchesTruncation(t *testing.T) {
	m := zeroModel(BehaviourCorrect, 250)
	p := userPrompt("Tell me about bananas and apples.")
	full := m.Answer(p, Options{Seed: 3}, nil, nil)
	for _, n := range []int{1, 7, 100, 249} {
		a := m.Answer(p, Options{Seed: 3, NumPredict: n}, nil, nil)
		if a.DoneReason != "length" || a.Generated != n || !reflect.DeepEqual(a.Tokens, full.Tokens[:n]) {
			t.Fatalf("num_predict %d: %d tokens, reason %s, differs %v", n, len(a.Tokens), a.DoneReason,
				!reflect.DeepEqual(a.Tokens, full.Tokens[:n]))
		}
	}
	for _, n := range []int{250, 251, 1000} {
		a := m.Answer(p, Options{Seed: 3, NumPredict: n}, nil, nil)
		if a.DoneReason != "stop" || !reflect.DeepEqual(a.Tokens, full.Tokens) {
			t.Fatalf("num_predict %d should not cut a 250-token answer", n)
		}
	}
}

func TestStopSequenceFromThePrompt(t *testing.T) {
	m := zeroModel(BehaviourCorrect, 250)
	p := userPrompt("banana split")
	full := join(m.Answer(p, Options{}, nil, nil).Tokens)
	i := strings.Index(full, "banana")
	if i < 0 {
		t.Fatalf("a prompt word never occurs in %q", full)
	}
	a := m.Answer(p, Options{Stop: []string{"banana"}}, nil, nil)
	if got := join(a.Tokens); got != full[:i] || a.DoneReason != "stop" {
		t.Fatalf("stop: got %q (%s), want %q", got, a.DoneReason, full[:i])
	}
	if a.Generated != len(SplitWordTokens(full[:i+1])) {
		t.Fatalf("generated %d should count the token the stop began in", a.Generated)
	}
}

func TestPromptText(t *testing.T) {
	raw := "raw"
	if (Prompt{Raw: &raw, Messages: []Message{{Content: "x"}}}).Text() != "raw" {
		t.Fatal("raw wins")
	}
	p := Prompt{Messages: []Message{{Content: "a"}, {Content: "b c"}, {Content: ""}}}
	if p.Text() != "a\nb c\n" {
		t.Fatalf("%q", p.Text())
	}
	if (Prompt{}).Text() != "" {
		t.Fatal("empty")
	}
}

func TestModelsAndKeys(t *testing.T) {
	profiles := map[string]Profile{"zero": ZeroProfile(), "Slow-CPU": {Name: "Slow-CPU"}}
	models := NewModels(profiles)
	if len(models) != 6 || models["synthetic-liar:slow-cpu"].Name != "synthetic-liar:Slow-CPU" {
		t.Fatalf("%v", models)
	}
	for in, want := range map[string]string{
		"synthetic": "synthetic:zero", " Synthetic-Liar:latest ": "synthetic-liar:zero",
		"synthetic:Slow-CPU": "synthetic:slow-cpu", "smollm2:135m": "smollm2:135m",
		"other": "other",
	} {
		if got := ModelKey(in); got != want {
			t.Errorf("ModelKey(%q) = %q, want %q", in, got, want)
		}
	}
}
