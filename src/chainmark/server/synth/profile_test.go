package synth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const shippedProfiles = "../../backends/llm/profiles.json"

// The shipped file is rewritten by every calibration, so this checks its shape and meaning,
// not the figures of one machine.
func TestLoadTheShippedProfiles(t *testing.T) {
	profiles, err := LoadProfiles(shippedProfiles)
	if err != nil {
		t.Fatal(err)
	}
	zero := profiles["zero"]
	if zero.Name != "zero" || zero.TokensPerS != 0 || zero.Parallel != 0 || zero.OutputTokens < 1 ||
		zero.EmbedDim != 576 {
		t.Fatalf("zero: %+v", zero)
	}
	if zero.PromptDelay(1000) != 0 || zero.TokenInterval() != 0 || zero.EmbedDelay(1000) != 0 {
		t.Fatal("zero is free")
	}
	cpu := profiles["smollm2-cpu"]
	if cpu.Name != "smollm2-cpu" || cpu.Parallel != 1 || cpu.TokensPerS <= 0 || cpu.PromptTokensPerS <= 0 ||
		cpu.OutputTokens != zero.OutputTokens || cpu.Provenance["method"] == nil {
		t.Fatalf("smollm2-cpu: %+v", cpu)
	}
	near := func(got time.Duration, seconds float64) bool {
		d := float64(got) - seconds*1e9
		return d < 1 && d > -1
	}
	if got := cpu.TokenInterval(); !near(got, 1/cpu.TokensPerS) {
		t.Fatalf("token interval %v", got)
	}
	if got := cpu.PromptDelay(100); !near(got, cpu.TTFTS+100/cpu.PromptTokensPerS) {
		t.Fatalf("prompt delay %v", got)
	}
	if got := cpu.EmbedDelay(10); !near(got, cpu.EmbedBaseS+cpu.EmbedSPerToken*10) {
		t.Fatalf("embed delay %v", got)
	}
	models := NewModels(profiles)
	if len(models) != 6 || models["synthetic-malformed:smollm2-cpu"].Profile.TokensPerS != cpu.TokensPerS {
		t.Fatalf("%v", models)
	}
}

func writeProfiles(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.json")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestProfilesDefaultsAndNulls(t *testing.T) {
	profiles, err := LoadProfiles(writeProfiles(t,
		`{"note": "x", "profiles": {"x": {"tokens_per_s": null, "prompt_tokens_per_s": 1e999, "ttft_s": 0.5, "description": null, "provenance": null}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(profiles) != 2 {
		t.Fatalf("%v", profiles)
	}
	x := profiles["x"]
	if x.TokenInterval() != 0 || x.PromptDelay(100) != 500*time.Millisecond {
		t.Fatalf("%+v", x)
	}
	if x.OutputTokens != 64 || x.EmbedDim != 576 || x.Parallel != 1 {
		t.Fatalf("defaults: %+v", x)
	}
	if z := profiles["zero"]; z.Parallel != 0 || z.OutputTokens != 64 || z.Description == "" {
		t.Fatalf("zero: %+v", z)
	}
	over, err := LoadProfiles(writeProfiles(t, `{"profiles": {"zero": {"output_tokens": 5, "parallel": 2}}}`))
	if err != nil || over["zero"].OutputTokens != 5 || over["zero"].Parallel != 2 {
		t.Fatalf("a file may override zero: %+v %v", over["zero"], err)
	}
	only, err := LoadProfiles("")
	if err != nil || len(only) != 1 || only["zero"].Name != "zero" {
		t.Fatal("an empty path gives zero")
	}
	huge := Profile{TTFTS: 1e300}
	if huge.PromptDelay(1) != time.Duration(1<<63-1) {
		t.Fatal("durations saturate")
	}
}

func TestProfilesRejectBadInput(t *testing.T) {
	for text, want := range map[string]string{
		`{"profiles": {"x": {"ttft_s": -1}}}`:              `profile "x": ttft_s must be a number >= 0`,
		`{"profiles": {"x": {"ttft_s": null}}}`:            `profile "x": ttft_s must be a number >= 0`,
		`{"profiles": {"x": {"ttft_s": "1"}}}`:             `profile "x": ttft_s must be a number >= 0`,
		`{"profiles": {"x": {"ttft_s": 1e999}}}`:           `profile "x": ttft_s must be a number >= 0`,
		`{"profiles": {"x": {"tokens_per_s": -0.5}}}`:      `profile "x": tokens_per_s must be a number >= 0`,
		`{"profiles": {"x": {"embed_s_per_token": true}}}`: `profile "x": embed_s_per_token must be a number >= 0`,
		`{"profiles": {"x": {"speed": 1, "alpha": 2}}}`:    `profile "x": unknown fields alpha, speed`,
		`{"profiles": {"x": {"output_tokens": 2.5}}}`:      `profile "x": output_tokens must be an integer`,
		`{"profiles": {"x": {"output_tokens": 1e2}}}`:      `profile "x": output_tokens must be an integer`,
		`{"profiles": {"x": {"output_tokens": 10000000}}}`: `profile "x": output_tokens must be an integer from 0 to 1000000`,
		`{"profiles": {"x": {"parallel": -1}}}`:            `profile "x": parallel must be an integer`,
		`{"profiles": {"x": {"embed_dim": 0}}}`:            `profile "x": embed_dim must be an integer from 1 to 65536`,
		`{"profiles": {"x": {"description": 5}}}`:          `profile "x": description must be a string`,
		`{"profiles": {"x": {"provenance": [1]}}}`:         `profile "x": provenance must be an object`,
		`{"profiles": {"a:b": {}}}`:                        `bad profile name "a:b"`,
		`{"profiles": {"": {}}}`:                           `bad profile name ""`,
		`{"profiles": {" x": {}}}`:                         `bad profile name " x"`,
		`{"profiles": {"Fast": {}, "fast": {}}}`:           `differ only in case`,
		`{"profiles": {"Zero": {}}}`:                       `clashes with "zero"`,
		`{"profiles": {"x": []}}`:                          `profile "x" is not an object`,
		`{"profiles": []}`:                                 `expected an object with a 'profiles' object`,
		`{"other": {}}`:                                    `expected an object with a 'profiles' object`,
		`[]`:                                               `cannot read profiles`,
		`{`:                                                `cannot read profiles`,
	} {
		path := writeProfiles(t, text)
		_, err := LoadProfiles(path)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want %q with the path", text, err, want)
		}
	}
	if _, err := LoadProfiles(filepath.Join(t.TempDir(), "missing.json")); err == nil ||
		!strings.Contains(err.Error(), "cannot read profiles from") {
		t.Fatalf("a missing file: %v", err)
	}
}
