package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
)

// chainmark's own endpoints: the request log and health. They are not logged themselves, so
// reading the log never changes it.

var recordPool = sync.Pool{New: func() any { return new([]record) }}

func (s *Server) serveChainmark(w http.ResponseWriter, r *http.Request) {
	var handle func(http.ResponseWriter, *http.Request)
	allowed := http.MethodGet
	switch r.URL.Path {
	case "/chainmark/requests":
		handle = s.requestsHandler
	case "/chainmark/reset":
		handle, allowed = s.resetHandler, http.MethodPost
	case "/chainmark/evict":
		handle, allowed = s.evictHandler, http.MethodPost
	case "/chainmark/health":
		handle = s.healthHandler
	case "/chainmark/usage":
		handle = s.usageHandler
	default:
		writePlainError(w, http.StatusNotFound, "404 page not found: "+clip(r.URL.Path, maxLoggedString))
		return
	}
	if r.Method != allowed && !(allowed == http.MethodGet && r.Method == http.MethodHead) {
		w.Header()["Allow"] = []string{allowed}
		writePlainError(w, http.StatusMethodNotAllowed, "method "+clip(r.Method, 16)+" not allowed on "+r.URL.Path)
		return
	}
	handle(w, r)
}

func writePlainError(w http.ResponseWriter, status int, msg string) {
	writeBody(w, status, appendOllamaError(nil, msg))
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client may be gone; nothing to do about it
}

// requestsHandler pages through the log: ?since=SEQ&limit=N (at most 10,000 a page).
func (s *Server) requestsHandler(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, limit := int64(0), maxLogPage
	var err error
	if v := q.Get("since"); v != "" {
		if since, err = strconv.ParseInt(v, 10, 64); err != nil {
			writePlainError(w, http.StatusBadRequest, "since and limit must be integers")
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil {
			writePlainError(w, http.StatusBadRequest, "since and limit must be integers")
			return
		}
	}
	limit = max(1, min(limit, maxLogPage))
	page := recordPool.Get().(*[]record)
	records, next := s.log.since(since, limit, (*page)[:0])
	b := make([]byte, 0, 64+400*len(records))
	b = append(b, `{"requests":[`...)
	for i := range records {
		if i > 0 {
			b = append(b, ',')
		}
		b = records[i].appendJSON(b)
	}
	b = append(b, `],"next_seq":`...)
	b = appendInt(b, next)
	b = append(b, '}')
	clear(records)
	*page = records[:0]
	recordPool.Put(page)
	writeBody(w, http.StatusOK, b)
}

func (s *Server) resetHandler(w http.ResponseWriter, r *http.Request) {
	next := s.log.clear()
	b := append([]byte(`{"status":"ok","next_seq":`), strconv.FormatInt(next, 10)...)
	writeBody(w, http.StatusOK, append(b, '}'))
}

// evictHandler empties every paced model's prompt-cache imitation, as if each had just been
// loaded: the harness calls it before each contestant's run, so no run is charged or spared
// the first prompt by what the run before it (another contestant's prompts) left behind.
func (s *Server) evictHandler(w http.ResponseWriter, r *http.Request) {
	evicted := 0
	for _, m := range s.models.list {
		if m.cache != nil {
			m.cache.evict()
			evicted++
		}
	}
	b := append([]byte(`{"status":"ok","evicted":`), strconv.Itoa(evicted)...)
	writeBody(w, http.StatusOK, append(b, '}'))
}

type healthOut struct {
	Status   string                     `json:"status"`
	Models   []string                   `json:"models"`
	Aliases  map[string]string          `json:"aliases"`
	Profiles map[string]json.RawMessage `json:"profiles"` // as profiles.json spells them
	Upstream *string                    `json:"upstream"`
	Log      healthLog                  `json:"log"`
}

type healthLog struct {
	Entries int   `json:"entries"`
	NextSeq int64 `json:"next_seq"`
}

func (s *Server) healthHandler(w http.ResponseWriter, r *http.Request) {
	out := healthOut{
		Status:   "ok",
		Models:   s.models.names(),
		Aliases:  s.models.aliases,
		Profiles: map[string]json.RawMessage{},
	}
	for name, p := range s.profiles {
		data, err := json.Marshal(p)
		if err != nil {
			s.logger.Printf("profile %q cannot be encoded: %v", name, err)
			continue
		}
		out.Profiles[name] = data
	}
	if s.upstream != nil {
		u := s.upstream.base.String()
		out.Upstream = &u
	}
	out.Log.Entries, out.Log.NextSeq = s.log.stats()
	body, err := json.Marshal(out)
	if err != nil {
		writePlainError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeBody(w, http.StatusOK, body)
}
