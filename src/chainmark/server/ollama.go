package main

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/chainmark/server/synth"
)

// Ollama's native API over the synthetic models (server/routes.go is the reference for every
// shape and message here).

// readJSON reads and decodes the body. On failure it answers the error itself, unless the body
// names a model that is not synthetic and there is an upstream: then the upstream, which owns
// that model, gets the request as it is. It reports whether the caller should go on.
func (s *Server) readJSON(x *exchange, v any) ([]byte, bool) {
	body, err := x.readBody()
	if err != nil {
		x.sendError(err)
		return nil, false
	}
	if err := decodeBody(body, v); err != nil {
		if !s.forwardUnparsed(x, body) {
			x.sendError(err)
		}
		return nil, false
	}
	return body, true
}

// forwardUnparsed forwards a body this server could not parse when it names a model that
// belongs to the upstream (whose rules for the body may be more lenient).
func (s *Server) forwardUnparsed(x *exchange, body []byte) bool {
	if s.upstream == nil {
		return false
	}
	var probe modelIn
	_ = json.Unmarshal(body, &probe) // best effort: a type error elsewhere still fills "model"
	name := strings.TrimSpace(cmp.Or(probe.Model, probe.Name))
	if name == "" || s.models.resolve(name) != nil {
		return false
	}
	s.forward(x, body, name)
	return true
}

// lookup resolves the requested model. An unknown one goes to the upstream if there is one, and
// is a 404 otherwise; either way the request is answered and nil is returned.
// findModel finds the model a request names, and the name as the client wrote it. When the
// model is nil the request has been answered already (bad name, unknown model, forwarded).
func (s *Server) findModel(x *exchange, body []byte, model, legacyName string) (*model, string) {
	name, err := modelName(model, legacyName)
	if err != nil {
		x.sendError(err)
		return nil, ""
	}
	return s.lookup(x, body, name), name
}

func (s *Server) lookup(x *exchange, body []byte, name string) *model {
	x.rec.model = clip(name, maxLoggedString)
	if m := s.models.resolve(name); m != nil {
		return m
	}
	if s.upstream != nil {
		s.forward(x, body, name)
		return nil
	}
	x.sendError(modelNotFound(name))
	return nil
}

func (s *Server) ollamaGenerate(x *exchange) {
	var in generateIn
	body, ok := s.readJSON(x, &in)
	if !ok {
		return
	}
	m, name := s.findModel(x, body, in.Model, in.Name)
	if m == nil {
		return
	}
	x.rec.setStream(in.Stream == nil || *in.Stream)
	if in.Prompt == "" && unloads(in.KeepAlive) {
		s.loadReply(x, apiGenerate, name, m, "unload")
		return
	}
	if err := s.refuseCapabilities(in.Think, name); err != nil {
		x.sendError(err)
		return
	}
	if in.Suffix != "" {
		x.sendError(insertRefused(name))
		return
	}
	opts, err := parseOptions(&in.Options)
	if err != nil {
		x.sendError(err)
		return
	}
	if in.Prompt == "" {
		s.loadReply(x, apiGenerate, name, m, "load")
		return
	}
	format, err := parseFormat(in.Format)
	if err != nil {
		x.sendError(err)
		return
	}
	j := job{kind: apiGenerate, name: name, model: m, opts: opts, format: format,
		stream: in.Stream == nil || *in.Stream}
	if in.Raw {
		prompt := in.Prompt
		j.prompt = synth.Prompt{Kind: "generate", Raw: &prompt}
	} else {
		msgs := make([]synth.Message, 0, 2)
		if in.System != "" {
			msgs = append(msgs, synth.Message{Role: "system", Content: in.System})
		}
		msgs = append(msgs, synth.Message{Role: "user", Content: in.Prompt})
		j.prompt = synth.Prompt{Kind: "generate", Messages: msgs}
		j.contextTexts = []string{in.System, in.Prompt}
	}
	s.answer(x, &j)
}

func (s *Server) ollamaChat(x *exchange) {
	var in chatIn
	body, ok := s.readJSON(x, &in)
	if !ok {
		return
	}
	m, name := s.findModel(x, body, in.Model, in.Name)
	if m == nil {
		return
	}
	stream := in.Stream == nil || *in.Stream
	x.rec.setStream(stream)
	if len(in.Messages) == 0 && unloads(in.KeepAlive) {
		s.loadReply(x, apiChat, name, m, "unload")
		return
	}
	if err := s.refuseCapabilities(in.Think, name); err != nil {
		x.sendError(err)
		return
	}
	opts, err := parseOptions(&in.Options)
	if err != nil {
		x.sendError(err)
		return
	}
	msgs, err := chatMessages(in.Messages)
	if err != nil {
		x.sendError(err)
		return
	}
	if len(msgs) == 0 {
		s.loadReply(x, apiChat, name, m, "load")
		return
	}
	format, err := parseFormat(in.Format)
	if err != nil {
		x.sendError(err)
		return
	}
	j := job{kind: apiChat, name: name, model: m, opts: opts, format: format, stream: stream,
		prompt: synth.Prompt{Kind: "chat", Messages: msgs}, tools: toSynthTools(in.Tools)}
	s.answer(x, &j)
}

