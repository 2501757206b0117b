package main

// A langchaingo vectorstores.VectorStore over Chroma's v2 REST API.
//
// langchaingo v0.1.14's vectorstores/chroma is built on github.com/amikos-tech/chroma-go
// v0.1.4, which speaks Chroma's v1 API; Chroma 1.x answers every v1 call with 410 Gone, so
// that store cannot even be created against the benchmark's server. This store is a port of
// langchaingo's (same embedding flow, random UUID ids, metadata copied per document, L2
// distance, score = 1 - distance) to the v2 endpoints, written with net/http and
// encoding/json only. One deliberate difference: see the score threshold in
// SimilaritySearch.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/tmc/langchaingo/embeddings"
	"github.com/tmc/langchaingo/httputil"
	"github.com/tmc/langchaingo/schema"
	"github.com/tmc/langchaingo/vectorstores"
)

const (
	chromaClientName = "chainmark chroma v2 REST store (net/http)"
	chromaTenant     = "default_tenant"
	chromaDatabase   = "default_database"
)

var errChromaUnsupported = errors.New("unsupported vector store option")

// ChromaError is a non-2xx answer from Chroma.
type ChromaError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *ChromaError) Error() string {
	return fmt.Sprintf("chroma %s %s: %d %s", e.Method, e.Path, e.Status, strings.TrimSpace(e.Body))
}

// ChromaClient is a minimal Chroma v2 client: the calls a vector store needs.
type ChromaClient struct {
	base *url.URL
	http *http.Client
}

// NewChromaClient points a client at a Chroma server, e.g. http://127.0.0.1:8000. It uses
// langchaingo's default HTTP client, as langchaingo's own clients do.
func NewChromaClient(rawURL string) (*ChromaClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("chroma url: %w", err)
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("chroma url %q: need scheme and host", rawURL)
	}
	return &ChromaClient{base: u, http: httputil.DefaultClient}, nil
}

func (c *ChromaClient) collectionsPath() string {
	return "/api/v2/tenants/" + chromaTenant + "/databases/" + chromaDatabase + "/collections"
}

// do sends body (if any) as JSON and decodes a 2xx answer into out (if any).
func (c *ChromaClient) do(ctx context.Context, method, path string, body, out any) error {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.JoinPath(path).String(), reader)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &ChromaError{Method: method, Path: path, Status: resp.StatusCode, Body: string(data)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("chroma %s %s: %w", method, path, err)
	}
	return nil
}

// Heartbeat checks the server answers the v2 API.
func (c *ChromaClient) Heartbeat(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/api/v2/heartbeat", nil, nil)
}

