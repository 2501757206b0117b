// Command langchaingo is chainmark's LangChainGo contestant: it runs one scenario of the
// benchmark with github.com/tmc/langchaingo and reports what it did and saw, following the
// contestant contract (../CONTRACT.md):
//
//	langchaingo REQUEST.json RESULT.json
//	langchaingo --scenarios    # prints the scenarios it implements as a sorted JSON list
//
// Exit status: 0 done, 1 the scenario failed as a whole, 2 bad invocation or request,
// 3 scenario not implemented.
//
// Test hook, not part of the contract: `langchaingo --calculate` runs the SimpleCalculator
// tool on one JSON-encoded string per stdin line and prints each observation as one JSON
// string per line (see calculateLines; tests/test_calculator_agreement.py uses it).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"time"
)

const (
	contractVersion = 2
	contestantName  = "langchaingo"
	langchaingoPath = "github.com/tmc/langchaingo"
)

// Endpoints are the backends the harness started.
type Endpoints struct {
	LLMURL    string  `json:"llm_url"`
	Model     string  `json:"model"`
	ChromaURL *string `json:"chroma_url"`
}

// Request is what the harness writes.
type Request struct {
	Contract  int             `json:"contract"`
	Scenario  string          `json:"scenario"`
	Params    json.RawMessage `json:"params"`
	Endpoints Endpoints       `json:"endpoints"`
	TimeoutS  float64         `json:"timeout_s"`
}

// Corpus names the generated corpus's files.
type Corpus struct {
	LargeDocument string `json:"large_document"`
	DocsDir       string `json:"docs_dir"`
}

// Params is the union of every implemented scenario's parameters; each scenario reads its own.
type Params struct {
	Iterations int `json:"iterations"`
	// Loop sizing (see Loop): a round's minimum measured time, and a cap on its iterations.
	MinRoundS          float64  `json:"min_round_s"`
	MaxRoundIterations int      `json:"max_round_iterations"`
	Warmup             int      `json:"warmup"`
	Prompt             string   `json:"prompt"`
	NumPredict         int      `json:"num_predict"`
	Temperature        float64  `json:"temperature"`
	Seed               int      `json:"seed"`
	ChunkSize          int      `json:"chunk_size"`
	ChunkOver          int      `json:"chunk_overlap"`
	MaxChunks          *int     `json:"max_chunks"`
	BatchSize          int      `json:"batch_size"`
	Workers            int      `json:"workers"`
	Corpus             Corpus   `json:"corpus"`
	Collection         string   `json:"collection"`
	Query              string   `json:"query"`
	K                  int      `json:"k"`
	Question           string   `json:"question"`
	ReactPrompt        string   `json:"react_prompt"`
	MaxIter            int      `json:"max_iterations"`
	RouterPrmt         string   `json:"router_prompt"`
	MathPrompt         string   `json:"math_prompt"`
	ProsePrompt        string   `json:"prose_prompt"`
	Queries            []string `json:"queries"`

	Tools map[string]ToolSpec `json:"tools"`

	// Stress, resilience and operations scenarios.
	Concurrency    int      `json:"concurrency"`
	TimeoutS       float64  `json:"timeout_s"`
	DurationS      float64  `json:"duration_s"`
	ClientTimeoutS float64  `json:"client_timeout_s"`
	FailingTool    string   `json:"failing_tool"`
	FailureMessage string   `json:"failure_message"`
	HandleParseErr bool     `json:"handle_parsing_errors"`
	FirstTurn      string   `json:"first_turn"`
	NextTurn       string   `json:"next_turn"`
	Turns          int      `json:"turns"`
	Checkpoints    []int    `json:"checkpoints"`
	Rounds         int      `json:"rounds"`
	Modes          []string `json:"modes"`
	// Repeated bursts (waves): the timed region's or each phase's minimum, and a cap.
	MinDurationS float64 `json:"min_duration_s"`
	MinPhaseS    float64 `json:"min_phase_s"`
	MaxWaves     int     `json:"max_waves"`
}

// Op is one timed operation.
type Op struct {
	Name      string         `json:"name"`
	StartNs   int64          `json:"start_ns"`
	EndNs     int64          `json:"end_ns"`
	ElapsedNs int64          `json:"elapsed_ns"`
	OK        bool           `json:"ok"`
	Error     *string        `json:"error"`
	Output    map[string]any `json:"output"`

	t0 time.Time // monotonic start, for intra-operation stamps (first token)
}

// SinceStart is the monotonic time since the operation began.
func (o *Op) SinceStart() time.Duration { return time.Since(o.t0) }

