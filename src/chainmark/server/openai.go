package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/chainmark/server/synth"
)

// OpenAI's API over the same models, shaped as Ollama's compatibility layer shapes it
// (openai/openai.go and middleware/openai.go are the reference).

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// openaiChatIn is /v1/chat/completions' body (openai.ChatCompletionRequest).
type openaiChatIn struct {
	Model               string          `json:"model"`
	Messages            []openaiMessage `json:"messages"`
	Stream              bool            `json:"stream"`
	StreamOptions       *streamOptions  `json:"stream_options"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Seed                *int            `json:"seed"`
	Stop                json.RawMessage `json:"stop"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	FrequencyPenalty    *float64        `json:"frequency_penalty"`
	PresencePenalty     *float64        `json:"presence_penalty"`
	ResponseFormat      *struct {
		Type       string `json:"type"`
		JSONSchema *struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	} `json:"response_format"`
	Tools     []toolIn `json:"tools"`
	Reasoning *struct {
		Effort string `json:"effort"`
	} `json:"reasoning"`
	ReasoningEffort *string `json:"reasoning_effort"`
}

type openaiMessage struct {
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	ToolCalls []struct {
		ID       string `json:"id"`
		Function struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
	Name       string `json:"name"`
	ToolCallID string `json:"tool_call_id"`
}

// openaiCompletionIn is /v1/completions' body (openai.CompletionRequest).
type openaiCompletionIn struct {
	Model            string          `json:"model"`
	Prompt           string          `json:"prompt"`
	MaxTokens        *int            `json:"max_tokens"`
	Seed             *int            `json:"seed"`
	Stop             json.RawMessage `json:"stop"`
	Stream           bool            `json:"stream"`
	StreamOptions    *streamOptions  `json:"stream_options"`
	Temperature      *float64        `json:"temperature"`
	TopP             float64         `json:"top_p"`
	Suffix           string          `json:"suffix"`
	FrequencyPenalty float64         `json:"frequency_penalty"`
	PresencePenalty  float64         `json:"presence_penalty"`
}

// openaiOptions maps OpenAI's sampling fields to the options a synthetic answer depends on.
// strictStop is /v1/completions' rule (a non-string stop is an error); chat skips them.
func openaiOptions(maxTokens, seed *int, stop json.RawMessage, strictStop bool) (synth.Options, *apiError) {
	opts := synth.Options{NumCtx: defaultNumCtx}
	if maxTokens != nil {
		opts.NumPredict = max(*maxTokens, 0)
	}
	if seed != nil {
		opts.Seed = max(*seed, 0)
	}
	stop = bytes.TrimSpace(stop)
	if len(stop) == 0 || string(stop) == "null" {
		return opts, nil
	}
	var value any
	if err := json.Unmarshal(stop, &value); err != nil {
		return opts, bodyError(err)
	}
	switch v := value.(type) {
	case string:
		if v != "" {
			opts.Stop = []string{v}
		}
	case []any:
		for _, item := range v {
			s, ok := item.(string)
			if !ok {
				if strictStop {
					return opts, badRequest("invalid type for 'stop' field: %T", item)
				}
				continue
			}
			if s != "" {
				opts.Stop = append(opts.Stop, s)
			}
		}
	}
	return opts, nil
}

// reasoningRequested maps OpenAI's reasoning effort to Ollama's think (thinkFromReasoningEffort).
func reasoningRequested(in *openaiChatIn) (bool, *apiError) {
	var effort string
	if in.Reasoning != nil {
		effort = in.Reasoning.Effort
	} else if in.ReasoningEffort != nil {
		effort = *in.ReasoningEffort
	}
	switch effort {
	case "", "none":
		return false, nil
	case "minimal", "low", "medium", "high", "max", "xhigh", "ultra":
		return true, nil
	}
	return false, badRequest(`invalid reasoning value: %q (must be "minimal", "low", "medium", "high", "xhigh", "ultra", "max", or "none")`, clip(effort, maxLoggedString))
}

// openaiMessages converts chat messages as Ollama's FromChatRequest does: each text part of an
// array content is a message of its own, tool results are named by their tool call, and a
// message without content must carry tool calls.
func openaiMessages(in []openaiMessage) ([]synth.Message, *apiError) {
	out := make([]synth.Message, 0, len(in))
	for i, m := range in {
		role := strings.ToLower(m.Role)
		toolName := ""
		if role == "tool" {
			toolName = m.Name
			if toolName == "" && m.ToolCallID != "" {
				toolName = toolNameByCallID(in[:i], m.ToolCallID)
			}
		}
		var calls []synth.ToolCall
		for j, tc := range m.ToolCalls {
			args, err := toolArguments(tc.Function.Arguments, fmt.Sprintf("messages.%d.tool_calls.%d.function.arguments", i, j))
			if err != nil {
				return nil, err
			}
			calls = append(calls, synth.ToolCall{Name: tc.Function.Name, Arguments: args})
		}
		content := bytes.TrimSpace(m.Content)
		switch {
		case len(content) == 0 || string(content) == "null":
			if m.ToolCalls == nil {
				return nil, badRequest("invalid message content type: <nil>")
			}
			out = append(out, synth.Message{Role: role, ToolCalls: calls, ToolName: toolName})
		case content[0] == '"':
			var text string
			if err := json.Unmarshal(content, &text); err != nil {
				return nil, bodyError(err)
			}
			out = append(out, synth.Message{Role: role, Content: text, ToolCalls: calls, ToolName: toolName})
		case content[0] == '[':
			var parts []map[string]any
			if json.Unmarshal(content, &parts) != nil {
				return nil, badRequest("invalid message format")
			}
			added := 0
			for _, part := range parts {
				switch part["type"] {
				case "text":
					text, ok := part["text"].(string)
					if !ok {
						return nil, badRequest("invalid message format")
					}
					out = append(out, synth.Message{Role: role, Content: text})
					added++
				case "image_url", "input_audio":
					// A synthetic model sees no media; the text parts are its prompt.
				default:
					return nil, badRequest("invalid message format")
				}
			}
			if added > 0 && len(calls) > 0 {
				out[len(out)-1].ToolCalls = calls
				out[len(out)-1].ToolName = toolName
			}
		default:
			var v any
			if err := json.Unmarshal(content, &v); err != nil {
				return nil, bodyError(err)
			}
			return nil, badRequest("invalid message content type: %T", v)
		}
	}
	return out, nil
}

func toolNameByCallID(earlier []openaiMessage, id string) string {
	for i := len(earlier) - 1; i >= 0; i-- {
		for _, tc := range earlier[i].ToolCalls {
			if tc.ID == id {
				return tc.Function.Name
			}
		}
	}
	return ""
}

// openaiFormat maps response_format to Ollama's format.
func openaiFormat(in *openaiChatIn) (json.RawMessage, *apiError) {
	if in.ResponseFormat == nil {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(in.ResponseFormat.Type)) {
	case "json_object":
		return json.RawMessage(`"json"`), nil
	case "json_schema":
		if in.ResponseFormat.JSONSchema != nil {
			return parseFormat(in.ResponseFormat.JSONSchema.Schema)
		}
	}
	return nil, nil
}

// openaiJob fills what every OpenAI answer needs: its id, creation time and chunk prefix.
func (s *Server) openaiJob(x *exchange, j *job, stream bool, so *streamOptions) {
	j.stream = stream
	j.includeUsage = stream && so != nil && so.IncludeUsage
	j.created = x.start.Unix()
	j.nameJSON = appendString(j.nameJSON[:0], j.name)
	id := strconv.FormatUint(s.nextID(), 10)
	var p []byte
	if j.kind == apiOpenAIChat {
		j.id = "chatcmpl-" + id
		p = append(p, `data: {"id":"`+j.id+`","object":"chat.completion.chunk","created":`...)
		p = appendInt(p, j.created)
		p = append(p, `,"model":`...)
		p = append(p, j.nameJSON...)
		p = append(p, `,"system_fingerprint":"fp_ollama","choices":[`...)
	} else {
		j.id = "cmpl-" + id
		p = append(p, `data: {"id":"`+j.id+`","object":"text_completion","created":`...)
		p = appendInt(p, j.created)
		p = append(p, `,"choices":[`...)
	}
	j.prefix = p
}

func (s *Server) openaiChat(x *exchange) {
	var in openaiChatIn
	body, ok := s.readJSON(x, &in)
	if !ok {
		return
	}
	x.rec.setStream(in.Stream)
	m, name := s.findModel(x, body, in.Model, "")
	if m == nil {
		return
	}
	if len(in.Messages) == 0 {
		x.sendError(badRequest("[] is too short - 'messages'"))
		return
	}
	msgs, err := openaiMessages(in.Messages)
	if err != nil {
		x.sendError(err)
		return
	}
	maxTokens := in.MaxTokens
	if maxTokens == nil {
		maxTokens = in.MaxCompletionTokens
	}
	opts, err := openaiOptions(maxTokens, in.Seed, in.Stop, false)
	if err != nil {
		x.sendError(err)
		return
	}
	format, err := openaiFormat(&in)
	if err != nil {
		x.sendError(err)
		return
	}
	think, err := reasoningRequested(&in)
	if err != nil {
		x.sendError(err)
		return
	}
	if think {
		x.sendError(thinkingRefused(name))
		return
	}
	j := job{kind: apiOpenAIChat, name: name, model: m, opts: opts, format: format,
		prompt: synth.Prompt{Kind: "chat", Messages: msgs}, tools: toSynthTools(in.Tools)}
	s.openaiJob(x, &j, in.Stream, in.StreamOptions)
	s.answer(x, &j)
}

func (s *Server) openaiCompletion(x *exchange) {
	var in openaiCompletionIn
	body, ok := s.readJSON(x, &in)
	if !ok {
		return
	}
	x.rec.setStream(in.Stream)
	m, name := s.findModel(x, body, in.Model, "")
	if m == nil {
		return
	}
	opts, err := openaiOptions(in.MaxTokens, in.Seed, in.Stop, true)
	if err != nil {
		x.sendError(err)
		return
	}
	if in.Suffix != "" {
		x.sendError(insertRefused(name))
		return
	}
	j := job{kind: apiOpenAICompletion, name: name, model: m, opts: opts,
		prompt: synth.Prompt{Kind: "generate", Messages: []synth.Message{{Role: "user", Content: in.Prompt}}}}
	s.openaiJob(x, &j, in.Stream, in.StreamOptions)
	if in.Prompt == "" {
		s.openaiLoadReply(x, &j, m)
		return
	}
	s.answer(x, &j)
}

// openaiLoadReply is Ollama's answer to an empty prompt (it only loads the model) as its
// OpenAI layer converts it: no text, finish_reason "load".
func (s *Server) openaiLoadReply(x *exchange, j *job, m *model) {
	m.used.Store(true)
	x.rec.doneReason = "load"
	p := progress{ans: &synth.Answer{}, doneReason: "load"}
	if j.stream {
		x.out = appendFinalChunks(x.out[:0], j, &p)
		if x.send(200, contentTypeSSE, x.out) != nil {
			x.clientGone()
		}
		return
	}
	x.out = appendWhole(x.out[:0], j, &p)
	if x.sendJSON(x.out) != nil {
		x.clientGone()
	}
}

func appendOpenAIModel(b []byte, id string, created int64) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, id)
	b = append(b, `,"object":"model","created":`...)
	b = appendInt(b, created)
	return append(b, `,"owned_by":"library"}`...)
}

func (s *Server) openaiModels(x *exchange) {
	b := append(x.out[:0], `{"object":"list","data":[`...)
	for i, m := range s.models.list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendOpenAIModel(b, m.name, s.started.Unix())
	}
	b = s.appendUpstreamList(x, b, "/v1/models", "data", len(s.models.list) > 0)
	x.out = append(b, "]}\n"...)
	_ = x.sendJSON(x.out)
}

func (s *Server) openaiModel(x *exchange, name string) {
	if s.lookup(x, nil, name) == nil {
		return
	}
	x.out = append(appendOpenAIModel(x.out[:0], name, s.started.Unix()), '\n')
	_ = x.sendJSON(x.out)
}
