package main

import "testing"

func TestPromptCacheChargesOnlyTheNewWords(t *testing.T) {
	var c promptCache
	if got := c.reuse("Answer the question. Question: what is two", 7); got != 0 {
		t.Fatalf("cold cache reused %d words", got)
	}
	// The scratchpad grows: the whole previous prompt is a prefix.
	if got := c.reuse("Answer the question. Question: what is two Thought: add", 9); got != 7 {
		t.Fatalf("growing prompt reused %d words, want 7", got)
	}
	// A word cut by the end of the shared part is not cached.
	if got := c.reuse("Answer the questions now", 4); got != 2 {
		t.Fatalf("diverging prompt reused %d words, want 2", got)
	}
	// The same prompt again still evaluates its last word.
	if got := c.reuse("Answer the questions now", 4); got != 3 {
		t.Fatalf("repeated prompt reused %d words, want 3", got)
	}
	c.evict()
	if got := c.reuse("Answer the questions now", 4); got != 0 {
		t.Fatalf("after an eviction reused %d words", got)
	}
}