// refuseCapabilities answers "think" as Ollama does for a model without the capability.
func (s *Server) refuseCapabilities(think json.RawMessage, name string) *apiError {
	wants, err := parseThink(think)
	if err != nil {
		return err
	}
	if wants {
		return thinkingRefused(name)
	}
	return nil
}

// loadReply is Ollama's answer to a request with nothing to generate from: it (un)loads the
// model and says so.
func (s *Server) loadReply(x *exchange, kind apiKind, name string, m *model, reason string) {
	m.used.Store(reason != "unload")
	x.rec.doneReason = reason
	b := append(x.out[:0], `{"model":`...)
	b = appendString(b, name)
	b = append(b, `,"created_at":`...)
	b = appendTime(b, time.Now())
	if kind == apiGenerate {
		b = append(b, `,"response":""`...)
	} else {
		b = append(b, `,"message":{"role":"assistant","content":""}`...)
	}
	b = append(b, `,"done":true,"done_reason":`...)
	b = appendString(b, reason)
	x.out = append(b, '}')
	if x.sendJSON(x.out) != nil {
		x.clientGone()
	}
}

func (s *Server) tags(x *exchange) {
	b := append(x.out[:0], `{"models":[`...)
	for i, m := range s.models.list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTag(b, m, s.started)
	}
	b = s.appendUpstreamList(x, b, "/api/tags", "models", len(s.models.list) > 0)
	x.out = append(b, "]}"...)
	_ = x.sendJSON(x.out)
}

func (s *Server) ps(x *exchange) {
	b := append(x.out[:0], `{"models":[`...)
	n := 0
	for _, m := range s.models.list {
		if !m.used.Load() {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendProcess(b, m)
		n++
	}
	b = s.appendUpstreamList(x, b, "/api/ps", "models", n > 0)
	x.out = append(b, "]}"...)
	_ = x.sendJSON(x.out)
}

func (s *Server) show(x *exchange) {
	var in modelIn
	body, ok := s.readJSON(x, &in)
	if !ok {
		return
	}
	m, _ := s.findModel(x, body, in.Model, in.Name)
	if m == nil {
		return
	}
	b := append(x.out[:0], `{"modelfile":`...)
	b = appendString(b, "# chainmark synthetic model\nFROM "+m.name+"\n")
	b = append(b, `,"parameters":"num_ctx 2048\ntemperature 0.8","template":"(none: word-tokens, no chat template)","details":`...)
	b = appendDetails(b)
	b = append(b, `,"model_info":{"general.architecture":"synthetic","general.parameter_count":0,"synthetic.context_length":`...)
	b = appendInt(b, defaultNumCtx)
	b = append(b, `,"synthetic.embedding_length":`...)
	b = appendInt(b, int64(m.embedDim))
	b = append(b, `,"profile":`...)
	b = appendString(b, m.profileName)
	b = append(b, `,"behaviour":`...)
	b = appendString(b, m.behaviour)
	// No "insert" or "thinking": those requests are refused as Ollama refuses them.
	b = append(b, `},"capabilities":["completion","tools","embedding"],"modified_at":`...)
	b = appendTime(b, s.started)
	x.out = append(b, '}')
	_ = x.sendJSON(x.out)
}

// pull has nothing to download: a synthetic model is always "pulled" (LangChainGo may pull
// before it generates).
func (s *Server) pull(x *exchange) {
	var in modelIn
	body, ok := s.readJSON(x, &in)
	if !ok {
		return
	}
	name, err := modelName(in.Model, in.Name)
	if err != nil {
		x.sendError(err)
		return
	}
	x.rec.model = clip(name, maxLoggedString)
	if s.models.resolve(name) == nil {
		if s.upstream != nil {
			s.forward(x, body, name)
			return
		}
		x.sendError(errorf(http.StatusNotFound, "pull model manifest: file does not exist"))
		return
	}
	stream := in.Stream == nil || *in.Stream
	x.rec.setStream(stream)
	if stream {
		_ = x.send(http.StatusOK, contentTypeNDJSON, []byte(`{"status":"success"}`+"\n"))
		return
	}
	_ = x.sendJSON([]byte(`{"status":"success"}`))
}
