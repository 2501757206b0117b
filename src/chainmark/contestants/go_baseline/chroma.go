package main

// A minimal client for Chroma's v2 REST API, the one `chroma run` (Chroma 1.x) speaks; its v1
// API answers 410 Gone. Only the calls the RAG scenarios make.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

const (
	chromaTenant   = "default_tenant"
	chromaDatabase = "default_database"
	// chromaFallbackBatch is the most records one add carries when the server does not say
	// (an older server without pre-flight checks).
	chromaFallbackBatch = 1000
)

// Chroma is a client for one Chroma server's default tenant and database.
type Chroma struct {
	base     string
	http     *http.Client
	maxBatch int
}

// ChromaError is a non-2xx answer from Chroma.
type ChromaError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *ChromaError) Error() string {
	return fmt.Sprintf("chroma %s %s: %d %s", e.Method, e.Path, e.Status, strings.TrimSpace(e.Body))
}

// isNotFound tells whether err is Chroma saying the collection does not exist.
func isNotFound(err error) bool {
	var ce *ChromaError
	return errors.As(err, &ce) && ce.Status == http.StatusNotFound
}

// newChroma checks the server answers and asks it once how many records one add may carry.
func newChroma(ctx context.Context, e *Endpoints, client *http.Client) (*Chroma, error) {
	if e.ChromaURL == nil || *e.ChromaURL == "" {
		return nil, errors.New("endpoints.chroma_url is required")
	}
	u, err := url.Parse(*e.ChromaURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("chroma url %q: need scheme and host", *e.ChromaURL)
	}
	c := &Chroma{base: strings.TrimRight(*e.ChromaURL, "/"), http: client, maxBatch: chromaFallbackBatch}
	var checks struct {
		MaxBatchSize int `json:"max_batch_size"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v2/pre-flight-checks", nil, &checks); err != nil {
		return nil, err
	}
	if checks.MaxBatchSize > 0 {
		c.maxBatch = checks.MaxBatchSize
	}
	return c, nil
}

func (c *Chroma) collections() string {
	return "/api/v2/tenants/" + chromaTenant + "/databases/" + chromaDatabase + "/collections"
}

// do sends body (if any) as JSON and decodes a 2xx answer into out (if any).
func (c *Chroma) do(ctx context.Context, method, path string, body, out any) error {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, reader)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		text, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return &ChromaError{Method: method, Path: path, Status: resp.StatusCode, Body: string(text)}
	}
	if out == nil {
		_, err := io.Copy(io.Discard, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("chroma %s %s: %w", method, path, err)
	}
	return nil
}

// Collection is one collection, by id.
type Collection struct {
	chroma *Chroma
	Name   string
	ID     string
}

// CreateCollection gets the named collection, creating it (with Chroma's defaults: L2
// distance) if absent.
func (c *Chroma) CreateCollection(ctx context.Context, name string) (*Collection, error) {
	var out struct {
		ID string `json:"id"`
	}
	body := map[string]any{"name": name, "get_or_create": true}
	if err := c.do(ctx, http.MethodPost, c.collections(), body, &out); err != nil {
		return nil, err
	}
	if out.ID == "" {
		return nil, fmt.Errorf("chroma: collection %q came back without an id", name)
	}
	return &Collection{chroma: c, Name: name, ID: out.ID}, nil
}

// OpenCollection gets an existing collection; it is an error if there is none (the reading
// side never creates an empty one).
func (c *Chroma) OpenCollection(ctx context.Context, name string) (*Collection, error) {
	var out struct {
		ID string `json:"id"`
	}
	if err := c.do(ctx, http.MethodGet, c.collections()+"/"+url.PathEscape(name), nil, &out); err != nil {
		return nil, err
	}
	if out.ID == "" {
		return nil, fmt.Errorf("chroma: collection %q came back without an id", name)
	}
	return &Collection{chroma: c, Name: name, ID: out.ID}, nil
}

// DeleteCollection deletes the named collection.
func (c *Chroma) DeleteCollection(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, c.collections()+"/"+url.PathEscape(name), nil, nil)
}

// Record is one stored chunk.
type Record struct {
	ID        string
	Embedding []float32
	Document  string
	Metadata  map[string]any
}

// Add stores records, in adds of at most the server's batch size.
func (col *Collection) Add(ctx context.Context, records []Record) error {
	for lo := 0; lo < len(records); lo += col.chroma.maxBatch {
		batch := records[lo:min(lo+col.chroma.maxBatch, len(records))]
		body := struct {
			IDs        []string         `json:"ids"`
			Embeddings [][]float32      `json:"embeddings"`
			Documents  []string         `json:"documents"`
			Metadatas  []map[string]any `json:"metadatas"`
		}{}
		for _, r := range batch {
			body.IDs = append(body.IDs, r.ID)
			body.Embeddings = append(body.Embeddings, r.Embedding)
			body.Documents = append(body.Documents, r.Document)
			body.Metadatas = append(body.Metadatas, r.Metadata)
		}
		if err := col.chroma.do(ctx, http.MethodPost, col.chroma.collections()+"/"+col.ID+"/add", body, nil); err != nil {
			return err
		}
	}
	return nil
}

// Count is the number of records in the collection.
func (col *Collection) Count(ctx context.Context) (int, error) {
	var n int
	err := col.chroma.do(ctx, http.MethodGet, col.chroma.collections()+"/"+col.ID+"/count", nil, &n)
	return n, err
}

// Document is a stored chunk that a query found.
type Document struct {
	Text     string
	Metadata map[string]any
}

// Query returns the k records nearest to the embedding, nearest first: their documents and
// metadata only (what the caller uses; no distances, no embeddings).
func (col *Collection) Query(ctx context.Context, embedding []float32, k int) ([]Document, error) {
	body := map[string]any{
		"query_embeddings": [][]float32{embedding},
		"n_results":        k,
		"include":          []string{"documents", "metadatas"},
	}
	var out struct {
		Documents [][]*string        `json:"documents"`
		Metadatas [][]map[string]any `json:"metadatas"`
	}
	if err := col.chroma.do(ctx, http.MethodPost, col.chroma.collections()+"/"+col.ID+"/query", body, &out); err != nil {
		return nil, err
	}
	if len(out.Documents) != 1 || len(out.Metadatas) != 1 || len(out.Documents[0]) != len(out.Metadatas[0]) {
		return nil, fmt.Errorf("chroma query: %d document lists and %d metadata lists for one query",
			len(out.Documents), len(out.Metadatas))
	}
	docs := make([]Document, len(out.Documents[0]))
	for i, text := range out.Documents[0] {
		if text != nil {
			docs[i].Text = *text
		}
		docs[i].Metadata = out.Metadatas[0][i]
	}
	return docs, nil
}
