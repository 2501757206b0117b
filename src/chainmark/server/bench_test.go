//go:build unix

package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkServerCPU measures the server's CPU per request over real loopback HTTP on the zero
// profile. The client runs in a child process (this test binary, as TestBenchClient), so the
// CPU this process uses while the child sends b.N requests is the server's alone:
// server-cpu-ns/op is the figure to compare with the targets (50 µs for a plain request,
// 100 µs for a 48-token stream). ns/op is wall time per request, client included.
//
//	go test -run '^$' -bench ServerCPU -benchtime 20000x
func BenchmarkServerCPU(b *testing.B) {
	const prompt = `"Why is the sky blue? Explain it to a child."`
	for _, c := range []struct{ name, path, body string }{
		{"generate", "/api/generate", `{"model": "synthetic", "prompt": ` + prompt + `, "stream": false, "options": {"num_predict": 48}}`},
		{"generate-stream48", "/api/generate", `{"model": "synthetic", "prompt": ` + prompt + `, "options": {"num_predict": 48}}`},
		{"chat", "/api/chat", `{"model": "synthetic", "stream": false, "messages": [{"role": "user", "content": ` + prompt + `}], "options": {"num_predict": 48}}`},
		{"chat-stream48", "/api/chat", `{"model": "synthetic", "messages": [{"role": "user", "content": ` + prompt + `}], "options": {"num_predict": 48}}`},
		{"openai-chat-stream48", "/v1/chat/completions", `{"model": "synthetic", "stream": true, "max_tokens": 48, "messages": [{"role": "user", "content": ` + prompt + `}]}`},
		{"embed", "/api/embed", `{"model": "synthetic", "input": ` + prompt + `}`},
		{"version", "/api/version", ``},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := NewServer(Config{Profiles: loadTestProfiles(b, `{"profiles": {"zero": {"output_tokens": 250, "embed_dim": 576}}}`)})
			benchServer(b, s, c.path, c.body)
		})
	}
	// What net/http itself costs on this machine: a handler that writes a constant.
	b.Run("baseline-net-http", func(b *testing.B) {
		benchServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"version":"0.12.0"}`))
		}), "/", "")
	})
}

func benchServer(b *testing.B, handler http.Handler, path, body string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: handler}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchClient$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CHAINMARK_BENCH_URL=http://"+ln.Addr().String()+path, "CHAINMARK_BENCH_BODY="+body)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	}()
	lines := bufio.NewScanner(stdout)
	await := func(word string) {
		for lines.Scan() {
			if lines.Text() == word {
				return
			}
			if strings.HasPrefix(lines.Text(), "bench-error") {
				b.Fatal(lines.Text())
			}
		}
		b.Fatalf("the client ended before %q: %v", word, lines.Err())
	}
	await("bench-ready")

	before := cpuTime(b)
	b.ResetTimer()
	if _, err := fmt.Fprintf(stdin, "%d\n", b.N); err != nil {
		b.Fatal(err)
	}
	await("bench-done")
	b.StopTimer()
	used := cpuTime(b) - before
	b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "server-cpu-ns/op")
	b.ReportMetric(float64(b.N)/used.Seconds(), "req/cpu-s")
}

// cpuTime is this process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestBenchClient is the benchmark's load generator, run in a child process: it warms up,
// then sends the number of requests it reads from stdin, one after the other on one
// keep-alive connection, reading every answer to its end.
func TestBenchClient(t *testing.T) {
	u := os.Getenv("CHAINMARK_BENCH_URL")
	if u == "" {
		t.Skip("only run by BenchmarkServerCPU")
	}
	body := os.Getenv("CHAINMARK_BENCH_BODY")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}
	send := func() error {
		method, rd := http.MethodGet, io.Reader(nil)
		if body != "" {
			method, rd = http.MethodPost, strings.NewReader(body)
		}
		req, err := http.NewRequest(method, u, rd)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	run := func(n int) {
		for range n {
			if err := send(); err != nil {
				fmt.Printf("bench-error %v\n", err)
				os.Exit(1)
			}
		}
	}
	run(300)
	fmt.Println("bench-ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		n, err := strconv.Atoi(in.Text())
		if err != nil {
			fmt.Printf("bench-error %v\n", err)
			os.Exit(1)
		}
		run(n)
		fmt.Println("bench-done")
	}
}

// BenchmarkHandler is the server's own work for one non-streamed answer, without sockets:
// decoding, answering, encoding, logging (the request is built outside the timed loop's
// allocations only in part: httptest.NewRequest costs a few allocations of its own).
func BenchmarkHandler(b *testing.B) {
	s := NewServer(Config{Profiles: loadTestProfiles(b, `{"profiles": {"zero": {"output_tokens": 250, "embed_dim": 576}}}`)})
	body := `{"model": "synthetic", "prompt": "Why is the sky blue? Explain it to a child.", "stream": false, "options": {"num_predict": 48}}`
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/api/generate", strings.NewReader(body))
		clear(w.h)
		s.ServeHTTP(w, req)
	}
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}