// Result is what the contestant writes.
type Result struct {
	Contract       int               `json:"contract"`
	Contestant     string            `json:"contestant"`
	Scenario       string            `json:"scenario"`
	Language       string            `json:"language"`
	Runtime        string            `json:"runtime"`
	Frameworks     map[string]string `json:"frameworks"`
	SetupS         float64           `json:"setup_s"`
	MeasureStartNs *int64            `json:"measure_start_ns"`
	MeasureEndNs   *int64            `json:"measure_end_ns"`
	Operations     []*Op             `json:"operations"`
	Outputs        map[string]any    `json:"outputs"`
	Extras         map[string]any    `json:"extras"`
	Error          *string           `json:"error"`
}

// Recorder times operations and collects what the harness should see. Op may be called from
// several goroutines at once (the stress scenarios); the rest is called from one.
type Recorder struct {
	mu           sync.Mutex
	ops          []*Op
	outputs      map[string]any
	setup        time.Duration
	measureStart *int64
	measureEnd   *int64
}

func newRecorder() *Recorder { return &Recorder{outputs: map[string]any{}} }

// Begin marks the start of the timed region (after setup and warm-up).
func (r *Recorder) Begin() {
	now := time.Now().UnixNano()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.measureStart = &now
}

// End marks the end of the timed region.
func (r *Recorder) End() {
	now := time.Now().UnixNano()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.measureEnd = &now
}

// Setup times initialisation, reported as setup_s apart from the operations.
func (r *Recorder) Setup(fn func() error) error {
	t0 := time.Now()
	err := fn()
	r.setup = time.Since(t0)
	return err
}

// Op times fn as one operation. A returned error (or a panic) marks the operation failed and
// is recorded, not propagated: the benchmark loop goes on so the harness sees every failure.
func (r *Recorder) Op(name string, fn func(op *Op) error) {
	r.Timed(name, fn)
}

// Timed is Op returning the recorded operation, for outputs added after the timed part.
func (r *Recorder) Timed(name string, fn func(op *Op) error) *Op {
	r.mu.Lock()
	if r.measureStart == nil {
		now := time.Now().UnixNano()
		r.measureStart = &now
	}
	r.mu.Unlock()
	op := &Op{Name: name, OK: true, Output: map[string]any{}}
	// One clock read at each end: time.Now carries the wall clock and the monotonic one
	// together, so start_ns/end_ns and elapsed_ns describe the same span (two reads drifted
	// apart by milliseconds under load, past the contract's tolerance).
	op.t0 = time.Now()
	op.StartNs = op.t0.UnixNano()
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		return fn(op)
	}()
	end := time.Now()
	op.ElapsedNs = end.Sub(op.t0).Nanoseconds()
	// start plus the monotonic span, not a second wall-clock read: a step of the wall clock
	// mid-operation would make end_ns disagree with elapsed_ns.
	op.EndNs = op.StartNs + op.ElapsedNs
	if err != nil {
		msg := err.Error()
		op.OK, op.Error = false, &msg
	}
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
	return op
}

// ScenarioFunc runs one scenario.
type ScenarioFunc func(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error

var scenarios = map[string]ScenarioFunc{
	"llm.latency":     llmLatency,
	"llm.ttft":        llmTTFT,
	"rag.split":       ragSplit,
	"rag.embed":       ragEmbed,
	"rag.ingest":      ragIngest,
	"rag.retrieve":    ragRetrieve,
	"rag.e2e":         ragE2E,
	"agent.single":    runAgent,
	"agent.multi":     runAgent,
	"agent.high_freq": runAgent,
	"workflow.router": workflowRouter,

	"stress.concurrent_rag":   concurrentRAG,
	"stress.concurrent_agent": concurrentAgent,
	"stress.saturation":       saturation,
	"resilience.timeout":      resilienceTimeout,
	"resilience.tool_failure": toolFailure,
	"resilience.parse_error":  parseError,
	"ops.memory":              opsMemory,
	"ops.observability":       observability,
	// Not a benchmark: the harness calls it, untimed, to fill the collection retrieval reads.
	"rag.prepare": ragPrepare,
}

// frameworks reports the module versions this binary was built with.
func frameworks() map[string]string {
	out := map[string]string{langchaingoPath: "unknown"}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == langchaingoPath {
				v := dep.Version
				if dep.Replace != nil {
					v += " => " + dep.Replace.Path + " " + dep.Replace.Version
				}
				out[langchaingoPath] = v
			}
		}
	}
	out["chroma-client"] = chromaClientName
	return out
}

func memExtras() map[string]any {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return map[string]any{
		"total_alloc_bytes": m.TotalAlloc,
		"heap_alloc_bytes":  m.HeapAlloc,
		"sys_bytes":         m.Sys,
		"mallocs":           m.Mallocs,
		"num_gc":            m.NumGC,
		"gc_pause_total_ns": m.PauseTotalNs,
	}
}

