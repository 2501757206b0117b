package main

// In-process stand-ins for the two backends, enough of Ollama's and Chroma's v2 HTTP APIs
// for the contract round-trip tests. The real backends are exercised by `chainmark run`.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const fakeEmbedDim = 8

// fakeOllama answers /api/chat (streamed NDJSON, one word per chunk, as Ollama does when the
// request does not say "stream": false) and /api/embed.
type fakeOllama struct {
	mu       sync.Mutex
	chats    int
	embeds   int
	lastChat map[string]any
}

// seen is the number of chat calls so far and the last chat request.
func (f *fakeOllama) seen() (int, map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.chats, f.lastChat
}

var (
	fakeObservation     = regexp.MustCompile(`Observation:`)
	fakeObservationText = regexp.MustCompile(`Observation:[ \t]*(.*)`)
	fakeWordQuestion    = regexp.MustCompile(`length of the word '(\w+)'`)
)

// Models with a behaviour of their own (any other name is the plain fake):
const (
	// fakeSlowModel streams a word every 20 ms for 5 s, or one word when num_predict is 1.
	fakeSlowModel = "fake-slow"
	// fakeMalformedModel's first ReAct reply of a run has no Action Input line.
	fakeMalformedModel = "fake-malformed"
)

// reply plays a tiny ReAct agent, a router and a plain model. The agent either finds a
// word's length with the word tool (Action Input: the word) or counts to 2 with the counter
// (empty Action Input, which only the opt-in fallback parses).
func (f *fakeOllama) reply(model, prompt string) string {
	switch {
	case strings.Contains(prompt, "Action Input") && strings.Contains(prompt, "Final Answer"):
		q := prompt[strings.LastIndex(prompt, "Question:"):]
		if word := fakeWordQuestion.FindStringSubmatch(q); word != nil {
			seen := fakeObservationText.FindAllStringSubmatch(q, -1)
			var results []string
			for _, m := range seen {
				if !strings.Contains(m[1], "Invalid Format") {
					results = append(results, m[1])
				}
			}
			switch {
			case model == fakeMalformedModel && len(seen) == 0:
				return " I should use a tool now.\nAction: WordLengthTool"
			case len(results) == 0:
				return " I need the length.\nAction: WordLengthTool\nAction Input: " + word[1]
			}
			return " I now know the final answer.\nFinal Answer: The word has " + results[0] + " characters."
		}
		seen := len(fakeObservation.FindAllString(q, -1))
		if seen < 2 {
			return fmt.Sprintf(" I need to count to %d.\nAction: CounterTool\nAction Input: ", seen+1)
		}
		return " I now know the final answer.\nFinal Answer: I counted to 2."
	case strings.Contains(prompt, "classify it as"):
		if strings.Contains(prompt, "*") {
			return "math"
		}
		return "prose"
	}
	return "the sky is blue because of scattering"
}

// slowStream writes one word every 20 ms for 5 s, flushing each, until the client leaves.
func slowStream(w http.ResponseWriter, r *http.Request, model any) {
	enc := json.NewEncoder(w)
	flusher, _ := w.(http.Flusher)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for range 250 {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
		_ = enc.Encode(map[string]any{"model": model, "done": false,
			"message": map[string]any{"role": "assistant", "content": " word"}})
		if flusher != nil {
			flusher.Flush()
		}
	}
	_ = enc.Encode(map[string]any{"model": model, "done": true,
		"message": map[string]any{"role": "assistant", "content": ""}})
}

func (f *fakeOllama) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch r.URL.Path {
	case "/api/chat":
		f.mu.Lock()
		f.chats++
		f.lastChat = body
		f.mu.Unlock()
		msgs, _ := body["messages"].([]any)
		prompt := ""
		if len(msgs) > 0 {
			m, _ := msgs[len(msgs)-1].(map[string]any)
			prompt, _ = m["content"].(string)
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		model, _ := body["model"].(string)
		opts, _ := body["options"].(map[string]any)
		if model == fakeSlowModel && opts["num_predict"] != float64(1) {
			slowStream(w, r, body["model"])
			return
		}
		enc := json.NewEncoder(w)
		for _, word := range regexp.MustCompile(`\s*\S+|\s+`).FindAllString(f.reply(model, prompt), -1) {
			_ = enc.Encode(map[string]any{"model": body["model"], "done": false,
				"message": map[string]any{"role": "assistant", "content": word}})
		}
		_ = enc.Encode(map[string]any{"model": body["model"], "done": true,
			"message": map[string]any{"role": "assistant", "content": ""}})
	case "/api/embed":
		f.mu.Lock()
		f.embeds++
		f.mu.Unlock()
		var inputs []string
		switch in := body["input"].(type) {
		case string:
			inputs = []string{in}
		case []any:
			for _, s := range in {
				text, _ := s.(string)
				inputs = append(inputs, text)
			}
		}
		vectors := make([][]float32, len(inputs))
		for i, text := range inputs {
			v := make([]float32, fakeEmbedDim)
			v[len(text)%fakeEmbedDim] = 1
			vectors[i] = v
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"model": body["model"], "embeddings": vectors})
	default:
		http.NotFound(w, r)
	}
}

