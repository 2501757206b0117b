package main

import (
	"strings"
	"sync"

	"github.com/chainmark/server/synth"
)

// promptCache imitates the KV cache of a model served through one slot, as Ollama serves
// one: a prompt that starts like the previous one only pays for the words after the shared
// part. Without it a paced synthetic model charges an agent's whole ReAct prompt again at
// every step, where the real model on Ollama evaluates only the new scratchpad; and, as on
// Ollama, an embedding request on the same model evicts the cached prompt.
type promptCache struct {
	mu   sync.Mutex
	last string
}

// reuse returns how many of the prompt's words the slot already holds, and remembers this
// prompt followed by the answer it gets: Ollama's slot keeps the generated tokens too, so an
// agent's next step, which repeats that answer in its scratchpad, pays only for what follows
// it (the observation). At least one word is always evaluated, as Ollama always evaluates
// the last token.
func (c *promptCache) reuse(text string, words int, answer string) int {
	c.mu.Lock()
	previous := c.last
	c.last = text + answer
	c.mu.Unlock()
	n := 0
	for n < len(text) && n < len(previous) && text[n] == previous[n] {
		n++
	}
	if n < len(text) && !isSpace(text[n]) {
		// A word cut by the end of the shared part is not cached.
		n = strings.LastIndexAny(text[:n], " \t\r\n") + 1
	}
	return min(synth.CountTokens(text[:n]), max(words-1, 0))
}

func (c *promptCache) evict() {
	c.mu.Lock()
	c.last = ""
	c.mu.Unlock()
}
