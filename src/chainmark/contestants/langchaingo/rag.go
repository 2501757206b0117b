package main

// RAG scenarios with the article's LangChainGo pieces: documentloaders (Text, recursive
// directory), textsplitter.RecursiveCharacter, embeddings.NewEmbedder over the Ollama client,
// a Chroma vector store (chroma.go), vectorstores.ToRetriever and chains.RetrievalQA (stuff).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"

	"github.com/tmc/langchaingo/chains"
	"github.com/tmc/langchaingo/documentloaders"
	"github.com/tmc/langchaingo/embeddings"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/schema"
	"github.com/tmc/langchaingo/textsplitter"
	"github.com/tmc/langchaingo/vectorstores"
)

// newSplitter is the recursive character splitter with the scenario's size and overlap.
// KeepSeparator(true) keeps each separator at the start of the following piece, which is
// LangChain Python's default (keep_separator=True) and the published algorithm the harness
// counts chunks with; langchaingo's own default drops separators and yields slightly
// different chunks (12,867 instead of 12,870 for the 10 MB document).
func newSplitter(p *Params) textsplitter.RecursiveCharacter {
	return textsplitter.NewRecursiveCharacter(
		textsplitter.WithChunkSize(p.ChunkSize),
		textsplitter.WithChunkOverlap(p.ChunkOver),
		textsplitter.WithKeepSeparator(true),
	)
}

// newEmbedder is langchaingo's embedder over an Ollama client for the run's model (its
// defaults: batches of 512 texts, newlines replaced by spaces; the Ollama client sends one
// /api/embed request per text).
func newEmbedder(e *Endpoints) (*embeddings.EmbedderImpl, error) {
	client, err := ollama.New(ollama.WithServerURL(e.LLMURL), ollama.WithModel(e.Model))
	if err != nil {
		return nil, err
	}
	return embeddings.NewEmbedder(client)
}

func newChromaClient(e *Endpoints) (*ChromaClient, error) {
	if e.ChromaURL == nil || *e.ChromaURL == "" {
		return nil, errors.New("endpoints.chroma_url is required")
	}
	return NewChromaClient(*e.ChromaURL)
}

// loadFile reads one text file with documentloaders.Text.
func loadFile(ctx context.Context, path string) ([]schema.Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	docs, err := documentloaders.NewText(f).Load(ctx)
	if err != nil {
		return nil, err
	}
	for i := range docs {
		docs[i].Metadata["source"] = path
	}
	return docs, nil
}

// loadDirectory loads the *.md files directly in dir, sorted by file name so that "the first
// N chunks" names the same chunks in every contestant.
func loadDirectory(ctx context.Context, dir string) ([]schema.Document, error) {
	if dir == "" {
		return nil, errors.New("params.corpus.docs_dir is required")
	}
	loader := documentloaders.NewRecursiveDirLoader(
		documentloaders.WithRoot(dir),
		documentloaders.WithAllowExts(".md"),
		documentloaders.WithMaxDepth(1),
	)
	all, err := loader.Load(ctx)
	if err != nil {
		return nil, err
	}
	// The loader also reads one level of subdirectories; the corpus's glob is "*.md".
	docs := all[:0]
	for _, d := range all {
		if src, ok := d.Metadata["source"].(string); ok && filepath.Dir(src) == filepath.Clean(dir) {
			docs = append(docs, d)
		}
	}
	sort.SliceStable(docs, func(i, j int) bool {
		return fmt.Sprint(docs[i].Metadata["source"]) < fmt.Sprint(docs[j].Metadata["source"])
	})
	return docs, nil
}

// bounded keeps the first maxChunks chunks (all of them when maxChunks is nil).
func bounded[T any](items []T, maxChunks *int) []T {
	if maxChunks == nil || *maxChunks < 0 || *maxChunks >= len(items) {
		return items
	}
	return items[:*maxChunks]
}

func vectorsOutput(op *Op, vectors [][]float32) {
	seen := map[int]bool{}
	dims := []int{}
	for _, v := range vectors {
		if !seen[len(v)] {
			seen[len(v)] = true
			dims = append(dims, len(v))
		}
	}
	sort.Ints(dims)
	op.Output["vectors"] = len(vectors)
	op.Output["dims"] = dims
}

