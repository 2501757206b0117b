package synth

import (
	"encoding/json"
	"strings"
	"time"
)

// STUB (to be replaced by the real implementation): the signatures are the contract between
// this package and the HTTP server; the bodies are placeholders.

// Profile says how long a synthetic model pretends to work (profiles.json's fields).
type Profile struct {
	Name             string         `json:"-"`
	TTFTS            float64        `json:"ttft_s"`
	PromptTokensPerS float64        `json:"prompt_tokens_per_s"`
	TokensPerS       float64        `json:"tokens_per_s"`
	OutputTokens     int            `json:"output_tokens"`
	EmbedBaseS       float64        `json:"embed_base_s"`
	EmbedSPerToken   float64        `json:"embed_s_per_token"`
	EmbedDim         int            `json:"embed_dim"`
	Parallel         int            `json:"parallel"` // 0 = unlimited concurrent requests
	Description      string         `json:"description"`
	Provenance       map[string]any `json:"provenance,omitempty"`
}

// PromptDelay is how long the prompt phase lasts before the first token.
func (p Profile) PromptDelay(promptTokens int) time.Duration { return 0 }

// TokenInterval is the pause between two streamed tokens.
func (p Profile) TokenInterval() time.Duration { return 0 }

// EmbedDelay is how long embedding this many tokens takes in all.
func (p Profile) EmbedDelay(tokens int) time.Duration { return 0 }

// LoadProfiles reads profiles.json ({"profiles": {name: {...}}}); "zero" is always defined.
func LoadProfiles(path string) (map[string]Profile, error) {
	return map[string]Profile{"zero": {Name: "zero", EmbedDim: 576, OutputTokens: 64}}, nil
}

// Behaviours are the synthetic model families: correct, liar, malformed.
var Behaviours = []string{"synthetic", "synthetic-liar", "synthetic-malformed"}

// Model is one synthetic model: a behaviour at a latency profile ("synthetic-liar:zero").
type Model struct {
	Name      string
	Behaviour string
	Profile   Profile
}

// NewModels makes every behaviour at every profile, keyed by lower-case name.
func NewModels(profiles map[string]Profile) map[string]*Model {
	out := map[string]*Model{}
	for _, b := range Behaviours {
		for name, p := range profiles {
			n := b + ":" + name
			out[strings.ToLower(n)] = &Model{Name: n, Behaviour: b, Profile: p}
		}
	}
	return out
}

// Answer decides the whole reply to one request. tools is non-empty when the client offered
// tools; format is the request's "format" ("json", a JSON schema, or nil).
func (m *Model) Answer(p Prompt, o Options, tools []Tool, format json.RawMessage) Answer {
	return Answer{Tokens: []string{"Hello", " world."}, Generated: 2, DoneReason: "stop",
		PromptTokens: CountTokens(p.Text())}
}

// Text is everything the caller wrote, without any template.
func (p Prompt) Text() string {
	if p.Raw != nil {
		return *p.Raw
	}
	parts := make([]string, len(p.Messages))
	for i, m := range p.Messages {
		parts[i] = m.Content
	}
	return strings.Join(parts, "\n")
}

// CountTokens counts word-tokens (whitespace-separated words).
func CountTokens(text string) int { return len(strings.Fields(text)) }

// Embed is a deterministic unit vector of length dim for text.
func Embed(text string, dim int) []float32 {
	v := make([]float32, dim)
	v[0] = 1
	return v
}
