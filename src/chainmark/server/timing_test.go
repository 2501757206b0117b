package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The request log's window must lie inside what any client can measure: it starts after the
// request arrived and ends no later than the moment the last byte of the answer could reach the
// client, which is when the handler hands that byte over (the harness subtracts server_s from
// the client's time; a window ending later gives a negative overhead).
//
// Timing alone cannot show that, since the server usually stamps its end long before a client
// has read anything. So these tests hand the race to the client on purpose: after every flush,
// the server's goroutine waits until the client has read every byte written so far, and only
// then goes on, as if the scheduler had run the client first. A server that took its end time
// after the final write or flush, or once the handler returns, stamps it after the client's
// last read every time, not once in a thousand runs under load.

// handoff counts the answer's bytes as the handler writes them and as the client reads them.
type handoff struct {
	mu       sync.Mutex
	written  int64     // body bytes the handler wrote
	read     int64     // body bytes the client read
	readAt   time.Time // when the client's latest read returned
	timedOut bool
}

func (h *handoff) clientRead(n int) {
	now := time.Now() // before the server can see the bytes counted
	h.mu.Lock()
	h.read += int64(n)
	h.readAt = now
	h.mu.Unlock()
}

// waitForClient blocks the handler until the client has read everything written so far.
func (h *handoff) waitForClient() {
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.mu.Lock()
		caughtUp := h.read >= h.written
		if !caughtUp && time.Now().After(deadline) {
			h.timedOut = true
		}
		done := caughtUp || h.timedOut
		h.mu.Unlock()
		if done {
			return
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// handoffWriter is the response writer the exchange sees: net/http's, with the wait after each
// flush. The exchange flushes through FlushError, so that is the only flush to wrap.
type handoffWriter struct {
	http.ResponseWriter
	h *handoff
}

func (w *handoffWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.h.mu.Lock()
	w.h.written += int64(n)
	w.h.mu.Unlock()
	return n, err
}

func (w *handoffWriter) FlushError() error {
	if err := w.ResponseWriter.(interface{ FlushError() error }).FlushError(); err != nil {
		return err
	}
	w.h.waitForClient()
	return nil
}

type handoffServer struct {
	*Server
	url      string
	current  atomic.Pointer[handoff]
	inflight sync.WaitGroup
}

func newHandoffServer(t *testing.T, configure ...func(*Config)) *handoffServer {
	t.Helper()
	cfg := Config{Profiles: loadTestProfiles(t, testProfiles)}
	for _, f := range configure {
		f(&cfg)
	}
	hs := &handoffServer{Server: NewServer(cfg)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hs.inflight.Add(1)
		defer hs.inflight.Done()
		hs.ServeHTTP(&handoffWriter{ResponseWriter: w, h: hs.current.Load()}, r)
	}))
	t.Cleanup(srv.Close)
	hs.url = srv.URL
	return hs
}

// exchange makes one request, reading the answer in small pieces, and returns the log's record
// of it with the client's start and the time its read of the last byte returned.
func (hs *handoffServer) exchange(t *testing.T, method, path, body string) (rec record, start, lastByte time.Time) {
	t.Helper()
	h := &handoff{}
	hs.current.Store(h)
	_, seq := hs.log.stats()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, hs.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now() // before a byte of the request is sent
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	buf := make([]byte, 256)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			h.clientRead(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s %s: reading the body: %v", method, path, err)
		}
	}
	_ = resp.Body.Close()
	hs.inflight.Wait()
	recs, _ := hs.log.since(seq, 10, nil)
	if len(recs) != 1 {
		t.Fatalf("%s %s: %d records", method, path, len(recs))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.timedOut {
		t.Fatalf("%s %s: the client never read what the server flushed", method, path)
	}
	if h.read == 0 || h.read != recs[0].bytesOut {
		t.Fatalf("%s %s: the client read %d bytes, the log says %d were sent", method, path, h.read, recs[0].bytesOut)
	}
	return recs[0], start, h.readAt
}

// wallStepBack is how far the wall clock was set back between a and b (0 if it was not):
// start_ns and end_ns are wall-clock times, durations are monotonic, and only a clock step
// separates the two. It is what the wall-clock checks may be off by, and it is 0 unless
// something adjusts the system clock during the test.
func wallStepBack(a, b time.Time) int64 {
	return max(0, int64(b.Sub(a))-(b.UnixNano()-a.UnixNano()))
}

func TestLogWindowEndsBeforeTheClientsLastByte(t *testing.T) {
	up := newFakeUpstream(t)
	close(up.released) // the proxied chat streams all its lines at once
	hs := newHandoffServer(t, withUpstream(up.URL))
	cases := []struct{ name, method, path, body string }{
		{"generate", http.MethodPost, "/api/generate", `{"model": "synthetic", "prompt": "` + question + `", "stream": false, "options": {"num_predict": 6}}`},
		{"generate paced", http.MethodPost, "/api/generate", `{"model": "synthetic:slow", "prompt": "` + question + `", "stream": false, "options": {"num_predict": 3}}`},
		{"generate stream", http.MethodPost, "/api/generate", `{"model": "synthetic", "prompt": "` + question + `", "options": {"num_predict": 6}}`},
		{"generate stream paced", http.MethodPost, "/api/generate", `{"model": "synthetic:slow", "prompt": "` + question + `", "options": {"num_predict": 3}}`},
		{"chat stream", http.MethodPost, "/api/chat", `{"model": "synthetic", "messages": [{"role": "user", "content": "` + question + `"}], "options": {"num_predict": 6}}`},
		{"openai stream", http.MethodPost, "/v1/chat/completions", `{"model": "synthetic", "messages": [{"role": "user", "content": "` + question + `"}], "max_tokens": 6, "stream": true, "stream_options": {"include_usage": true}}`},
		{"embed", http.MethodPost, "/api/embed", `{"model": "synthetic", "input": ["the cat sat", "a cat"]}`},
		{"error", http.MethodPost, "/api/generate", `{not json`},
		{"root", http.MethodGet, "/", ""},
		{"proxied version", http.MethodGet, "/api/version", ""},
		{"proxied json", http.MethodPost, "/api/generate", `{"model": "smollm2:135m", "prompt": "hi", "stream": false}`},
		{"proxied stream", http.MethodPost, "/api/chat", `{"model": "smollm2:135m", "messages": [{"role": "user", "content": "hi"}]}`},
		{"proxied sse", http.MethodPost, "/v1/chat/completions", `{"model": "smollm2:135m", "messages": [{"role": "user", "content": "hi"}], "stream": true}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, start, lastByte := hs.exchange(t, c.method, c.path, c.body)
			if rec.path != c.path || (rec.upstream != strings.HasPrefix(c.name, "proxied")) {
				t.Fatalf("record of %s (upstream %v)", rec.path, rec.upstream)
			}
			step := wallStepBack(start, lastByte)
			if rec.startNS < start.UnixNano()-step {
				t.Errorf("logged start %d ns before the client sent the request", start.UnixNano()-rec.startNS)
			}
			if rec.endNS < rec.startNS {
				t.Errorf("logged end %d before its start %d", rec.endNS, rec.startNS)
			}
			if late := rec.endNS - lastByte.UnixNano(); late > step {
				t.Errorf("logged end %d ns after the client had read the last byte", late)
			}
			// Durations are monotonic on both sides: no clock step excuses this one.
			if server, client := time.Duration(rec.endNS-rec.startNS), lastByte.Sub(start); server > client {
				t.Errorf("server time %v longer than the client's %v", server, client)
			}
		})
	}
}