func ragSplit(ctx context.Context, p *Params, _ *Endpoints, rec *Recorder) error {
	var docs []schema.Document
	splitter := newSplitter(p)
	if err := rec.Setup(func() (err error) {
		docs, err = loadFile(ctx, p.Corpus.LargeDocument)
		return err
	}); err != nil {
		return err
	}
	rec.Begin()
	for range p.Loop() {
		rec.Op("split", func(op *Op) error {
			chunks, err := textsplitter.SplitDocuments(splitter, docs)
			if err != nil {
				return err
			}
			op.Output["chunks"] = len(chunks)
			return nil
		})
	}
	rec.End()
	return nil
}

// embedConcurrently embeds texts in batches of batchSize with workers goroutines, the
// article's worker pool; vectors come back in text order.
func embedConcurrently(ctx context.Context, embedder embeddings.Embedder, texts []string,
	batchSize, workers int) ([][]float32, error) {
	if batchSize <= 0 || workers <= 0 {
		return nil, fmt.Errorf("batch_size %d and workers %d must be positive", batchSize, workers)
	}
	var batches [][]string
	for lo := 0; lo < len(texts); lo += batchSize {
		batches = append(batches, texts[lo:min(lo+batchSize, len(texts))])
	}
	results := make([][][]float32, len(batches))
	errs := make([]error, len(batches))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(batches)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i], errs[i] = embedder.EmbedDocuments(ctx, batches[i])
			}
		}()
	}
	for i := range batches {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	vectors := make([][]float32, 0, len(texts))
	for _, r := range results {
		vectors = append(vectors, r...)
	}
	return vectors, nil
}

func ragEmbed(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	var texts []string
	var embedder *embeddings.EmbedderImpl
	if err := rec.Setup(func() error {
		docs, err := loadFile(ctx, p.Corpus.LargeDocument)
		if err != nil {
			return err
		}
		chunks, err := textsplitter.SplitDocuments(newSplitter(p), docs)
		if err != nil {
			return err
		}
		for _, c := range bounded(chunks, p.MaxChunks) {
			texts = append(texts, c.PageContent)
		}
		embedder, err = newEmbedder(e)
		return err
	}); err != nil {
		return err
	}
	rec.outputs["texts"] = len(texts)
	rec.Begin()
	for range p.Loop() {
		// Each run gets its own copy: langchaingo's embedder rewrites its argument in place.
		rec.Op("sequential", func(op *Op) error {
			// One call with every chunk: batching, if any, is the framework's business.
			vectors, err := embedder.EmbedDocuments(ctx, append([]string(nil), texts...))
			if err != nil {
				return err
			}
			vectorsOutput(op, vectors)
			return nil
		})
		rec.Op("concurrent", func(op *Op) error {
			vectors, err := embedConcurrently(ctx, embedder, append([]string(nil), texts...),
				p.BatchSize, p.Workers)
			if err != nil {
				return err
			}
			vectorsOutput(op, vectors)
			return nil
		})
	}
	rec.End()
	return nil
}

// ingest times load, split, and embed-and-store into collection; the collection stays.
func ingest(ctx context.Context, p *Params, e *Endpoints, rec *Recorder, collection string) error {
	embedder, err := newEmbedder(e)
	if err != nil {
		return err
	}
	client, err := newChromaClient(e)
	if err != nil {
		return err
	}
	var docs, chunks []schema.Document
	loaded, split := false, false
	rec.Op("load", func(op *Op) error {
		found, err := loadDirectory(ctx, p.Corpus.DocsDir)
		if err != nil {
			return err
		}
		docs, loaded = found, true
		op.Output["documents"] = len(docs)
		return nil
	})
	rec.Op("split", func(op *Op) error {
		if !loaded {
			return errors.New("no documents: the load step failed")
		}
		found, err := textsplitter.SplitDocuments(newSplitter(p), docs)
		if err != nil {
			return err
		}
		chunks, split = found, true
		op.Output["chunks"] = len(chunks)
		return nil
	})
	rec.Op("embed_store", func(op *Op) error {
		if !split {
			return errors.New("no chunks: the split step failed")
		}
		selected := bounded(chunks, p.MaxChunks)
		store, err := NewChromaStore(ctx, client, collection, embedder)
		if err != nil {
			return err
		}
		if _, err := store.AddDocuments(ctx, selected); err != nil {
			return err
		}
		stored, err := store.Count(ctx)
		if err != nil {
			return err
		}
		op.Output["chunks"] = len(selected)
		op.Output["stored"] = stored
		return nil
	})
	return nil
}

