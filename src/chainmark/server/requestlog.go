package main

import (
	"slices"
	"sync"
	"unicode/utf8"
)

// The per-request log behind /chainmark/requests. A harness subtracts these server times from
// what its clients measured to get a framework's overhead, so each window runs from the moment
// the request's headers were read to the moment its last body byte was handed to the connection
// (the time is read just before the write that lets it go: a client can stop its clock once the
// byte arrives, and the handler's goroutine may run again only later).

const (
	defaultLogCapacity = 200_000
	maxLogPage         = 10_000
	// Strings a client controls are cut to this many bytes before they are kept: a 5 MB model
	// name must not be held 200,000 times.
	maxLoggedString = 200
)

// Which optional fields of a record hold a value; the others are written as null.
const (
	hasQueue uint16 = 1 << iota
	hasLoad
	hasPromptEval
	hasEval
	hasPromptEvalCount
	hasPromptCachedCount
	hasEvalCount
	hasInputs
	hasResponseChars
	hasUpstreamDurations
	hasStream

	// A request the server itself answered with a model: every figure is measured.
	hasLocalStats = hasQueue | hasLoad | hasPromptEval | hasEval | hasPromptEvalCount |
		hasPromptCachedCount | hasEvalCount | hasInputs
)

// record is one logged request. It is a plain value with no pointers beyond its strings, so the
// ring holds records inline and appending one is a copy, not an allocation.
type record struct {
	seq               int64
	path              string
	method            string
	model             string
	status            int
	stream            bool
	startNS, endNS    int64
	queueNS           int64
	loadNS            int64
	promptEvalNS      int64
	evalNS            int64
	promptEvalCount   int
	promptCachedCount int
	evalCount         int
	inputs            int
	responseChars     int
	doneReason        string
	err               string
	bytesOut          int64
	upstream          bool
	// The upstream's own total, load, prompt_eval and eval durations (ns).
	upstreamDurations [4]int64
	set               uint16
}

func (r *record) setStream(stream bool) {
	r.stream = stream
	r.set |= hasStream
}

func (r *record) setError(msg string) { r.err = clip(msg, 4*maxLoggedString) }

// clip cuts s to at most n bytes on a rune boundary, marked with an ellipsis. The
// concatenation copies, so a record never keeps the client's whole (possibly huge) string alive.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// requestLog is a bounded ring of records. Sequence numbers keep counting across resets and
// evictions, and the records in the ring are always contiguous in seq, so finding a page is
// index arithmetic.
type requestLog struct {
	mu       sync.Mutex
	capacity int
	ring     []record // grows up to capacity, then wraps
	head     int      // index of the oldest record once the ring has wrapped
	count    int
	nextSeq  int64
}

func newRequestLog(capacity int) *requestLog {
	if capacity < 1 {
		capacity = defaultLogCapacity
	}
	return &requestLog{capacity: capacity, nextSeq: 1}
}

func (l *requestLog) append(r *record) {
	l.mu.Lock()
	r.seq = l.nextSeq
	l.nextSeq++
	if l.count < l.capacity {
		// Not wrapped yet: head is 0 and the ring is exactly count long. It grows by doubling
		// but never past its capacity.
		if len(l.ring) == cap(l.ring) {
			l.ring = slices.Grow(l.ring, min(max(2*len(l.ring), 1024), l.capacity)-len(l.ring))
		}
		l.ring = append(l.ring, *r)
		l.count++
	} else {
		l.ring[l.head] = *r
		l.head = (l.head + 1) % l.capacity
	}
	l.mu.Unlock()
}

// since copies out up to limit records with seq >= seq, oldest first, and returns the seq to
// ask for next. Records are copied under the lock and encoded outside it, so a large page never
// holds up requests being logged.
func (l *requestLog) since(seq int64, limit int, into []record) ([]record, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	first := l.nextSeq - int64(l.count)
	if seq < first {
		seq = first
	}
	if seq >= l.nextSeq || limit < 1 {
		return into, l.nextSeq
	}
	n := min(int64(limit), l.nextSeq-seq)
	offset := int(seq - first)
	for i := range int(n) {
		into = append(into, l.ring[(l.head+offset+i)%len(l.ring)])
	}
	return into, seq + n
}