// MaxBatchSize is the most records one add call may carry (pre-flight check).
func (c *ChromaClient) MaxBatchSize(ctx context.Context) (int, error) {
	var out struct {
		MaxBatchSize int `json:"max_batch_size"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v2/pre-flight-checks", nil, &out); err != nil {
		return 0, err
	}
	return out.MaxBatchSize, nil
}

// GetOrCreateCollection returns the id of the named collection, creating it if absent.
func (c *ChromaClient) GetOrCreateCollection(ctx context.Context, name string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	body := map[string]any{"name": name, "get_or_create": true}
	if err := c.do(ctx, http.MethodPost, c.collectionsPath(), body, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("chroma: collection %q came back without an id", name)
	}
	return out.ID, nil
}

// DeleteCollection deletes the named collection.
func (c *ChromaClient) DeleteCollection(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, c.collectionsPath()+"/"+url.PathEscape(name), nil, nil)
}

// IsNotFound tells whether err is Chroma saying the collection does not exist.
func IsNotFound(err error) bool {
	var ce *ChromaError
	return errors.As(err, &ce) && ce.Status == http.StatusNotFound
}

type addRecords struct {
	IDs        []string         `json:"ids"`
	Embeddings [][]float32      `json:"embeddings"`
	Documents  []string         `json:"documents"`
	Metadatas  []map[string]any `json:"metadatas"`
}

// Add stores records in a collection.
func (c *ChromaClient) Add(ctx context.Context, collectionID string, rec addRecords) error {
	return c.do(ctx, http.MethodPost, c.collectionsPath()+"/"+collectionID+"/add", rec, nil)
}

// Count is the number of records in a collection.
func (c *ChromaClient) Count(ctx context.Context, collectionID string) (int, error) {
	var n int
	if err := c.do(ctx, http.MethodGet, c.collectionsPath()+"/"+collectionID+"/count", nil, &n); err != nil {
		return 0, err
	}
	return n, nil
}

type queryResult struct {
	IDs       [][]string         `json:"ids"`
	Documents [][]*string        `json:"documents"`
	Metadatas [][]map[string]any `json:"metadatas"`
	Distances [][]*float64       `json:"distances"`
}

// Query returns the n nearest records to each query embedding.
func (c *ChromaClient) Query(ctx context.Context, collectionID string, queries [][]float32, n int,
	where map[string]any) (*queryResult, error) {
	body := map[string]any{
		"query_embeddings": queries,
		"n_results":        n,
		"include":          []string{"documents", "metadatas", "distances"},
	}
	if len(where) > 0 {
		body["where"] = where
	}
	var out queryResult
	if err := c.do(ctx, http.MethodPost, c.collectionsPath()+"/"+collectionID+"/query", body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ChromaStore is a langchaingo vector store over one Chroma collection.
type ChromaStore struct {
	client       *ChromaClient
	embedder     embeddings.Embedder
	name         string
	collectionID string
	maxBatch     int
}

var _ vectorstores.VectorStore = (*ChromaStore)(nil)

// NewChromaStore connects to the server, checks it, and gets or creates the collection, as
// langchaingo's chroma.New does.
func NewChromaStore(ctx context.Context, client *ChromaClient, collection string,
	embedder embeddings.Embedder) (*ChromaStore, error) {
	if embedder == nil {
		return nil, errors.New("chroma store: an embedder is required")
	}
	if err := client.Heartbeat(ctx); err != nil {
		return nil, err
	}
	id, err := client.GetOrCreateCollection(ctx, collection)
	if err != nil {
		return nil, err
	}
	maxBatch, err := client.MaxBatchSize(ctx)
	if err != nil || maxBatch <= 0 {
		maxBatch = 1000 // an older server without pre-flight checks: a safe size
	}
	return &ChromaStore{client: client, embedder: embedder, name: collection,
		collectionID: id, maxBatch: maxBatch}, nil
}

// AddDocuments embeds the documents with the store's embedder and stores them.
func (s *ChromaStore) AddDocuments(ctx context.Context, docs []schema.Document,
	options ...vectorstores.Option) ([]string, error) {
	opts := vectorstores.Options{}
	for _, o := range options {
		o(&opts)
	}
	if opts.Embedder != nil || opts.ScoreThreshold != 0 || opts.Filters != nil || opts.NameSpace != "" {
		return nil, errChromaUnsupported
	}
	if len(docs) == 0 {
		return nil, nil
	}
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = d.PageContent
	}
	// The embedder may rewrite its argument (langchaingo strips newlines in place), so it
	// gets its own copy and the stored documents keep their text.
	vectors, err := s.embedder.EmbedDocuments(ctx, append([]string(nil), texts...))
	if err != nil {
		return nil, err
	}
	if len(vectors) != len(docs) {
		return nil, fmt.Errorf("embedder returned %d vectors for %d documents", len(vectors), len(docs))
	}
	ids := make([]string, len(docs))
	metadatas := make([]map[string]any, len(docs))
	for i, d := range docs {
		ids[i] = uuid.New().String()
		if len(d.Metadata) > 0 {
			metadatas[i] = maps.Clone(d.Metadata)
		}
	}
	for lo := 0; lo < len(docs); lo += s.maxBatch {
		hi := min(lo+s.maxBatch, len(docs))
		if err := s.client.Add(ctx, s.collectionID, addRecords{
			IDs: ids[lo:hi], Embeddings: vectors[lo:hi], Documents: texts[lo:hi],
			Metadatas: metadatas[lo:hi],
		}); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// SimilaritySearch embeds the query and returns the numDocuments nearest documents.
func (s *ChromaStore) SimilaritySearch(ctx context.Context, query string, numDocuments int,
	options ...vectorstores.Option) ([]schema.Document, error) {
	opts := vectorstores.Options{}
	for _, o := range options {
		o(&opts)
	}
	if opts.Embedder != nil || opts.NameSpace != "" {
		return nil, errChromaUnsupported
	}
	if opts.ScoreThreshold < 0 || opts.ScoreThreshold > 1 {
		return nil, errors.New("score threshold must be between 0 and 1")
	}
	var where map[string]any
	if opts.Filters != nil {
		w, ok := opts.Filters.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: filters of type %T", errChromaUnsupported, opts.Filters)
		}
		where = w
	}
	vector, err := s.embedder.EmbedQuery(ctx, query)
	if err != nil {
		return nil, err
	}
	qr, err := s.client.Query(ctx, s.collectionID, [][]float32{vector}, numDocuments, where)
	if err != nil {
		return nil, err
	}
	if len(qr.Documents) != len(qr.Metadatas) || len(qr.Metadatas) != len(qr.Distances) {
		return nil, fmt.Errorf("chroma query: %d document lists, %d metadata lists, %d distance lists",
			len(qr.Documents), len(qr.Metadatas), len(qr.Distances))
	}
	var docs []schema.Document
	for i := range qr.Documents {
		if len(qr.Documents[i]) != len(qr.Metadatas[i]) || len(qr.Documents[i]) != len(qr.Distances[i]) {
			return nil, errors.New("chroma query: ragged result lists")
		}
		for j, text := range qr.Documents[i] {
			score := float32(0)
			if d := qr.Distances[i][j]; d != nil {
				score = float32(1 - *d)
			}
			// Only an explicit threshold filters. langchaingo's store filters on
			// score >= threshold even when none was set (threshold 0), so with its default L2
			// distance it drops every document farther than 1 (squared L2) from the query:
			// for unit vectors, any with cosine similarity below 0.5. That store then returns
			// fewer than k documents, or none; LangChain Python's returns k.
			if opts.ScoreThreshold > 0 && score < opts.ScoreThreshold {
				continue
			}
			doc := schema.Document{Metadata: qr.Metadatas[i][j], Score: score}
			if text != nil {
				doc.PageContent = *text
			}
			if doc.Metadata == nil {
				doc.Metadata = map[string]any{}
			}
			docs = append(docs, doc)
		}
	}
	return docs, nil
}

// Count is the number of records stored in the collection.
func (s *ChromaStore) Count(ctx context.Context) (int, error) {
	return s.client.Count(ctx, s.collectionID)
}

// String names the store for errors and logs.
func (s *ChromaStore) String() string {
	return "chroma collection " + strconv.Quote(s.name)
}
