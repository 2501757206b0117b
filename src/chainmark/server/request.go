package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/chainmark/server/synth"
)

// Request bodies are parsed leniently, as Ollama parses them: unknown fields are ignored, null
// means "not set" (LangChainGo sends "stream": null, empty format/template strings and options
// at their zero values; the Python client sends "tools": [] and "think"). What cannot be
// understood is a 400 that names the field.

// skipped is a field whose value is accepted and ignored without copying it (images, context).
type skipped struct{}

func (*skipped) UnmarshalJSON([]byte) error { return nil }

// generateIn is /api/generate's body.
type generateIn struct {
	Model     string          `json:"model"`
	Name      string          `json:"name"` // older clients call the model "name"
	Prompt    string          `json:"prompt"`
	Suffix    string          `json:"suffix"`
	System    string          `json:"system"`
	Template  string          `json:"template"`
	Context   skipped         `json:"context"`
	Images    skipped         `json:"images"`
	Stream    *bool           `json:"stream"`
	Raw       bool            `json:"raw"`
	Format    json.RawMessage `json:"format"`
	KeepAlive json.RawMessage `json:"keep_alive"`
	Think     json.RawMessage `json:"think"`
	Options   optionsIn       `json:"options"`
}

// chatIn is /api/chat's body.
type chatIn struct {
	Model     string          `json:"model"`
	Name      string          `json:"name"`
	Messages  []messageIn     `json:"messages"`
	Stream    *bool           `json:"stream"`
	Format    json.RawMessage `json:"format"`
	KeepAlive json.RawMessage `json:"keep_alive"`
	Think     json.RawMessage `json:"think"`
	Tools     []toolIn        `json:"tools"`
	Options   optionsIn       `json:"options"`
}

type messageIn struct {
	Role      *string      `json:"role"`
	Content   string       `json:"content"`
	ToolCalls []toolCallIn `json:"tool_calls"`
	ToolName  string       `json:"tool_name"`
	Images    skipped      `json:"images"`
}

