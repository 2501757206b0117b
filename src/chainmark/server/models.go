package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chainmark/server/synth"
)

// answerer decides a synthetic answer: *synth.Model, or a fake in tests.
type answerer interface {
	Answer(p synth.Prompt, o synth.Options, tools []synth.Tool, format json.RawMessage) synth.Answer
}

// pacer says how long a model pretends to work: synth.Profile, or a fake in tests.
type pacer interface {
	PromptDelay(promptTokens int) time.Duration
	TokenInterval() time.Duration
	EmbedDelay(tokens int) time.Duration
}

const (
	defaultNumCtx   = synth.DefaultNumCtx // Ollama's default context, and what /api/show reports
	defaultEmbedDim = synth.DefaultEmbedDim
	zeroProfile     = "zero" // the profile behind the "synthetic" / "synthetic:latest" aliases
)

// model is one synthetic model (a behaviour at a latency profile) with its serving state.
type model struct {
	name        string // canonical: "synthetic-liar:smollm2-cpu"
	behaviour   string
	profileName string
	embedDim    int
	gen         answerer
	pace        pacer
	// Concurrent requests served at once (profile "parallel"); nil = unlimited.
	slots chan struct{}
	// Set for a paced model with one slot (Ollama's default): its KV-cache imitation.
	cache  *promptCache
	digest string
	// Set once the model has served (or been loaded by) a request: /api/ps lists only those,
	// as Ollama lists only loaded models.
	used atomic.Bool
}

func newModel(name, behaviour, profileName string, embedDim, parallel int, gen answerer, pace pacer) *model {
	sum := sha256.Sum256([]byte(name))
	m := &model{
		name:        name,
		behaviour:   behaviour,
		profileName: profileName,
		embedDim:    cmp.Or(max(embedDim, 0), defaultEmbedDim),
		gen:         gen,
		pace:        pace,
		digest:      hex.EncodeToString(sum[:]),
	}
	if parallel > 0 {
		m.slots = make(chan struct{}, parallel)
	}
	if parallel == 1 && pace != nil && pace.PromptDelay(1000) > pace.PromptDelay(0) {
		m.cache = &promptCache{}
	}
	return m
}

// acquire waits for a free slot, or for the client to give up.
func (m *model) acquire(ctx context.Context) error {
	if m.slots == nil {
		return nil
	}
	select {
	case m.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case m.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *model) release() {
	if m.slots != nil {
		<-m.slots
	}
}

// registry maps the names clients use to models. Lookups are one map access: lower-case names
// and the "synthetic" / "synthetic:latest" aliases are keys of their own.
type registry struct {
	byKey   map[string]*model
	list    []*model          // listing order: behaviour, then profile ("zero" first)
	aliases map[string]string // "synthetic" -> "synthetic:zero"
}

func newRegistry(profiles map[string]synth.Profile) *registry {
	reg := &registry{byKey: map[string]*model{}, aliases: map[string]string{}}
	for key, sm := range synth.NewModels(profiles) {
		profileName := sm.Profile.Name
		if profileName == "" {
			_, profileName, _ = strings.Cut(key, ":")
		}
		p := sm.Profile
		reg.add(newModel(sm.Name, sm.Behaviour, profileName, p.EmbedDim, p.Parallel, sm, p))
	}
	return reg
}

// add registers m under its lower-case name and, for a "zero" model, its behaviour's aliases.
func (reg *registry) add(m *model) {
	key := strings.ToLower(m.name)
	reg.byKey[key] = m
	if strings.EqualFold(m.profileName, zeroProfile) {
		family := strings.ToLower(m.behaviour)
		reg.byKey[family] = m
		reg.byKey[family+":latest"] = m
		reg.aliases[m.behaviour] = m.name
	}
	reg.list = append(reg.list, m)
	order := map[string]int{}
	for i, b := range synth.Behaviours {
		order[b] = i
	}
	slices.SortStableFunc(reg.list, func(a, b *model) int {
		if c := cmp.Compare(order[a.behaviour], order[b.behaviour]); c != 0 {
			return c
		}
		if a.behaviour != b.behaviour {
			return strings.Compare(a.behaviour, b.behaviour)
		}
		if (a.profileName == zeroProfile) != (b.profileName == zeroProfile) {
			if a.profileName == zeroProfile {
				return -1
			}
			return 1
		}
		return strings.Compare(a.profileName, b.profileName)
	})
}

// resolve finds a model by any name a client may use; nil if it is not a synthetic model.
func (reg *registry) resolve(name string) *model {
	if m, ok := reg.byKey[name]; ok {
		return m
	}
	// ToLower and TrimSpace return their argument unchanged (no allocation) when there is
	// nothing to change.
	return reg.byKey[strings.ToLower(strings.TrimSpace(name))]
}

func (reg *registry) names() []string {
	out := make([]string, len(reg.list))
	for i, m := range reg.list {
		out[i] = m.name
	}
	return out
}

// appendDetails writes Ollama's "details" object for a synthetic model.
func appendDetails(b []byte) []byte {
	return append(b, `{"parent_model":"","format":"synthetic","family":"synthetic","families":["synthetic"],"parameter_size":"0","quantization_level":"none"}`...)
}

// appendTag writes one /api/tags entry.
func appendTag(b []byte, m *model, modified time.Time) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, m.name)
	b = append(b, `,"model":`...)
	b = appendString(b, m.name)
	b = append(b, `,"modified_at":`...)
	b = appendTime(b, modified)
	b = append(b, `,"size":0,"digest":`...)
	b = appendString(b, m.digest)
	b = append(b, `,"details":`...)
	b = appendDetails(b)
	return append(b, '}')
}

// A loaded synthetic model never expires: it costs nothing to keep.
const neverExpires = "2099-01-01T00:00:00Z"

// appendProcess writes one /api/ps entry.
func appendProcess(b []byte, m *model) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, m.name)
	b = append(b, `,"model":`...)
	b = appendString(b, m.name)
	b = append(b, `,"size":0,"digest":`...)
	b = appendString(b, m.digest)
	b = append(b, `,"details":`...)
	b = appendDetails(b)
	b = append(b, `,"expires_at":"`+neverExpires+`","size_vram":0,"context_length":`...)
	b = appendInt(b, defaultNumCtx)
	return append(b, '}')
}
