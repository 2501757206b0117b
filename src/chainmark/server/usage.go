package main

import (
	"net/http"
	"syscall"
)

// usageHandler reports the server's own CPU so far. The harness reads it before a contestant
// starts and after it exits: getrusage has microsecond resolution, where /proc's clock ticks
// (10 ms) cannot see a few hundred requests of tens of microseconds each.
func (s *Server) usageHandler(w http.ResponseWriter, r *http.Request) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		writePlainError(w, http.StatusInternalServerError, "getrusage: "+err.Error())
		return
	}
	user := float64(ru.Utime.Nano()) / 1e9
	system := float64(ru.Stime.Nano()) / 1e9
	b := append([]byte(nil), `{"cpu_user_s":`...)
	b = appendFloat(b, user, 64)
	b = append(b, `,"cpu_system_s":`...)
	b = appendFloat(b, system, 64)
	b = append(b, `,"cpu_s":`...)
	b = appendFloat(b, user+system, 64)
	_, next := s.log.stats()
	// Requests logged so far (sequence numbers start at 1 and survive resets).
	b = append(b, `,"logged_requests":`...)
	b = appendInt(b, next-1)
	b = append(b, '}')
	writeBody(w, http.StatusOK, b)
}
