package synth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultEmbedDim is SmolLM2-135M's hidden size, so a vector store sized for the real model
// also fits the synthetic one.
const DefaultEmbedDim = 576

// Profile says how long a synthetic model pretends to work (profiles.json's fields), so a
// benchmark can hold the model's cost fixed (or at zero) and see what each framework adds.
// Durations are in seconds; a rate of 0 means free.
type Profile struct {
	Name string `json:"-"`
	// TTFTS is the fixed cost before the first token, on top of prompt evaluation.
	TTFTS float64 `json:"ttft_s"`
	// PromptTokensPerS is the prompt evaluation rate (0: free).
	PromptTokensPerS float64 `json:"prompt_tokens_per_s"`
	// TokensPerS is the generation pace after the first token (0: free).
	TokensPerS float64 `json:"tokens_per_s"`
	// OutputTokens is the answer length in word-tokens when num_predict does not cut it.
	OutputTokens   int     `json:"output_tokens"`
	EmbedBaseS     float64 `json:"embed_base_s"`
	EmbedSPerToken float64 `json:"embed_s_per_token"`
	EmbedDim       int     `json:"embed_dim"`
	// Parallel is how many requests are served at once; 0 = unlimited (Ollama's default
	// is one slot).
	Parallel    int            `json:"parallel"` // 0 = unlimited concurrent requests
	Description string         `json:"description"`
	Provenance  map[string]any `json:"provenance,omitempty"`
}

// Limits LoadProfiles enforces beyond Python's checks, so a profile cannot make the server
// allocate without bound.
const (
	MaxOutputTokens = 1_000_000
	MaxEmbedDim     = 65_536
)

// ZeroProfile is always defined (a file may override it): no model cost at all, so what
// remains is framework and HTTP overhead.
func ZeroProfile() Profile {
	return Profile{
		Name:         "zero",
		OutputTokens: 64,
		EmbedDim:     DefaultEmbedDim,
		Parallel:     0,
		Description:  "No model cost at all: what remains is framework and HTTP overhead.",
	}
}