// scenarioContext bounds the whole run a little inside the harness's timeout, so a hung call
// fails its operation and a result still gets written before the harness kills the process.
func scenarioContext(timeoutS float64) (context.Context, context.CancelFunc) {
	if timeoutS <= 0 {
		return context.WithCancel(context.Background())
	}
	limit := time.Duration(timeoutS * float64(time.Second))
	margin := max(limit/50, time.Second)
	if limit > 2*margin {
		limit -= margin
	}
	return context.WithTimeout(context.Background(), limit)
}

// execute runs the request and returns the result and the exit status.
func execute(req *Request) (*Result, int) {
	res := &Result{
		Contract:   contractVersion,
		Contestant: contestantName,
		Scenario:   req.Scenario,
		Language:   "go",
		Runtime:    runtime.Version(),
		Frameworks: frameworks(),
		Operations: []*Op{},
		Outputs:    map[string]any{},
		Extras:     map[string]any{},
	}
	fn, ok := scenarios[req.Scenario]
	if !ok {
		msg := fmt.Sprintf("not implemented: %q in %s", req.Scenario, contestantName)
		res.Error = &msg
		return res, 3
	}
	var params Params
	if len(req.Params) > 0 {
		if err := json.Unmarshal(req.Params, &params); err != nil {
			msg := "bad params: " + err.Error()
			res.Error = &msg
			return res, 2
		}
	}
	ctx, cancel := scenarioContext(req.TimeoutS)
	defer cancel()
	rec := newRecorder()
	code := 0
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			}
		}()
		return fn(ctx, &params, &req.Endpoints, rec)
	}()
	if err != nil {
		msg := err.Error()
		res.Error = &msg
		code = 1
	}
	if rec.measureStart != nil && rec.measureEnd == nil {
		rec.End()
	}
	res.SetupS = rec.setup.Seconds()
	res.MeasureStartNs, res.MeasureEndNs = rec.measureStart, rec.measureEnd
	res.Operations = append(res.Operations, rec.ops...)
	res.Outputs = rec.outputs
	res.Extras = memExtras()
	return res, code
}

func readRequest(path string) (*Request, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var req Request
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if req.Scenario == "" {
		return nil, errors.New(path + ": no scenario")
	}
	return &req, nil
}

func writeResult(path string, res *Result) error {
	data, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// calculateLines is the --calculate test hook: for every line of in, a JSON-encoded string,
// it writes the SimpleCalculator tool's observation (Calculate) as a JSON string line to out,
// so a test can compare the very tool the benchmark runs with the Python tool and verifier.
// JSON carries any input, newlines included, one per line. Exit status 2 for a line that is
// not a JSON string, 1 when out fails.
func calculateLines(in io.Reader, out io.Writer) int {
	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 0, 64*1024), 16<<20)
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	for scanner.Scan() {
		var expression string
		if err := json.Unmarshal(scanner.Bytes(), &expression); err != nil {
			w.Flush()
			fmt.Fprintln(os.Stderr, "--calculate: each line must be a JSON string:", err)
			return 2
		}
		if err := enc.Encode(Calculate(expression)); err != nil {
			fmt.Fprintln(os.Stderr, "--calculate:", err)
			return 1
		}
	}
	if err := scanner.Err(); err != nil {
		w.Flush()
		fmt.Fprintln(os.Stderr, "--calculate:", err)
		return 2
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "--calculate:", err)
		return 1
	}
	return 0
}

// run is the command line; stdout receives the --scenarios list (and --calculate's output).
func run(args []string, stdout io.Writer) int {
	if len(args) == 2 && args[1] == "--calculate" {
		return calculateLines(os.Stdin, stdout)
	}
	if len(args) == 2 && args[1] == "--scenarios" {
		if err := json.NewEncoder(stdout).Encode(implemented()); err != nil {
			fmt.Fprintln(os.Stderr, "cannot write the scenario list:", err)
			return 1
		}
		return 0
	}
	if len(args) != 3 {
		fmt.Fprintf(os.Stderr, "usage: %s REQUEST.json RESULT.json | --scenarios\n", args[0])
		return 2
	}
	req, err := readRequest(args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot read request:", err)
		return 2
	}
	res, code := execute(req)
	if err := writeResult(args[2], res); err != nil {
		fmt.Fprintln(os.Stderr, "cannot write result:", err)
		return 1
	}
	if res.Error != nil {
		fmt.Fprintln(os.Stderr, *res.Error)
	}
	return code
}

// implemented lists the scenarios this contestant runs (the dispatch map's names, sorted), for
// --scenarios: the harness reads it to know what to ask this contestant for.
func implemented() []string {
	names := make([]string, 0, len(scenarios))
	for name := range scenarios {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func main() {
	os.Exit(run(os.Args, os.Stdout))
}
