package main

// Part 2: retrieval-augmented generation by hand. Files read with os, split with the
// baseline's own splitter (splitter.go), embedded through /api/embed in batches, stored in and
// queried from Chroma over its REST API (chroma.go), answered through /api/generate with the
// classic "stuff" prompt.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// defaultEmbedBatch is how many texts one /api/embed request carries where the scenario names
// no batch size (rag.ingest, rag.prepare): the article's batch size. Batches keep a request
// and its answer small whatever the corpus; one request per text would pay a round trip
// each.
const defaultEmbedBatch = 100

// stuffPrompt is the classic "stuff" question-answering prompt (LangChain's and LangChainGo's
// default, word for word), with the context then the question.
const stuffPrompt = "Use the following pieces of context to answer the question at the end. " +
	"If you don't know the answer, just say that you don't know, don't try to make up an " +
	"answer.\n\n%s\n\nQuestion: %s\nHelpful Answer:"

// Doc is a loaded file.
type Doc struct {
	Text   string
	Source string
}

// Chunk is a piece of a document.
type Chunk struct {
	Text   string
	Source string
}

// loadFile reads one text file.
func loadFile(path string) (Doc, error) {
	if path == "" {
		return Doc{}, errors.New("params.corpus.large_document is required")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Doc{}, err
	}
	return Doc{Text: string(data), Source: path}, nil
}