// seconds converts to a Duration, rounding to the nanosecond and saturating.
func seconds(s float64) time.Duration {
	ns := s * 1e9
	switch {
	case !(ns > 0): // also NaN
		return 0
	case ns >= math.MaxInt64:
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(math.Round(ns))
}

// rateDelay is count / perS seconds; a rate of 0 (or +Inf) is free.
func rateDelay(count, perS float64) float64 {
	if perS <= 0 || math.IsInf(perS, 0) {
		return 0
	}
	return count / perS
}

// PromptDelay is how long the prompt phase lasts before the first token:
// ttft_s + promptTokens / prompt_tokens_per_s.
func (p Profile) PromptDelay(promptTokens int) time.Duration {
	return seconds(p.TTFTS + rateDelay(float64(promptTokens), p.PromptTokensPerS))
}

// TokenInterval is the pause between two streamed tokens: 1 / tokens_per_s (0 if free).
func (p Profile) TokenInterval() time.Duration {
	return seconds(rateDelay(1, p.TokensPerS))
}

// EmbedDelay is how long embedding this many tokens takes in all:
// embed_base_s + embed_s_per_token * tokens.
func (p Profile) EmbedDelay(tokens int) time.Duration {
	return seconds(p.EmbedBaseS + p.EmbedSPerToken*float64(tokens))
}

// LoadProfiles reads profiles.json ({"profiles": {name: {...}}}, other top-level members
// ignored). "zero" is always defined; the file may override it. An empty path gives just
// "zero". Errors name the file, and the profile and field at fault.
func LoadProfiles(path string) (map[string]Profile, error) {
	if path == "" {
		return map[string]Profile{"zero": ZeroProfile()}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read profiles from %s: %w", path, err)
	}
	profiles, err := ParseProfiles(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return profiles, nil
}

// ParseProfiles is LoadProfiles on the file's bytes. It checks what profiles.py checks:
// unknown fields, numbers that are negative (or not numbers), integers that are not
// integers, embed_dim < 1, and names that are empty, contain ':' or have surrounding
// whitespace; null for a *_per_s field reads as 0 (free). It also rejects two names that
// differ only in case (model names are case-insensitive), output_tokens above
// MaxOutputTokens and embed_dim above MaxEmbedDim. Missing fields take profiles.py's
// defaults: output_tokens 64, embed_dim 576, parallel 1, the rest 0.
func ParseProfiles(data []byte) (map[string]Profile, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("cannot read profiles: %v", err)
	}
	var entries map[string]json.RawMessage
	raw, ok := doc["profiles"]
	if !ok || json.Unmarshal(raw, &entries) != nil || entries == nil {
		return nil, fmt.Errorf("expected an object with a 'profiles' object")
	}
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Strings(names)
	profiles := map[string]Profile{"zero": ZeroProfile()}
	lower := map[string]string{}
	for _, name := range names {
		if name == "" || strings.Contains(name, ":") || name != trimPySpace(name) {
			return nil, fmt.Errorf("bad profile name %q", name)
		}
		if name != "zero" && strings.EqualFold(name, "zero") {
			return nil, fmt.Errorf("profile name %q clashes with \"zero\"", name)
		}
		if other, dup := lower[strings.ToLower(name)]; dup {
			return nil, fmt.Errorf("profile names %q and %q differ only in case", other, name)
		}
		lower[strings.ToLower(name)] = name
		p, err := parseProfile(name, entries[name])
		if err != nil {
			return nil, err
		}
		profiles[name] = p
	}
	return profiles, nil
}

func parseProfile(name string, raw json.RawMessage) (Profile, error) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil || fields == nil {
		return Profile{}, fmt.Errorf("profile %q is not an object", name)
	}
	p := Profile{Name: name, OutputTokens: 64, EmbedDim: DefaultEmbedDim, Parallel: 1}
	floats := map[string]*float64{
		"ttft_s": &p.TTFTS, "prompt_tokens_per_s": &p.PromptTokensPerS,
		"tokens_per_s": &p.TokensPerS, "embed_base_s": &p.EmbedBaseS,
		"embed_s_per_token": &p.EmbedSPerToken,
	}
	ints := map[string]*int{"output_tokens": &p.OutputTokens, "embed_dim": &p.EmbedDim,
		"parallel": &p.Parallel}
	var unknown []string
	for key := range fields {
		_, isFloat := floats[key]
		_, isInt := ints[key]
		if !isFloat && !isInt && key != "description" && key != "provenance" {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return Profile{}, fmt.Errorf("profile %q: unknown fields %s", name,
			strings.Join(unknown, ", "))
	}
	keys := make([]string, 0, len(fields))
	for key := range fields {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		value := bytes.TrimSpace(fields[key])
		isNull := string(value) == "null"
		switch {
		case floats[key] != nil:
			rate := strings.HasSuffix(key, "_per_s")
			if isNull && rate { // JSON has no infinity: null reads as free, like 0
				*floats[key] = 0
				continue
			}
			f, ok := jsonFloat(value)
			// An overflowing rate (1e999) is as free as null; a duration may not overflow.
			if !ok || f < 0 || (math.IsInf(f, 1) && !rate) {
				return Profile{}, fmt.Errorf("profile %q: %s must be a number >= 0", name, key)
			}
			*floats[key] = f
		case ints[key] != nil:
			least, most := 0, math.MaxInt32
			switch key {
			case "embed_dim":
				least, most = 1, MaxEmbedDim
			case "output_tokens":
				most = MaxOutputTokens
			}
			n, err := strconv.Atoi(string(value))
			if err != nil || !isJSONInteger(value) || n < least || n > most {
				return Profile{}, fmt.Errorf("profile %q: %s must be an integer from %d to %d",
					name, key, least, most)
			}
			*ints[key] = n
		case key == "description":
			if isNull {
				continue
			}
			if json.Unmarshal(value, &p.Description) != nil {
				return Profile{}, fmt.Errorf("profile %q: description must be a string", name)
			}
		case key == "provenance":
			if isNull {
				continue
			}
			if json.Unmarshal(value, &p.Provenance) != nil {
				return Profile{}, fmt.Errorf("profile %q: provenance must be an object", name)
			}
		}
	}
	return p, nil
}

// jsonFloat reads a JSON number (not a string, bool or null); overflow reads as ±Inf.
func jsonFloat(value []byte) (float64, bool) {
	var n json.Number
	if len(value) == 0 || value[0] == '"' || json.Unmarshal(value, &n) != nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, false
	}
	return f, !math.IsNaN(f)
}

// isJSONInteger: an integer literal as Python's json reads an int (no fraction, no exponent).
func isJSONInteger(value []byte) bool {
	s := string(value)
	s = strings.TrimPrefix(s, "-")
	return s != "" && skipDigits(s, 0) == len(s)
}
