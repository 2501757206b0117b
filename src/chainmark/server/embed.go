package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/chainmark/server/synth"
)

// Embeddings: Ollama's /api/embed and legacy /api/embeddings, and OpenAI's /v1/embeddings.

var errInvalidInputType = badRequest("invalid input type")

// embedInputs reads Ollama's "input": a string (an empty one means no input at all, as Ollama
// reads it) or a list of strings.
func embedInputs(raw json.RawMessage) ([]string, *apiError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, errInvalidInputType
		}
		if s == "" {
			return nil, nil
		}
		return []string{s}, nil
	case '[':
		var list []string
		if json.Unmarshal(raw, &list) != nil {
			return nil, errInvalidInputType
		}
		return list, nil
	}
	return nil, errInvalidInputType
}

// embed computes the vectors and spends the profile's time; false means the request has been
// answered already (an error, or the client left).
func (s *Server) embed(x *exchange, m *model, texts []string, numCtx int, truncate bool) ([][]float32, bool) {
	rec := &x.rec
	rec.set |= hasLocalStats
	rec.setStream(false)
	rec.inputs = len(texts)
	if len(texts) == 0 {
		return nil, true
	}
	m.used.Store(true)
	queued := time.Now()
	if err := m.acquire(x.ctx); err != nil {
		rec.queueNS = int64(time.Since(queued))
		x.clientGone()
		return nil, false
	}
	defer m.release()
	if m.cache != nil {
		m.cache.evict() // embedding and generation share Ollama's one slot
	}
	start := time.Now()
	rec.queueNS = int64(start.Sub(queued))
	total := 0
	for _, t := range texts {
		n := synth.CountTokens(t)
		if n > numCtx {
			if !truncate {
				x.sendError(badRequest("the input length exceeds the context length"))
				return nil, false
			}
			n = numCtx
		}
		total += n
	}
	rec.promptEvalCount = total
	vectors := make([][]float32, len(texts))
	for i, t := range texts {
		vectors[i] = synth.Embed(t, m.embedDim)
	}
	if d := m.pace.EmbedDelay(total); d > 0 {
		if x.sleepUntil(start.Add(d)) != nil {
			rec.promptEvalNS = int64(time.Since(start))
			x.clientGone()
			return nil, false
		}
	}
	rec.promptEvalNS = int64(time.Since(start))
	return vectors, true
}

// truncateDims keeps the first dims values of each vector and makes it unit length again, as
// Ollama does for "dimensions".
func truncateDims(vectors [][]float32, dims int) {
	for i, v := range vectors {
		if dims <= 0 || dims >= len(v) {
			continue
		}
		v = v[:dims]
		var sum float64
		for _, f := range v {
			sum += float64(f) * float64(f)
		}
		if norm := math.Sqrt(sum); norm > 0 {
			for k := range v {
				v[k] = float32(float64(v[k]) / norm)
			}
		}
		vectors[i] = v
	}
}

func (s *Server) ollamaEmbed(x *exchange) {
	var in embedIn
	body, ok := s.readJSON(x, &in)
	if !ok {
		return
	}
	m, name := s.findModel(x, body, in.Model, in.Name)
	if m == nil {
		return
	}
	texts, err := embedInputs(in.Input)
	if err != nil {
		x.sendError(err)
		return
	}
	opts, err := parseOptions(&in.Options)
	if err != nil {
		x.sendError(err)
		return
	}
	vectors, ok := s.embed(x, m, texts, opts.NumCtx, in.Truncate == nil || *in.Truncate)
	if !ok {
		return
	}
	truncateDims(vectors, in.Dimensions)
	b := append(x.out[:0], `{"model":`...)
	b = appendString(b, name)
	b = append(b, `,"embeddings":[`...)
	for i, v := range vectors {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendVector(b, v)
	}
	b = append(b, `],"total_duration":`...)
	b = appendInt(b, int64(time.Since(x.start)))
	b = append(b, `,"load_duration":0,"prompt_eval_count":`...)
	b = appendInt(b, int64(x.rec.promptEvalCount))
	x.out = append(b, '}')
	if x.sendJSON(x.out) != nil {
		x.clientGone()
	}
}

