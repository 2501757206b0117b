package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOpRecordsSuccessFailureAndPanic(t *testing.T) {
	rec := newRecorder()
	rec.Begin()
	rec.Op("ok", func(op *Op) error {
		time.Sleep(2 * time.Millisecond)
		op.Output["text"] = "x"
		return nil
	})
	rec.Op("fails", func(*Op) error { return errors.New("boom") })
	rec.Op("panics", func(*Op) error { panic("oops") })
	rec.End()
	ops := rec.Operations()
	if len(ops) != 3 {
		t.Fatalf("%d operations", len(ops))
	}
	if !ops[0].OK || ops[0].Error != nil || ops[0].Output["text"] != "x" {
		t.Errorf("ok op: %+v", ops[0])
	}
	if ops[0].ElapsedNs < int64(2*time.Millisecond) {
		t.Errorf("elapsed %d", ops[0].ElapsedNs)
	}
	if ops[1].OK || *ops[1].Error != "boom" {
		t.Errorf("failed op: %+v", ops[1])
	}
	if ops[2].OK || !strings.Contains(*ops[2].Error, "oops") {
		t.Errorf("panicking op: %+v", ops[2])
	}
	for _, op := range ops {
		// One clock read per end: the wall-clock span and the monotonic one agree.
		if d := op.EndNs - op.StartNs - op.ElapsedNs; d < -int64(time.Millisecond) || d > int64(time.Millisecond) {
			t.Errorf("%s: end-start %d vs elapsed %d", op.Name, op.EndNs-op.StartNs, op.ElapsedNs)
		}
		if op.StartNs < *rec.measureStart || op.EndNs > *rec.measureEnd {
			t.Errorf("%s lies outside the measure window", op.Name)
		}
	}
}

func TestOpIsSafeFromManyGoroutines(t *testing.T) {
	rec := newRecorder()
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec.Op("x", func(*Op) error { return nil })
		}()
	}
	wg.Wait()
	if n := len(rec.Operations()); n != 50 {
		t.Fatalf("%d operations, want 50", n)
	}
	if rec.measureStart == nil {
		t.Fatal("an operation before Begin must open the measure window")
	}
}

func TestScenariosListsTheDispatchTable(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"gobaseline", "--scenarios"}, nil, &out); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var names []string
	if err := json.Unmarshal(out.Bytes(), &names); err != nil {
		t.Fatal(err)
	}
	if len(names) != len(scenarios) || !sort.StringsAreSorted(names) {
		t.Fatalf("listed %v", names)
	}
	for _, n := range names {
		if _, ok := scenarios[n]; !ok {
			t.Errorf("%s listed but not dispatched", n)
		}
	}
}

func TestUnknownScenarioIsNotImplemented(t *testing.T) {
	dir := t.TempDir()
	req, res := filepath.Join(dir, "req.json"), filepath.Join(dir, "res.json")
	if err := os.WriteFile(req, []byte(`{"contract":2,"scenario":"no.such","params":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"gobaseline", req, res}, nil, &bytes.Buffer{}); code != 3 {
		t.Fatalf("exit %d, want 3", code)
	}
	var written Result
	data, err := os.ReadFile(res)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &written); err != nil {
		t.Fatal(err)
	}
	if written.Error == nil || !strings.HasPrefix(*written.Error, "not implemented") ||
		written.Contestant != contestantName || written.Language != "go" {
		t.Fatalf("result %+v", written)
	}
}

func TestBadInvocationsExit2(t *testing.T) {
	for _, args := range [][]string{{"gobaseline"}, {"gobaseline", "--scenarios", "x"},
		{"gobaseline", "--split", "a", "1"}} {
		if code := run(args, strings.NewReader(""), &bytes.Buffer{}); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