func ragIngest(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	client, err := newChromaClient(e)
	if err != nil {
		return err
	}
	rec.Begin()
	for i := range p.Loop() {
		collection := p.Collection + "-" + strconv.Itoa(i)
		err := ingest(ctx, p, e, rec, collection)
		// Deleted whatever happened; a collection that was never created is not an error.
		if derr := client.DeleteCollection(ctx, collection); derr != nil && !IsNotFound(derr) {
			err = errors.Join(err, derr)
		}
		if err != nil {
			return err
		}
	}
	rec.End()
	return nil
}

func ragPrepare(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	if p.Collection == "" {
		return errors.New("params.collection is required")
	}
	client, err := newChromaClient(e)
	if err != nil {
		return err
	}
	// A leftover from an interrupted run; absent is fine.
	if err := client.DeleteCollection(ctx, p.Collection); err != nil && !IsNotFound(err) {
		return err
	}
	return ingest(ctx, p, e, rec, p.Collection)
}

// openStore opens the prepared collection with the embedder retrieval queries need.
func openStore(ctx context.Context, p *Params, e *Endpoints) (*ChromaStore, error) {
	if p.Collection == "" {
		return nil, errors.New("params.collection is required")
	}
	embedder, err := newEmbedder(e)
	if err != nil {
		return nil, err
	}
	client, err := newChromaClient(e)
	if err != nil {
		return nil, err
	}
	return NewChromaStore(ctx, client, p.Collection, embedder)
}

func ragRetrieve(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	var retriever vectorstores.Retriever
	if err := rec.Setup(func() error {
		store, err := openStore(ctx, p, e)
		if err != nil {
			return err
		}
		retriever = vectorstores.ToRetriever(store, p.K)
		return nil
	}); err != nil {
		return err
	}
	for range p.Warmup {
		if _, err := retriever.GetRelevantDocuments(ctx, p.Query); err != nil {
			return err
		}
	}
	rec.Begin()
	for range p.Loop() {
		rec.Op("retrieve", func(op *Op) error {
			found, err := retriever.GetRelevantDocuments(ctx, p.Query)
			if err != nil {
				return err
			}
			sources := make([]any, len(found))
			for i, d := range found {
				sources[i] = d.Metadata["source"]
			}
			op.Output["documents"] = len(found)
			op.Output["sources"] = sources
			return nil
		})
	}
	rec.End()
	return nil
}

// newRetrievalQA is the "stuff" RetrievalQA chain over the prepared collection, top k.
func newRetrievalQA(ctx context.Context, p *Params, e *Endpoints) (chains.RetrievalQA, error) {
	store, err := openStore(ctx, p, e)
	if err != nil {
		return chains.RetrievalQA{}, err
	}
	llm, err := newLLM(e)
	if err != nil {
		return chains.RetrievalQA{}, err
	}
	qa := chains.NewRetrievalQAFromLLM(llm, vectorstores.ToRetriever(store, p.K))
	qa.ReturnSourceDocuments = true
	return qa, nil
}

func ragE2E(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	var qa chains.RetrievalQA
	if err := rec.Setup(func() (err error) {
		qa, err = newRetrievalQA(ctx, p, e)
		return err
	}); err != nil {
		return err
	}
	opts := chainOptions(p)
	ask := func() (map[string]any, error) {
		return chains.Call(ctx, qa, map[string]any{"query": p.Query}, opts...)
	}
	for range p.Warmup {
		if _, err := ask(); err != nil {
			return err
		}
	}
	rec.Begin()
	for range p.Loop() {
		rec.Op("qa", func(op *Op) error {
			answer, err := ask()
			if err != nil {
				return err
			}
			text, ok := answer["text"].(string)
			if !ok {
				return fmt.Errorf("retrieval QA returned no text: %v", answer["text"])
			}
			sources, _ := answer["source_documents"].([]schema.Document)
			op.Output["text"] = text
			op.Output["documents"] = len(sources)
			return nil
		})
	}
	rec.End()
	return nil
}
