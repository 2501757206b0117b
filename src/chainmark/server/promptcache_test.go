package main

import (
	"net/http"
	"testing"
	"time"
)

func TestPromptCacheChargesOnlyTheNewWords(t *testing.T) {
	var c promptCache
	if got := c.reuse("Answer the question. Question: what is two", 7, ""); got != 0 {
		t.Fatalf("cold cache reused %d words", got)
	}
	// The scratchpad grows: the whole previous prompt is a prefix.
	if got := c.reuse("Answer the question. Question: what is two Thought: add", 9, ""); got != 7 {
		t.Fatalf("growing prompt reused %d words, want 7", got)
	}
	// A word cut by the end of the shared part is not cached.
	if got := c.reuse("Answer the questions now", 4, ""); got != 2 {
		t.Fatalf("diverging prompt reused %d words, want 2", got)
	}
	// The same prompt again still evaluates its last word.
	if got := c.reuse("Answer the questions now", 4, ""); got != 3 {
		t.Fatalf("repeated prompt reused %d words, want 3", got)
	}
	c.evict()
	if got := c.reuse("Answer the questions now", 4, ""); got != 0 {
		t.Fatalf("after an eviction reused %d words", got)
	}
}

func TestPromptCacheKeepsTheAnswer(t *testing.T) {
	var c promptCache
	c.reuse("Question: two plus two Thought:", 5, " add them\nAction: calc")
	// The next ReAct step repeats the answer, then the observation: only that is new.
	next := "Question: two plus two Thought: add them\nAction: calc\nObservation: 4\nThought:"
	if got := c.reuse(next, 12, ""); got != 9 {
		t.Fatalf("next step reused %d words, want 9 (prompt and answer)", got)
	}
	// Another client's prompt that shares only the question's start.
	if got := c.reuse("Question: three", 2, ""); got != 1 {
		t.Fatalf("diverging prompt reused %d words, want 1", got)
	}
}

// wordPace charges a millisecond per evaluated prompt word, so its model keeps a prompt cache.
type wordPace struct{}

func (wordPace) PromptDelay(words int) time.Duration { return time.Duration(words) * time.Millisecond }
func (wordPace) TokenInterval() time.Duration        { return 0 }
func (wordPace) EmbedDelay(int) time.Duration        { return 0 }

func TestEvictForgetsEveryCachedPrompt(t *testing.T) {
	ts := newTestServer(t)
	name := "fake:words"
	ts.models.add(newModel(name, "fake", "words", 8, 1, fakeEngine{tokens: 3}, wordPace{}))
	body := `{"model": "` + name + `", "prompt": "one two three four five", "stream": false}`
	cached := func() float64 {
		ts.post("/api/generate", body).json(t)
		log := ts.do(http.MethodGet, "/chainmark/requests", "").json(t)
		requests := log["requests"].([]any)
		return requests[len(requests)-1].(map[string]any)["prompt_cached_count"].(float64)
	}
	if got := cached(); got != 0 {
		t.Fatalf("first prompt: %v words cached", got)
	}
	if got := cached(); got == 0 {
		t.Fatal("the repeated prompt was not cached")
	}
	evicted := ts.do(http.MethodPost, "/chainmark/evict", "").json(t)
	if evicted["evicted"].(float64) < 1 {
		t.Fatalf("evict answered %v", evicted)
	}
	if got := cached(); got != 0 {
		t.Fatalf("after the eviction %v words were cached", got)
	}
}
