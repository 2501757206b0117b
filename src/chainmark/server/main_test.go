package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	o, err := parseArgs([]string{"--port", "0", "--upstream", "http://127.0.0.1:11435", "--log-capacity", "7"}, io.Discard)
	if err != nil || o.port != 0 || o.host != "127.0.0.1" || o.upstream.Host != "127.0.0.1:11435" || o.logCapacity != 7 {
		t.Fatalf("%+v %v", o, err)
	}
	if o, err := parseArgs(nil, io.Discard); err != nil || o.port != 11434 || o.profiles != "" || o.logCapacity != defaultLogCapacity {
		t.Fatalf("defaults: %+v %v", o, err)
	}
	for _, args := range [][]string{
		{"--port", "65536"}, {"--port", "-1"}, {"--port", "http"}, {"--port", ""},
		{"--log-capacity", "0"}, {"--upstream", "localhost:11434"}, {"--upstream", "ftp://x"},
		{"--bogus"}, {"extra"},
	} {
		if _, err := parseArgs(args, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// syncBuffer is a bytes.Buffer safe to read while the server writes its log to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunServesUntilCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "profiles.json")
	if err := os.WriteFile(path, []byte(testProfiles), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, options{host: "127.0.0.1", port: 0, profiles: path, logCapacity: 10}, &stderr)
	}()
	ready := regexp.MustCompile(`chainmark llm server ready on (http://127\.0\.0\.1:\d+): (.*)\n`)
	var m []string
	for deadline := time.Now().Add(5 * time.Second); m == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		m = ready.FindStringSubmatch(stderr.String())
	}
	if m == nil {
		t.Fatalf("no ready line: %q", stderr.String())
	}
	if !strings.Contains(m[2], "synthetic:zero, synthetic:slow") {
		t.Fatalf("models: %q", m[2])
	}
	if r := do(t, http.MethodGet, m[1]+"/chainmark/health", ""); r.status != 200 {
		t.Fatalf("health: %d", r.status)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not stop")
	}
}

func TestRunWithoutProfilesServesZero(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stderr syncBuffer
	if err := run(ctx, options{host: "127.0.0.1", port: 0, logCapacity: 1}, &stderr); err != nil {
		t.Fatal(err)
	}
	if want := ": synthetic:zero, synthetic-liar:zero, synthetic-malformed:zero\n"; !strings.HasSuffix(stderr.String(), want) {
		t.Fatalf("ready line %q", stderr.String())
	}
	if err := run(ctx, options{host: "127.0.0.1", profiles: "/nonexistent.json", logCapacity: 1}, io.Discard); err == nil {
		t.Fatal("a missing profiles file was accepted")
	}
}