type toolCallIn struct {
	ID       string `json:"id"`
	Function struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

// toolIn is a tool offered by the client, in Ollama's and OpenAI's common shape.
type toolIn struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// embedIn is /api/embed's body.
type embedIn struct {
	Model      string          `json:"model"`
	Name       string          `json:"name"`
	Input      json.RawMessage `json:"input"`
	Truncate   *bool           `json:"truncate"`
	Dimensions int             `json:"dimensions"`
	KeepAlive  json.RawMessage `json:"keep_alive"`
	Options    optionsIn       `json:"options"`
}

// embeddingsIn is the legacy /api/embeddings' body.
type embeddingsIn struct {
	Model     string          `json:"model"`
	Name      string          `json:"name"`
	Prompt    string          `json:"prompt"`
	KeepAlive json.RawMessage `json:"keep_alive"`
	Options   optionsIn       `json:"options"`
}

// modelIn is the body of /api/show and /api/pull, and the probe that finds the model of a
// request that may belong to the upstream.
type modelIn struct {
	Model  string `json:"model"`
	Name   string `json:"name"`
	Stream *bool  `json:"stream"`
}

// decodeBody parses a JSON object body into v.
func decodeBody(body []byte, v any) *apiError {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return badRequest("missing request body")
	}
	if trimmed[0] != '{' {
		if !json.Valid(trimmed) {
			return bodyError(json.Unmarshal(trimmed, v))
		}
		return badRequest("request body must be a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return bodyError(err)
	}
	return nil
}

// modelName is the requested model: "model", or the older "name".
func modelName(model, name string) (string, *apiError) {
	if n := strings.TrimSpace(model); n != "" {
		return n, nil
	}
	if n := strings.TrimSpace(name); n != "" {
		return n, nil
	}
	return "", modelRequired()
}

// optionsIn are Ollama's options. Numbers are decoded as float64, as Ollama's FromMap
// (api/types.go) receives them, and each must be a number; zero means unset for every option
// that changes a synthetic answer, so plain fields suffice (no map, no allocation). Options not
// listed are ignored, as Ollama ignores unknown ones.
type optionsIn struct {
	NumPredict float64         `json:"num_predict"`
	Seed       float64         `json:"seed"`
	NumCtx     float64         `json:"num_ctx"`
	Stop       json.RawMessage `json:"stop"`
	// Checked for their type only.
	NumKeep          float64 `json:"num_keep"`
	TopK             float64 `json:"top_k"`
	RepeatLastN      float64 `json:"repeat_last_n"`
	NumBatch         float64 `json:"num_batch"`
	NumGPU           float64 `json:"num_gpu"`
	MainGPU          float64 `json:"main_gpu"`
	NumThread        float64 `json:"num_thread"`
	DraftNumPredict  float64 `json:"draft_num_predict"`
	TopP             float64 `json:"top_p"`
	MinP             float64 `json:"min_p"`
	TypicalP         float64 `json:"typical_p"`
	Temperature      float64 `json:"temperature"`
	RepeatPenalty    float64 `json:"repeat_penalty"`
	PresencePenalty  float64 `json:"presence_penalty"`
	FrequencyPenalty float64 `json:"frequency_penalty"`
	UseMMap          bool    `json:"use_mmap"`
}

// optionKinds names the type Ollama demands of each option, for its error message.
var optionKinds = map[string]string{
	"num_predict": "integer", "seed": "integer", "num_ctx": "integer", "num_keep": "integer",
	"top_k": "integer", "repeat_last_n": "integer", "num_batch": "integer", "num_gpu": "integer",
	"main_gpu": "integer", "num_thread": "integer", "draft_num_predict": "integer",
	"top_p": "float32", "min_p": "float32", "typical_p": "float32", "temperature": "float32",
	"repeat_penalty": "float32", "presence_penalty": "float32", "frequency_penalty": "float32",
	"use_mmap": "boolean", "stop": "array",
}

// optionError is Ollama's message for an option of the wrong type, if field is an option.
func optionError(field string) (*apiError, bool) {
	name, ok := strings.CutPrefix(field, "options.")
	if !ok {
		return nil, false
	}
	kind, known := optionKinds[name]
	if !known {
		return nil, false
	}
	return badRequest("option %q must be of type %s", name, kind), true
}

// parseOptions reads the options that change a synthetic answer, with Ollama's meaning of each
// value: num_predict <= 0 is no limit, a negative seed is unset, num_ctx <= 0 the default.
func parseOptions(o *optionsIn) (synth.Options, *apiError) {
	out := synth.Options{
		NumPredict: max(clampInt(o.NumPredict), 0),
		Seed:       max(clampInt(o.Seed), 0),
		NumCtx:     defaultNumCtx,
	}
	if n := clampInt(o.NumCtx); n > 0 {
		out.NumCtx = n
	}
	if stop := bytes.TrimSpace(o.Stop); len(stop) > 0 && string(stop) != "null" {
		var value any
		if err := json.Unmarshal(stop, &value); err != nil {
			return out, bodyError(err)
		}
		stops, err := parseStop(value)
		if err != nil {
			return out, err
		}
		out.Stop = stops
	}
	return out, nil
}

// parseStop takes a string (as the Python client sends it) or a list of strings; empty stop
// sequences are dropped.
func parseStop(value any) ([]string, *apiError) {
	switch v := value.(type) {
	case string:
		if v == "" {
			return nil, nil
		}
		return []string{v}, nil
	case []any:
		stops := make([]string, 0, len(v))
		for _, item := range v {
			s, ok := item.(string)
			if !ok {
				return nil, badRequest("option %q must be of an array of strings", "stop")
			}
			if s != "" {
				stops = append(stops, s)
			}
		}
		return stops, nil
	default:
		return nil, badRequest("option %q must be of type array", "stop")
	}
}

// clampInt converts a JSON number to int without overflow: out-of-range values saturate.
func clampInt(f float64) int {
	const limit = 1 << 53
	switch {
	case math.IsNaN(f):
		return 0
	case f > limit:
		return limit
	case f < -limit:
		return -limit
	}
	return int(f)
}

// parseFormat accepts Ollama's "format": "json" or a JSON schema object; null and "" mean none.
func parseFormat(raw json.RawMessage) (json.RawMessage, *apiError) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0, string(raw) == "null", string(raw) == `""`:
		return nil, nil
	case string(raw) == `"json"`, raw[0] == '{':
		return raw, nil
	}
	return nil, badRequest("invalid format: %s; expected \"json\" or a valid JSON Schema object", clip(string(raw), maxLoggedString))
}

