// Command chainmark-server is chainmark's LLM server: Ollama's and OpenAI's HTTP APIs over
// deterministic synthetic models, a recording proxy in front of a real model server, and a
// per-request timing log (/chainmark/requests) the harness subtracts from client timings.
//
//	chainmark-server --host 127.0.0.1 --port 11434 [--profiles PATH] [--upstream URL] [--log-capacity N]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chainmark/server/synth"
)

// How long in-flight requests get to finish on SIGINT/SIGTERM before connections are closed.
const shutdownGrace = 3 * time.Second

type options struct {
	host        string
	port        int
	profiles    string
	upstream    *url.URL
	logCapacity int
}

func main() {
	opts, err := parseArgs(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "chainmark-server: %v\n", err)
		os.Exit(2)
	}
	// One P unless told otherwise: with a P per core, every request wakes a second thread that
	// spins looking for work, which on a 2-core machine costs 25-45 % more CPU per request and
	// competes with the contestant being measured; one core still serves >10,000 requests/s.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "chainmark-server: %v\n", err)
		os.Exit(1)
	}
}

func parseArgs(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("chainmark-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	host := fs.String("host", "127.0.0.1", "address to listen on")
	port := fs.String("port", "11434", "port to listen on (1-65535; 0 picks a free one)")
	profiles := fs.String("profiles", "", `latency profiles JSON (default: only the built-in "zero" profile)`)
	upstream := fs.String("upstream", "", "Ollama or OpenAI-compatible server to forward every other model to")
	capacity := fs.Int("log-capacity", defaultLogCapacity, "requests kept in the /chainmark/requests log")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o := options{host: *host, profiles: *profiles, logCapacity: *capacity}
	p, err := strconv.Atoi(*port)
	if err != nil || p < 0 || p > 65535 {
		return options{}, fmt.Errorf("--port %q: must be an integer from 1 to 65535 (0 picks a free port)", *port)
	}
	o.port = p
	if o.logCapacity < 1 {
		return options{}, fmt.Errorf("--log-capacity %d: must be at least 1", o.logCapacity)
	}
	if *upstream != "" {
		u, err := url.Parse(*upstream)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return options{}, fmt.Errorf("--upstream %q: must be an http:// or https:// URL", *upstream)
		}
		o.upstream = u
	}
	return o, nil
}

// run serves until ctx is done, then shuts down gracefully.
func run(ctx context.Context, o options, stderr io.Writer) error {
	// Without --profiles (the Python launcher always passes it) synth gives the "zero"
	// profile alone.
	profiles, err := synth.LoadProfiles(o.profiles)
	if err != nil {
		return fmt.Errorf("profiles: %w", err)
	}
	logger := log.New(stderr, "chainmark-server: ", log.LstdFlags)
	srv := NewServer(Config{Profiles: profiles, Upstream: o.upstream, LogCapacity: o.logCapacity, Logger: logger})
	ln, err := net.Listen("tcp", net.JoinHostPort(o.host, strconv.Itoa(o.port)))
	if err != nil {
		return err
	}
	httpServer := &http.Server{
		Handler: srv,
		// Only the headers are bounded: bodies and streamed answers may legitimately take long.
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          logger,
	}
	port := ln.Addr().(*net.TCPAddr).Port
	fmt.Fprintf(stderr, "chainmark llm server ready on http://%s: %s\n",
		net.JoinHostPort(o.host, strconv.Itoa(port)), strings.Join(srv.models.names(), ", "))

	served := make(chan error, 1)
	go func() { served <- httpServer.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := httpServer.Shutdown(shutdown); err != nil {
		// Streams still running after the grace period: cut them.
		if closeErr := httpServer.Close(); closeErr != nil {
			return closeErr
		}
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
