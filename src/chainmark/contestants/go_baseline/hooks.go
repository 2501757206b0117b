package main

// Test hooks, not part of the contract: they let a test run the very calculator and splitter
// the benchmark runs, from the built binary, against chainmark's Python references.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// eachJSONString calls fn with every line of in decoded as a JSON string (JSON carries any
// text, newlines included, on one line). Exit status 2 for a line that is not a JSON
// string, 1 when writing fails.
func eachJSONString(hook string, in io.Reader, out io.Writer, fn func(text string, enc *json.Encoder) error) int {
	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 0, 64*1024), 64<<20)
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	for scanner.Scan() {
		var text string
		if err := json.Unmarshal(scanner.Bytes(), &text); err != nil {
			w.Flush()
			fmt.Fprintf(os.Stderr, "%s: each line must be a JSON string: %v\n", hook, err)
			return 2
		}
		if err := fn(text, enc); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", hook, err)
			return 1
		}
	}
	if err := scanner.Err(); err != nil {
		w.Flush()
		fmt.Fprintf(os.Stderr, "%s: %v\n", hook, err)
		return 2
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", hook, err)
		return 1
	}
	return 0
}

// calculateLines is --calculate: the calculator tool's observation for every input line.
func calculateLines(in io.Reader, out io.Writer) int {
	return eachJSONString("--calculate", in, out, func(text string, enc *json.Encoder) error {
		return enc.Encode(Calculate(text))
	})
}

// splitLines is --split SIZE OVERLAP: the splitter's chunks of every input line, as a JSON
// list per line.
func splitLines(in io.Reader, out io.Writer, size, overlap int) int {
	splitter, err := newSplitter(size, overlap)
	if err != nil {
		fmt.Fprintln(os.Stderr, "--split:", err)
		return 2
	}
	return eachJSONString("--split", in, out, func(text string, enc *json.Encoder) error {
		chunks := splitter.Split(text)
		if chunks == nil {
			chunks = []string{}
		}
		return enc.Encode(chunks)
	})
}
