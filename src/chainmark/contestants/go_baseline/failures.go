package main

// How a failed call is described: its kind, and its message, bounded.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"unicode/utf8"
)

// errorKind classifies a failed call: "timeout" for a deadline (the error wraps
// context.DeadlineExceeded, is a net timeout, or the call's own deadline has passed, which
// makes any later failure its consequence), "connection" for a network error, else the Go
// type name of the innermost wrapped error.
func errorKind(ctx context.Context, err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return "connection"
	}
	inner := err
	for {
		next := errors.Unwrap(inner)
		if next == nil {
			break
		}
		inner = next
	}
	return fmt.Sprintf("%T", inner)
}

// truncate shortens s to at most n characters.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
