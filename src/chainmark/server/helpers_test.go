package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chainmark/server/synth"
)

// testProfiles is a profiles.json with the zero profile and a slow one.
const testProfiles = `{"profiles": {
  "zero": {"ttft_s": 0, "prompt_tokens_per_s": 0, "tokens_per_s": 0, "output_tokens": 250,
           "embed_base_s": 0, "embed_s_per_token": 0, "embed_dim": 576, "parallel": 0,
           "description": "no cost", "provenance": {"output_tokens": "test"}},
  "slow": {"ttft_s": 0.2, "tokens_per_s": 40, "output_tokens": 21, "parallel": 1,
           "provenance": {"cpu_count": 2}}
}}`

type testServer struct {
	*Server
	url      string
	t        *testing.T
	inflight *sync.WaitGroup
}

func loadTestProfiles(t testing.TB, doc string) map[string]synth.Profile {
	t.Helper()
	path := filepath.Join(t.TempDir(), "profiles.json")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	profiles, err := synth.LoadProfiles(path)
	if err != nil {
		t.Fatalf("LoadProfiles: %v", err)
	}
	return profiles
}

// newTestServer serves testProfiles over real loopback HTTP.
func newTestServer(t *testing.T, configure ...func(*Config)) *testServer {
	t.Helper()
	cfg := Config{Profiles: loadTestProfiles(t, testProfiles)}
	for _, f := range configure {
		f(&cfg)
	}
	s := NewServer(cfg)
	// A request is logged just after its last byte is flushed, so a client can read its answer
	// a moment before the record exists: tests wait for the handlers to return.
	inflight := &sync.WaitGroup{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inflight.Add(1)
		defer inflight.Done()
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return &testServer{Server: s, url: hs.URL, t: t, inflight: inflight}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("status %d, body is not a JSON object: %v\n%s", r.status, err, r.body)
	}
	return v
}

// lines parses an NDJSON body.
func (r response) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimRight(string(r.body), "\n"), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("bad NDJSON line %q: %v", line, err)
		}
		out = append(out, v)
	}
	return out
}

// events parses an SSE body into its data payloads ("[DONE]" included as a string).
func (r response) events(t *testing.T) []string {
	t.Helper()
	var out []string
	for block := range strings.SplitSeq(string(r.body), "\n\n") {
		if block == "" {
			continue
		}
		data, ok := strings.CutPrefix(block, "data: ")
		if !ok {
			t.Fatalf("bad SSE block %q", block)
		}
		out = append(out, data)
	}
	return out
}

func (ts *testServer) do(method, path, body string, header ...string) response {
	ts.t.Helper()
	return do(ts.t, method, ts.url+path, body, header...)
}

func (ts *testServer) post(path, body string) response {
	ts.t.Helper()
	return ts.do(http.MethodPost, path, body)
}

func do(t testing.TB, method, u, body string, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, u, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func (ts *testServer) nextSeq() int64 {
	ts.t.Helper()
	ts.inflight.Wait()
	_, next := ts.log.stats()
	return next
}

// logSince reads the log through its endpoint, as the harness does.
func (ts *testServer) logSince(seq int64) []map[string]any {
	ts.t.Helper()
	ts.inflight.Wait()
	r := ts.do(http.MethodGet, fmt.Sprintf("/chainmark/requests?since=%d", seq), "")
	if r.status != http.StatusOK {
		ts.t.Fatalf("/chainmark/requests: %d %s", r.status, r.body)
	}
	var page struct {
		Requests []map[string]any `json:"requests"`
		NextSeq  int64            `json:"next_seq"`
	}
	if err := json.Unmarshal(r.body, &page); err != nil {
		ts.t.Fatal(err)
	}
	return page.Requests
}

// lastRecord is the newest log record.
func (ts *testServer) lastRecord() map[string]any {
	ts.t.Helper()
	recs := ts.logSince(ts.nextSeq() - 1)
	if len(recs) != 1 {
		ts.t.Fatalf("expected one record, got %d", len(recs))
	}
	return recs[0]
}

// -- fakes for pacing and cancellation, independent of synth's answers --------------------------

// fakeEngine answers n word tokens (fewer with num_predict), optionally calling tools instead.
type fakeEngine struct {
	tokens    int
	toolCalls []synth.ToolCall
	panics    bool
}

func (f fakeEngine) Answer(p synth.Prompt, o synth.Options, tools []synth.Tool, format json.RawMessage) synth.Answer {
	if f.panics {
		panic("fake engine failure")
	}
	ans := synth.Answer{DoneReason: "stop", PromptTokens: synth.CountTokens(p.Text())}
	if len(f.toolCalls) > 0 && len(tools) > 0 {
		ans.ToolCalls = f.toolCalls
		ans.Generated = 5
		return ans
	}
	n := f.tokens
	if o.NumPredict > 0 && o.NumPredict < n {
		n, ans.DoneReason = o.NumPredict, "length"
	}
	for i := range n {
		if i == 0 {
			ans.Tokens = append(ans.Tokens, "word0")
		} else {
			ans.Tokens = append(ans.Tokens, fmt.Sprintf(" word%d", i))
		}
	}
	ans.Generated = n
	return ans
}

type fakePace struct{ ttft, interval, embed time.Duration }

func (p fakePace) PromptDelay(int) time.Duration { return p.ttft }
func (p fakePace) TokenInterval() time.Duration  { return p.interval }
func (p fakePace) EmbedDelay(int) time.Duration  { return p.embed }

// addFake registers a fake model "fake:<profile>".
func (ts *testServer) addFake(profile string, parallel int, gen fakeEngine, pace fakePace) string {
	name := "fake:" + profile
	ts.models.add(newModel(name, "fake", profile, 8, parallel, gen, pace))
	return name
}

// streamLines posts and returns each NDJSON line with the time it arrived.
func streamLines(t *testing.T, u, body string) ([]map[string]any, []time.Time, time.Time) {
	t.Helper()
	start := time.Now()
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var lines []map[string]any
	var stamps []time.Time
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		lines = append(lines, v)
		stamps = append(stamps, time.Now())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines, stamps, start
}