type fakeRecord struct {
	id       string
	doc      string
	metadata map[string]any
}

// fakeChroma keeps collections in memory and answers the v2 calls ChromaClient makes.
// Query returns the first n records with distance 1.5 (a score of -0.5 that langchaingo's own
// store would drop).
type fakeChroma struct {
	mu          sync.Mutex
	collections map[string]string // name -> id
	records     map[string][]fakeRecord
	deleted     []string
}

func newFakeChroma() *fakeChroma {
	return &fakeChroma{collections: map[string]string{}, records: map[string][]fakeRecord{}}
}

func (f *fakeChroma) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	const prefix = "/api/v2/tenants/default_tenant/databases/default_database/collections"
	path := r.URL.Path
	w.Header().Set("Content-Type", "application/json")
	write := func(v any) { _ = json.NewEncoder(w).Encode(v) }
	switch {
	case path == "/api/v2/heartbeat":
		write(map[string]any{"nanosecond heartbeat": 1})
	case path == "/api/v1/heartbeat":
		w.WriteHeader(http.StatusGone)
	case path == "/api/v2/pre-flight-checks":
		write(map[string]any{"max_batch_size": 5})
	case path == prefix && r.Method == http.MethodPost:
		var body struct {
			Name        string `json:"name"`
			GetOrCreate bool   `json:"get_or_create"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		id, ok := f.collections[body.Name]
		if !ok {
			id = fmt.Sprintf("id-%d-%s", len(f.collections)+len(f.deleted), body.Name)
			f.collections[body.Name] = id
		}
		write(map[string]any{"id": id, "name": body.Name})
	case strings.HasPrefix(path, prefix+"/") && r.Method == http.MethodDelete:
		name := strings.TrimPrefix(path, prefix+"/")
		id, ok := f.collections[name]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			write(map[string]any{"error": "NotFoundError"})
			return
		}
		delete(f.collections, name)
		delete(f.records, id)
		f.deleted = append(f.deleted, name)
		write(map[string]any{})
	case strings.HasSuffix(path, "/add"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, prefix+"/"), "/add")
		var body addRecords
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.IDs) > 5 ||
			len(body.IDs) != len(body.Embeddings) || len(body.IDs) != len(body.Documents) {
			w.WriteHeader(http.StatusUnprocessableEntity)
			write(map[string]any{"error": "bad add"})
			return
		}
		for i := range body.IDs {
			f.records[id] = append(f.records[id], fakeRecord{body.IDs[i], body.Documents[i], body.Metadatas[i]})
		}
		write(map[string]any{})
	case strings.HasSuffix(path, "/count"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, prefix+"/"), "/count")
		write(len(f.records[id]))
	case strings.HasSuffix(path, "/query"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, prefix+"/"), "/query")
		var body struct {
			N int `json:"n_results"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		recs := f.records[id][:min(body.N, len(f.records[id]))]
		ids, docs, metas, dists := []string{}, []string{}, []map[string]any{}, []float64{}
		for _, rec := range recs {
			ids, docs = append(ids, rec.id), append(docs, rec.doc)
			metas, dists = append(metas, rec.metadata), append(dists, 1.5)
		}
		write(map[string]any{"ids": [][]string{ids}, "documents": [][]string{docs},
			"metadatas": [][]map[string]any{metas}, "distances": [][]float64{dists}})
	default:
		http.NotFound(w, r)
	}
}

// backends starts both fakes for one test.
func backends(t *testing.T) (*fakeOllama, *httptest.Server, *fakeChroma, *httptest.Server) {
	t.Helper()
	ollama := &fakeOllama{}
	chroma := newFakeChroma()
	ollamaSrv := httptest.NewServer(ollama)
	chromaSrv := httptest.NewServer(chroma)
	t.Cleanup(ollamaSrv.Close)
	t.Cleanup(chromaSrv.Close)
	return ollama, ollamaSrv, chroma, chromaSrv
}
