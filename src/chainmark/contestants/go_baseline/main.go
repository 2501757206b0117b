// Command gobaseline is chainmark's framework-free Go contestant: every scenario written by
// hand with the standard library only (net/http, encoding/json, goroutines, context, sync,
// log/slog), against the same Ollama API and Chroma server as the framework contestants. It
// shows what Go itself costs, so a framework's overhead can be read against it. It follows
// the contestant contract (../CONTRACT.md):
//
//	gobaseline REQUEST.json RESULT.json
//	gobaseline --scenarios    # prints the scenarios it implements as a sorted JSON list
//
// Exit status: 0 done, 1 the scenario failed as a whole, 2 bad invocation or request,
// 3 scenario not implemented.
//
// Test hooks, not part of the contract (hooks.go): `--calculate` runs the calculator tool on
// one JSON string per stdin line; `--split SIZE OVERLAP` splits one JSON string per stdin
// line and prints its chunks as one JSON list per line.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"time"
)

const (
	contractVersion = 2
	contestantName  = "go-baseline"
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

// ToolSpec is a tool's name and description from the scenario parameters.
type ToolSpec struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Params is the union of every scenario's parameters; each scenario reads its own.
type Params struct {
	Iterations int `json:"iterations"`
	// Loop sizing (see Loop): a round's minimum measured time, and a cap on its iterations.
	MinRoundS          float64 `json:"min_round_s"`
	MaxRoundIterations int     `json:"max_round_iterations"`
	Warmup             int     `json:"warmup"`
	Prompt             string  `json:"prompt"`
	NumPredict         int     `json:"num_predict"`
	Temperature        float64 `json:"temperature"`
	Seed               int     `json:"seed"`

	// Retrieval-augmented generation.
	ChunkSize  int    `json:"chunk_size"`
	ChunkOver  int    `json:"chunk_overlap"`
	MaxChunks  *int   `json:"max_chunks"`
	BatchSize  int    `json:"batch_size"`
	Workers    int    `json:"workers"`
	Corpus     Corpus `json:"corpus"`
	Collection string `json:"collection"`
	Query      string `json:"query"`
	K          int    `json:"k"`

	// Agents and the router.
	Question    string              `json:"question"`
	ReactPrompt string              `json:"react_prompt"`
	MaxIter     int                 `json:"max_iterations"`
	Tools       map[string]ToolSpec `json:"tools"`
	RouterPrmt  string              `json:"router_prompt"`
	MathPrompt  string              `json:"math_prompt"`
	ProsePrompt string              `json:"prose_prompt"`
	Queries     []string            `json:"queries"`

	// Stress, resilience and operations.
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

// ScenarioFunc runs one scenario.
type ScenarioFunc func(ctx context.Context, p *Params, e *Endpoints, rec *Recorder) error

// scenarios is the dispatch table; --scenarios lists its names.
var scenarios = map[string]ScenarioFunc{
	"llm.latency":  llmLatency,
	"llm.ttft":     llmTTFT,
	"rag.split":    ragSplit,
	"rag.embed":    ragEmbed,
	"rag.ingest":   ragIngest,
	"rag.retrieve": ragRetrieve,
	"rag.e2e":      ragE2E,

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
		// No framework: the standard library only.
		Frameworks: map[string]string{},
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
	res.Operations = append(res.Operations, rec.Operations()...)
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

// implemented lists the dispatch table's names, sorted, for --scenarios.
func implemented() []string {
	names := make([]string, 0, len(scenarios))
	for name := range scenarios {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// run is the command line; stdout receives the --scenarios list and the hooks' output.
func run(args []string, stdin io.Reader, stdout io.Writer) int {
	switch {
	case len(args) == 2 && args[1] == "--scenarios":
		if err := json.NewEncoder(stdout).Encode(implemented()); err != nil {
			fmt.Fprintln(os.Stderr, "cannot write the scenario list:", err)
			return 1
		}
		return 0
	case len(args) == 2 && args[1] == "--calculate":
		return calculateLines(stdin, stdout)
	case len(args) == 4 && args[1] == "--split":
		size, errSize := strconv.Atoi(args[2])
		overlap, errOverlap := strconv.Atoi(args[3])
		if errSize != nil || errOverlap != nil {
			fmt.Fprintln(os.Stderr, "--split SIZE OVERLAP: two integers")
			return 2
		}
		return splitLines(stdin, stdout, size, overlap)
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

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout))
}