func (l *requestLog) stats() (entries int, nextSeq int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count, l.nextSeq
}

// clear drops every record but keeps counting, so a reader's next_seq stays valid.
func (l *requestLog) clear() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.ring) // release the strings the records hold
	l.ring = l.ring[:0]
	l.head = 0
	l.count = 0
	return l.nextSeq
}

// appendJSON writes the record with exactly the field names the harness reads.
func (r *record) appendJSON(b []byte) []byte {
	b = append(b, `{"seq":`...)
	b = appendInt(b, r.seq)
	b = append(b, `,"path":`...)
	b = appendString(b, r.path)
	b = append(b, `,"method":`...)
	b = appendString(b, r.method)
	b = append(b, `,"model":`...)
	b = appendStringOrNull(b, r.model)
	b = append(b, `,"status":`...)
	b = appendInt(b, int64(r.status))
	b = append(b, `,"stream":`...)
	if r.set&hasStream != 0 {
		b = appendBool(b, r.stream)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"start_ns":`...)
	b = appendInt(b, r.startNS)
	b = append(b, `,"end_ns":`...)
	b = appendInt(b, r.endNS)
	b = append(b, `,"server_s":`...)
	b = appendFloat(b, float64(r.endNS-r.startNS)/1e9, 64)
	b = r.appendSeconds(b, `,"queue_s":`, hasQueue, r.queueNS)
	b = r.appendSeconds(b, `,"load_s":`, hasLoad, r.loadNS)
	b = r.appendSeconds(b, `,"prompt_eval_s":`, hasPromptEval, r.promptEvalNS)
	b = r.appendSeconds(b, `,"eval_s":`, hasEval, r.evalNS)
	b = r.appendCount(b, `,"prompt_eval_count":`, hasPromptEvalCount, r.promptEvalCount)
	b = r.appendCount(b, `,"prompt_cached_count":`, hasPromptCachedCount, r.promptCachedCount)
	b = r.appendCount(b, `,"eval_count":`, hasEvalCount, r.evalCount)
	b = r.appendCount(b, `,"inputs":`, hasInputs, r.inputs)
	b = r.appendCount(b, `,"response_chars":`, hasResponseChars, r.responseChars)
	b = append(b, `,"done_reason":`...)
	b = appendStringOrNull(b, r.doneReason)
	b = append(b, `,"error":`...)
	b = appendStringOrNull(b, r.err)
	b = append(b, `,"bytes_out":`...)
	b = appendInt(b, r.bytesOut)
	b = append(b, `,"upstream":`...)
	b = appendBool(b, r.upstream)
	b = append(b, `,"upstream_durations":`...)
	if r.set&hasUpstreamDurations != 0 {
		d := &r.upstreamDurations
		b = append(b, `{"total_duration":`...)
		b = appendInt(b, d[0])
		b = append(b, `,"load_duration":`...)
		b = appendInt(b, d[1])
		b = append(b, `,"prompt_eval_duration":`...)
		b = appendInt(b, d[2])
		b = append(b, `,"eval_duration":`...)
		b = appendInt(b, d[3])
		b = append(b, '}')
	} else {
		b = append(b, "null"...)
	}
	return append(b, '}')
}

func (r *record) appendSeconds(b []byte, key string, bit uint16, ns int64) []byte {
	b = append(b, key...)
	if r.set&bit == 0 {
		return append(b, "null"...)
	}
	return appendFloat(b, float64(ns)/1e9, 64)
}

func (r *record) appendCount(b []byte, key string, bit uint16, n int) []byte {
	b = append(b, key...)
	if r.set&bit == 0 {
		return append(b, "null"...)
	}
	return appendInt(b, int64(n))
}