// parseThink reports whether the request asks for thinking, with Ollama's messages for values
// it does not understand (api.ThinkValue).
func parseThink(raw json.RawMessage) (bool, *apiError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return false, nil
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "high", "medium", "low", "max":
			return true, nil
		}
		return false, badRequest(`invalid think value: %q (must be "high", "medium", "low", "max", true, or false)`, clip(s, maxLoggedString))
	}
	return false, badRequest(`think must be a boolean or string ("high", "medium", "low", "max", true, or false)`)
}

// unloads reports whether keep_alive asks to unload the model (a zero duration), as Ollama
// reads it: a number of seconds or a Go duration string. Anything unreadable keeps the default.
func unloads(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return false
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		return f == 0
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		d, err := time.ParseDuration(s)
		return err == nil && d == 0
	}
	return false
}

// thinkingRefused is Ollama's answer to "think" for a model that cannot think.
func thinkingRefused(name string) *apiError {
	return badRequest("%q does not support thinking", name)
}

// insertRefused is Ollama's answer to a "suffix" for a model without the insert capability
// (server/images.go CheckCapabilities): it names the model by its full registry name.
func insertRefused(name string) *apiError {
	full := name
	if !strings.Contains(full, ":") {
		full += ":latest"
	}
	if !strings.Contains(full, "/") {
		full = "registry.ollama.ai/library/" + full
	}
	return badRequest("%s does not support insert", full)
}

// toSynthTools converts the offered tools.
func toSynthTools(tools []toolIn) []synth.Tool {
	if len(tools) == 0 {
		return nil
	}
	out := make([]synth.Tool, 0, len(tools))
	for _, t := range tools {
		var params map[string]any
		if p := bytes.TrimSpace(t.Function.Parameters); len(p) > 0 && p[0] == '{' {
			if err := json.Unmarshal(p, &params); err != nil {
				params = nil
			}
		}
		out = append(out, synth.Tool{Name: t.Function.Name, Description: t.Function.Description, Parameters: params})
	}
	return out
}

// toolArguments reads a tool call's arguments: an object (Ollama) or a string holding one
// (OpenAI, and clients that mix the two up).
func toolArguments(raw json.RawMessage, where string) (map[string]any, *apiError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]any{}, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest("invalid request: %s: %v", where, err)
		}
		raw = []byte(strings.TrimSpace(s))
		if len(raw) == 0 {
			return map[string]any{}, nil
		}
	}
	var args map[string]any
	if err := json.Unmarshal(raw, &args); err != nil || args == nil {
		return nil, badRequest("invalid tool call arguments: %s must be a JSON object", where)
	}
	return args, nil
}

// chatMessages converts /api/chat's messages; every message needs a role.
func chatMessages(in []messageIn) ([]synth.Message, *apiError) {
	out := make([]synth.Message, len(in))
	for i, m := range in {
		if m.Role == nil {
			return nil, badRequest("invalid request: messages.%d.role: field required", i)
		}
		msg := synth.Message{Role: strings.ToLower(*m.Role), Content: m.Content, ToolName: m.ToolName}
		for j, tc := range m.ToolCalls {
			args, err := toolArguments(tc.Function.Arguments, fmt.Sprintf("messages.%d.tool_calls.%d.function.arguments", i, j))
			if err != nil {
				return nil, err
			}
			msg.ToolCalls = append(msg.ToolCalls, synth.ToolCall{Name: tc.Function.Name, Arguments: args})
		}
		out[i] = msg
	}
	return out, nil
}