// ollamaEmbeddings is the legacy endpoint: one prompt, one "embedding"; an empty prompt only
// loads the model.
func (s *Server) ollamaEmbeddings(x *exchange) {
	var in embeddingsIn
	body, ok := s.readJSON(x, &in)
	if !ok {
		return
	}
	m, _ := s.findModel(x, body, in.Model, in.Name)
	if m == nil {
		return
	}
	opts, err := parseOptions(&in.Options)
	if err != nil {
		x.sendError(err)
		return
	}
	var texts []string
	if in.Prompt != "" {
		texts = []string{in.Prompt}
	}
	vectors, ok := s.embed(x, m, texts, opts.NumCtx, true)
	if !ok {
		return
	}
	b := append(x.out[:0], `{"embedding":`...)
	if len(vectors) == 0 {
		b = append(b, "[]"...)
	} else {
		b = appendVector(b, vectors[0])
	}
	x.out = append(b, '}')
	if x.sendJSON(x.out) != nil {
		x.clientGone()
	}
}

// openaiEmbedIn is /v1/embeddings' body (openai.EmbedRequest).
type openaiEmbedIn struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	Dimensions     int             `json:"dimensions"`
	EncodingFormat string          `json:"encoding_format"`
}

func (s *Server) openaiEmbeddings(x *exchange) {
	var in openaiEmbedIn
	body, ok := s.readJSON(x, &in)
	if !ok {
		return
	}
	m, name := s.findModel(x, body, in.Model, "")
	if m == nil {
		return
	}
	format := in.EncodingFormat
	if format != "" && !strings.EqualFold(format, "float") && !strings.EqualFold(format, "base64") {
		x.sendError(badRequest("Invalid value for 'encoding_format' = %s. Supported values: ['float', 'base64'].", clip(format, maxLoggedString)))
		return
	}
	// Ollama's middleware: "" is one empty text, a missing input or an empty list is an error.
	input := bytes.TrimSpace(in.Input)
	var texts []string
	switch {
	case string(input) == `""`:
		texts = []string{""}
	case len(input) == 0, string(input) == "null":
		x.sendError(badRequest("invalid input"))
		return
	default:
		var err *apiError
		texts, err = embedInputs(input)
		if err != nil {
			x.sendError(err)
			return
		}
		if len(texts) == 0 {
			x.sendError(badRequest("invalid input"))
			return
		}
	}
	vectors, ok := s.embed(x, m, texts, defaultNumCtx, true)
	if !ok {
		return
	}
	truncateDims(vectors, in.Dimensions)
	b := append(x.out[:0], `{"object":"list","data":[`...)
	for i, v := range vectors {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"object":"embedding","embedding":`...)
		if strings.EqualFold(format, "base64") {
			b = appendBase64Vector(b, v)
		} else {
			b = appendVector(b, v)
		}
		b = append(b, `,"index":`...)
		b = appendInt(b, int64(i))
		b = append(b, '}')
	}
	b = append(b, `],"model":`...)
	b = appendString(b, name)
	b = append(b, `,"usage":{"prompt_tokens":`...)
	b = appendInt(b, int64(x.rec.promptEvalCount))
	b = append(b, `,"total_tokens":`...)
	b = appendInt(b, int64(x.rec.promptEvalCount))
	x.out = append(b, "}}\n"...)
	if x.send(http.StatusOK, contentTypeJSON, x.out) != nil {
		x.clientGone()
	}
}

// appendBase64Vector writes the vector as OpenAI's base64 encoding: little-endian float32s.
func appendBase64Vector(b []byte, v []float32) []byte {
	raw := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
	}
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, raw)
	return append(b, '"')
}
