// Command loadgen drives an Ollama-compatible server on loopback for the server benchmark.
//
// It is written in Go, not Python, so that the load generator is never the bottleneck when
// the server under test answers in tens of microseconds. Bounded in time and in count, and
// refuses any host but loopback.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"sync"
	"time"
)

// maxRequests bounds one run whatever the flags say: a stress test must stop by itself.
const maxRequests = 2_000_000

type report struct {
	Requests    int     `json:"requests"`
	Failures    int     `json:"failures"`
	FirstError  string  `json:"first_error,omitempty"`
	WallS       float64 `json:"wall_s"`
	RPS         float64 `json:"rps"`
	P50Ms       float64 `json:"p50_ms"`
	P99Ms       float64 `json:"p99_ms"`
	BytesRead   int64   `json:"bytes_read"`
	Concurrency int     `json:"concurrency"`
}

func main() {
	target := flag.String("url", "http://127.0.0.1:11434/api/generate", "endpoint to POST to")
	body := flag.String("body", `{"model":"synthetic","prompt":"Why is the sky blue?","stream":false}`, "request body")
	concurrency := flag.Int("c", 1, "concurrent clients")
	seconds := flag.Float64("seconds", 5, "how long to run")
	requests := flag.Int("n", 0, "stop after this many requests (0: only the time bound)")
	flag.Parse()
	if err := checkLoopback(*target); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	if *concurrency < 1 || *seconds <= 0 || *requests < 0 {
		fmt.Fprintln(os.Stderr, "loadgen: -c must be >= 1, -seconds > 0, -n >= 0")
		os.Exit(2)
	}
	limit := maxRequests
	if *requests > 0 && *requests < limit {
		limit = *requests
	}
	r := run(*target, []byte(*body), *concurrency, time.Duration(*seconds*float64(time.Second)), limit)
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	ip := net.ParseIP(u.Hostname())
	if u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("refusing %q: load tests target loopback only", u.Hostname())
	}
	return nil
}

func run(target string, body []byte, concurrency int, d time.Duration, limit int) report {
	client := &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        concurrency,
			MaxIdleConnsPerHost: concurrency,
			DisableCompression:  true,
		},
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  int
		firstErr  error
		bytesRead int64
		issued    int
		wg        sync.WaitGroup
	)
	take := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if issued >= limit {
			return false
		}
		issued++
		return true
	}
	start := time.Now()
	deadline := start.Add(d)
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 1024)
			var localBytes int64
			for time.Now().Before(deadline) && take() {
				t0 := time.Now()
				n, err := once(client, target, body)
				elapsed := time.Since(t0)
				localBytes += n
				if err != nil {
					mu.Lock()
					failures++
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				local = append(local, elapsed)
			}
			mu.Lock()
			latencies = append(latencies, local...)
			bytesRead += localBytes
			mu.Unlock()
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	r := report{Requests: len(latencies), Failures: failures, WallS: wall.Seconds(),
		RPS: float64(len(latencies)) / wall.Seconds(), BytesRead: bytesRead, Concurrency: concurrency}
	if firstErr != nil {
		r.FirstError = firstErr.Error()
	}
	if n := len(latencies); n > 0 {
		r.P50Ms = float64(latencies[n/2]) / 1e6
		r.P99Ms = float64(latencies[(n-1)*99/100]) / 1e6
	}
	return r
}

// once sends one request and reads the whole answer, streamed or not.
func once(client *http.Client, target string, body []byte) (int64, error) {
	resp, err := client.Post(target, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	n, copyErr := io.Copy(io.Discard, resp.Body)
	closeErr := resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return n, errors.Join(copyErr, closeErr)
}
