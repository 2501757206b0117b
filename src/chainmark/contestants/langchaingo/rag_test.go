package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tmc/langchaingo/schema"
)

// testCorpus writes a small corpus: three top-level documents written out of order, one in a
// subdirectory and one of another type (both must be ignored), and a large document.
func testCorpus(t *testing.T) map[string]any {
	t.Helper()
	root := t.TempDir()
	docs := filepath.Join(root, "docs")
	if err := os.MkdirAll(filepath.Join(docs, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	paragraph := strings.Repeat("word ", 60) // 300 characters
	files := map[string]string{
		"docs/doc_03.md":     "# Three\n\n" + strings.Repeat(paragraph+"\n\n", 4),
		"docs/doc_01.md":     "# One\n\n" + strings.Repeat(paragraph+"\n\n", 2),
		"docs/doc_02.md":     "# Two\n\n" + paragraph,
		"docs/sub/doc_00.md": "ignored",
		"docs/notes.txt":     "ignored",
		"large.txt":          strings.Repeat(paragraph+"\n\n", 40),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return map[string]any{"large_document": filepath.Join(root, "large.txt"), "docs_dir": docs}
}

func TestLoadDirectorySortedTopLevel(t *testing.T) {
	corpus := testCorpus(t)
	docs, err := loadDirectory(context.Background(), corpus["docs_dir"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range docs {
		names = append(names, filepath.Base(d.Metadata["source"].(string)))
	}
	if strings.Join(names, ",") != "doc_01.md,doc_02.md,doc_03.md" {
		t.Fatalf("loaded %v", names)
	}
}

// The splitter keeps separators at the start of the next piece, as LangChain Python's
// default and the harness's reference splitter do.
func TestSplitterKeepsSeparators(t *testing.T) {
	p := &Params{ChunkSize: 10, ChunkOver: 0}
	chunks, err := newSplitter(p).SplitText("aaaa bbbb cccc dddd")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(chunks, "|") != "aaaa bbbb|cccc dddd" {
		t.Fatalf("chunks %q", chunks)
	}
}

func TestBounded(t *testing.T) {
	items := []int{1, 2, 3}
	two, ten := 2, 10
	if len(bounded(items, nil)) != 3 || len(bounded(items, &two)) != 2 || len(bounded(items, &ten)) != 3 {
		t.Fatal("bounded")
	}
}

func ragParams(corpus map[string]any, extra map[string]any) map[string]any {
	p := map[string]any{"chunk_size": 200, "chunk_overlap": 50, "corpus": corpus,
		"collection": "test-collection", "iterations": 1}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

func TestRAGRoundTrip(t *testing.T) {
	_, llm, chroma, chromaSrv := backends(t)
	ep := endpointsFor(llm.URL, chromaSrv.URL)
	corpus := testCorpus(t)

	res, code := roundTrip(t, "rag.split", ragParams(corpus, map[string]any{"iterations": 2}), ep)
	if code != 0 {
		t.Fatalf("rag.split exit %d: %v", code, res["error"])
	}
	ops := checkResult(t, res, "rag.split", 2)
	large := ops[0]["output"].(map[string]any)["chunks"].(float64)
	if large < 40 {
		t.Fatalf("rag.split chunks %v", large)
	}

	res, code = roundTrip(t, "rag.embed", ragParams(corpus, map[string]any{
		"max_chunks": 7, "batch_size": 2, "workers": 3}), ep)
	if code != 0 {
		t.Fatalf("rag.embed exit %d: %v", code, res["error"])
	}
	for i, op := range checkResult(t, res, "rag.embed", 2) {
		out := op["output"].(map[string]any)
		if op["name"] != []string{"sequential", "concurrent"}[i] || out["vectors"] != float64(7) ||
			len(out["dims"].([]any)) != 1 || out["dims"].([]any)[0] != float64(fakeEmbedDim) {
			t.Fatalf("rag.embed op %v", op)
		}
	}

	// prepare, twice: the second run deletes what the first left.
	for range 2 {
		res, code = roundTrip(t, "rag.prepare", ragParams(corpus, map[string]any{"max_chunks": 7}), ep)
		if code != 0 {
			t.Fatalf("rag.prepare exit %d: %v", code, res["error"])
		}
		ops = checkResult(t, res, "rag.prepare", 3)
		if ops[0]["output"].(map[string]any)["documents"] != float64(3) {
			t.Fatalf("load %v", ops[0])
		}
		if out := ops[2]["output"].(map[string]any); out["chunks"] != float64(7) || out["stored"] != float64(7) {
			t.Fatalf("embed_store %v", out)
		}
	}

	res, code = roundTrip(t, "rag.retrieve", ragParams(corpus, map[string]any{
		"iterations": 3, "warmup": 1, "query": "what?", "k": 4}), ep)
	if code != 0 {
		t.Fatalf("rag.retrieve exit %d: %v", code, res["error"])
	}
	for _, op := range checkResult(t, res, "rag.retrieve", 3) {
		out := op["output"].(map[string]any)
		sources := out["sources"].([]any)
		if out["documents"] != float64(4) || len(sources) != 4 || !strings.HasSuffix(sources[0].(string), "doc_01.md") {
			t.Fatalf("retrieve %v", out)
		}
	}

	e2e := ragParams(corpus, llmParams(2))
	e2e["query"], e2e["k"] = "Summarize.", 3
	res, code = roundTrip(t, "rag.e2e", e2e, ep)
	if code != 0 {
		t.Fatalf("rag.e2e exit %d: %v", code, res["error"])
	}
	for _, op := range checkResult(t, res, "rag.e2e", 2) {
		out := op["output"].(map[string]any)
		if out["documents"] != float64(3) || out["text"] == "" {
			t.Fatalf("e2e %v", out)
		}
	}

	res, code = roundTrip(t, "rag.ingest", ragParams(corpus, map[string]any{"iterations": 2, "max_chunks": nil}), ep)
	if code != 0 {
		t.Fatalf("rag.ingest exit %d: %v", code, res["error"])
	}
	ops = checkResult(t, res, "rag.ingest", 6)
	split := ops[1]["output"].(map[string]any)["chunks"]
	if out := ops[2]["output"].(map[string]any); out["chunks"] != split || out["stored"] != split {
		t.Fatalf("ingest embed_store %v, split %v", out, split)
	}
	chroma.mu.Lock()
	defer chroma.mu.Unlock()
	if _, left := chroma.collections["test-collection-0"]; left {
		t.Fatal("rag.ingest left its collection behind")
	}
	if _, ok := chroma.collections["test-collection"]; !ok {
		t.Fatal("rag.prepare's collection is gone")
	}
}

func TestChromaStoreThreshold(t *testing.T) {
	_, llm, _, chromaSrv := backends(t)
	embedder, err := newEmbedder(&Endpoints{LLMURL: llm.URL, Model: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewChromaClient(chromaSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, err := NewChromaStore(ctx, client, "threshold", embedder)
	if err != nil {
		t.Fatal(err)
	}
	docs := []schema.Document{{PageContent: "a\nb", Metadata: map[string]any{"source": "x"}}, {PageContent: "c"}}
	ids, err := store.AddDocuments(ctx, docs)
	if err != nil || len(ids) != 2 || ids[0] == ids[1] {
		t.Fatalf("add: %v %v", ids, err)
	}
	found, err := store.SimilaritySearch(ctx, "q", 5)
	if err != nil || len(found) != 2 {
		t.Fatalf("without a threshold every match comes back: %v %v", found, err)
	}
	if found[0].PageContent != "a\nb" || found[0].Metadata["source"] != "x" || found[1].Metadata == nil {
		t.Fatalf("documents %v", found)
	}
	if err := client.DeleteCollection(ctx, "never-made"); !IsNotFound(err) {
		t.Fatalf("deleting a missing collection: %v", err)
	}
	if _, err := NewChromaClient("not a url"); err == nil {
		t.Fatal("bad url accepted")
	}
}