// loadDirectory reads the *.md files directly in dir, sorted by name, so that "the first N
// chunks" names the same chunks in every contestant.
func loadDirectory(dir string) ([]Doc, error) {
	if dir == "" {
		return nil, errors.New("params.corpus.docs_dir is required")
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	docs := make([]Doc, 0, len(paths))
	for _, path := range paths {
		if info, err := os.Stat(path); err != nil || !info.Mode().IsRegular() {
			continue
		}
		doc, err := loadFile(path)
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
	return docs, nil
}

// splitDocs splits every document, in order; each chunk remembers its source.
func splitDocs(s Splitter, docs []Doc) []Chunk {
	var chunks []Chunk
	for _, d := range docs {
		for _, text := range s.Split(d.Text) {
			chunks = append(chunks, Chunk{Text: text, Source: d.Source})
		}
	}
	return chunks
}

// bounded keeps the first maxChunks items (all of them when maxChunks is nil).
func bounded[T any](items []T, maxChunks *int) []T {
	if maxChunks == nil || *maxChunks < 0 || *maxChunks >= len(items) {
		return items
	}
	return items[:*maxChunks]
}

// batches cuts items into consecutive batches of size (the last may be shorter).
func batches[T any](items []T, size int) [][]T {
	var out [][]T
	for lo := 0; lo < len(items); lo += size {
		out = append(out, items[lo:min(lo+size, len(items))])
	}
	return out
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

func ragSplit(_ context.Context, p *Params, _ *Endpoints, rec *Recorder) error {
	var doc Doc
	var splitter Splitter
	if err := rec.Setup(func() (err error) {
		if splitter, err = newSplitter(p.ChunkSize, p.ChunkOver); err != nil {
			return err
		}
		doc, err = loadFile(p.Corpus.LargeDocument)
		return err
	}); err != nil {
		return err
	}
	rec.Begin()
	for range p.Loop() {
		rec.Op("split", func(op *Op) error {
			op.Output["chunks"] = len(splitter.Split(doc.Text))
			return nil
		})
	}
	rec.End()
	return nil
}

// embedSequential embeds texts in batches of size, one /api/embed request after another.
func embedSequential(ctx context.Context, llm *Ollama, texts []string, size int) ([][]float32, error) {
	vectors := make([][]float32, 0, len(texts))
	for _, batch := range batches(texts, size) {
		got, err := llm.Embed(ctx, batch)
		if err != nil {
			return nil, err
		}
		vectors = append(vectors, got...)
	}
	return vectors, nil
}

// embedConcurrently embeds texts in batches of size with a pool of workers goroutines (the
// article's worker pool); vectors come back in text order.
func embedConcurrently(ctx context.Context, llm *Ollama, texts []string, size, workers int) ([][]float32, error) {
	work := batches(texts, size)
	results := make([][][]float32, len(work))
	errs := make([]error, len(work))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(work)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i], errs[i] = llm.Embed(ctx, work[i])
			}
		}()
	}
	for i := range work {
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

// ragEmbed: "sequential" sends the batches of batch_size one after another, "concurrent" the
// same batches through a pool of `workers` goroutines, so the two differ only in concurrency.
func ragEmbed(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	if p.BatchSize <= 0 || p.Workers <= 0 {
		return fmt.Errorf("params.batch_size %d and params.workers %d must be positive", p.BatchSize, p.Workers)
	}
	var texts []string
	var llm *Ollama
	if err := rec.Setup(func() error {
		splitter, err := newSplitter(p.ChunkSize, p.ChunkOver)
		if err != nil {
			return err
		}
		doc, err := loadFile(p.Corpus.LargeDocument)
		if err != nil {
			return err
		}
		texts = bounded(splitter.Split(doc.Text), p.MaxChunks)
		llm, err = newOllama(e, newHTTPClient(p.Workers))
		return err
	}); err != nil {
		return err
	}
	rec.outputs["texts"] = len(texts)
	rec.Begin()
	for range p.Loop() {
		rec.Op("sequential", func(op *Op) error {
			vectors, err := embedSequential(ctx, llm, texts, p.BatchSize)
			if err != nil {
				return err
			}
			vectorsOutput(op, vectors)
			return nil
		})
		rec.Op("concurrent", func(op *Op) error {
			vectors, err := embedConcurrently(ctx, llm, texts, p.BatchSize, p.Workers)
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

// ragClients is the set-up of the Chroma scenarios: one HTTP client for both servers.
func ragClients(ctx context.Context, e *Endpoints, conns int) (*Ollama, *Chroma, error) {
	client := newHTTPClient(conns)
	llm, err := newOllama(e, client)
	if err != nil {
		return nil, nil, err
	}
	chroma, err := newChroma(ctx, e, client)
	if err != nil {
		return nil, nil, err
	}
	return llm, chroma, nil
}

// storeChunks embeds the chunks in batches and adds each batch to the collection as soon as
// its embeddings are back. Ids are the chunk's position ("chunk-0", ...): the collection is
// filled once, from empty, so they are unique without random UUIDs; the metadata is the
// chunk's source file.
func storeChunks(ctx context.Context, llm *Ollama, col *Collection, chunks []Chunk, size int) error {
	for b, batch := range batches(chunks, size) {
		texts := make([]string, len(batch))
		for i, c := range batch {
			texts[i] = c.Text
		}
		vectors, err := llm.Embed(ctx, texts)
		if err != nil {
			return err
		}
		records := make([]Record, len(batch))
		for i, c := range batch {
			records[i] = Record{ID: "chunk-" + strconv.Itoa(b*size+i), Embedding: vectors[i],
				Document: c.Text, Metadata: map[string]any{"source": c.Source}}
		}
		if err := col.Add(ctx, records); err != nil {
			return err
		}
	}
	return nil
}

// ingest times load, split, and embed-and-store into collection; the collection stays.
func ingest(ctx context.Context, p *Params, llm *Ollama, chroma *Chroma, rec *Recorder, collection string) {
	splitter, splitErr := newSplitter(p.ChunkSize, p.ChunkOver)
	var docs []Doc
	var chunks []Chunk
	loaded, split := false, false
	rec.Op("load", func(op *Op) error {
		found, err := loadDirectory(p.Corpus.DocsDir)
		if err != nil {
			return err
		}
		docs, loaded = found, true
		op.Output["documents"] = len(docs)
		return nil
	})
	rec.Op("split", func(op *Op) error {
		if splitErr != nil {
			return splitErr
		}
		if !loaded {
			return errors.New("no documents: the load step failed")
		}
		chunks, split = splitDocs(splitter, docs), true
		op.Output["chunks"] = len(chunks)
		return nil
	})
	rec.Op("embed_store", func(op *Op) error {
		if !split {
			return errors.New("no chunks: the split step failed")
		}
		selected := bounded(chunks, p.MaxChunks)
		col, err := chroma.CreateCollection(ctx, collection)
		if err != nil {
			return err
		}
		size := p.BatchSize
		if size <= 0 {
			size = defaultEmbedBatch
		}
		if err := storeChunks(ctx, llm, col, selected, size); err != nil {
			return err
		}
		stored, err := col.Count(ctx)
		if err != nil {
			return err
		}
		op.Output["chunks"] = len(selected)
		op.Output["stored"] = stored
		return nil
	})
}

func ragIngest(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	if p.Collection == "" {
		return errors.New("params.collection is required")
	}
	var llm *Ollama
	var chroma *Chroma
	if err := rec.Setup(func() (err error) {
		llm, chroma, err = ragClients(ctx, e, 1)
		return err
	}); err != nil {
		return err
	}
	rec.Begin()
	for i := range p.Loop() {
		collection := p.Collection + "-" + strconv.Itoa(i)
		ingest(ctx, p, llm, chroma, rec, collection)
		// Deleted whatever happened; a collection that was never created is not an error.
		if err := chroma.DeleteCollection(ctx, collection); err != nil && !isNotFound(err) {
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
	llm, chroma, err := ragClients(ctx, e, 1)
	if err != nil {
		return err
	}
	// A leftover from an interrupted run; absent is fine.
	if err := chroma.DeleteCollection(ctx, p.Collection); err != nil && !isNotFound(err) {
		return err
	}
	ingest(ctx, p, llm, chroma, rec, p.Collection)
	return nil
}

// Retriever finds the k chunks nearest to a query: one /api/embed request for the query,
// one Chroma query.
type Retriever struct {
	llm *Ollama
	col *Collection
	k   int
}

// newRetriever opens the prepared collection.
func newRetriever(ctx context.Context, p *Params, e *Endpoints, conns int) (*Retriever, *Ollama, error) {
	if p.Collection == "" || p.K <= 0 {
		return nil, nil, errors.New("params.collection and a positive params.k are required")
	}
	llm, chroma, err := ragClients(ctx, e, conns)
	if err != nil {
		return nil, nil, err
	}
	col, err := chroma.OpenCollection(ctx, p.Collection)
	if err != nil {
		return nil, nil, err
	}
	return &Retriever{llm: llm, col: col, k: p.K}, llm, nil
}

// Retrieve returns the nearest chunks, nearest first.
func (r *Retriever) Retrieve(ctx context.Context, query string) ([]Document, error) {
	vectors, err := r.llm.Embed(ctx, []string{query})
	if err != nil {
		return nil, err
	}
	return r.col.Query(ctx, vectors[0], r.k)
}

func ragRetrieve(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	var retriever *Retriever
	if err := rec.Setup(func() (err error) {
		retriever, _, err = newRetriever(ctx, p, e, 1)
		return err
	}); err != nil {
		return err
	}
	for range p.Warmup {
		if _, err := retriever.Retrieve(ctx, p.Query); err != nil {
			return err
		}
	}
	rec.Begin()
	for range p.Loop() {
		rec.Op("retrieve", func(op *Op) error {
			found, err := retriever.Retrieve(ctx, p.Query)
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

// QA answers a question from the retrieved chunks: retrieve, stuff them into the prompt,
// one /api/generate call.
type QA struct {
	retriever *Retriever
	llm       *Ollama
	opts      Sampling
}

// stuff is the question-answering prompt over docs, joined by blank lines.
func stuff(docs []Document, question string) string {
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = d.Text
	}
	return fmt.Sprintf(stuffPrompt, strings.Join(texts, "\n\n"), question)
}

// Answer returns the model's answer and how many documents were in its prompt.
func (q *QA) Answer(ctx context.Context, question string) (string, int, error) {
	docs, err := q.retriever.Retrieve(ctx, question)
	if err != nil {
		return "", 0, err
	}
	text, err := q.llm.Generate(ctx, stuff(docs, question), q.opts)
	return text, len(docs), err
}

// newQA is the retrieval QA set-up, with an HTTP pool for conns simultaneous questions.
func newQA(ctx context.Context, p *Params, e *Endpoints, conns int) (*QA, error) {
	retriever, llm, err := newRetriever(ctx, p, e, conns)
	if err != nil {
		return nil, err
	}
	return &QA{retriever: retriever, llm: llm, opts: sampling(p)}, nil
}

func ragE2E(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error {
	var qa *QA
	if err := rec.Setup(func() (err error) {
		qa, err = newQA(ctx, p, e, 1)
		return err
	}); err != nil {
		return err
	}
	for range p.Warmup {
		if _, _, err := qa.Answer(ctx, p.Query); err != nil {
			return err
		}
	}
	rec.Begin()
	for range p.Loop() {
		rec.Op("qa", func(op *Op) error {
			text, docs, err := qa.Answer(ctx, p.Query)
			if err != nil {
				return err
			}
			op.Output["text"] = text
			op.Output["documents"] = docs
			return nil
		})
	}
	rec.End()
	return nil
}
