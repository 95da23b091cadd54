// Package panics logs panics that per-request handlers recover from.
//
// A handler of network input recovers a panic, counts it and serves on:
// one crafted request must not end the process. The log gets the first
// panic with its stack and then at most one a minute, so a client that
// can trigger one cannot flood the log; the count is the handler's.
package panics

import (
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// every is the least time between two logged panics.
const every = time.Minute

// Log logs recovered panics; the zero value is ready.
type Log struct {
	last   atomic.Int64 // Unix nanoseconds of the last logged panic; 0 none
	missed atomic.Uint64
}

// Recovered logs v, recovered in where (with the stack of the goroutine
// that panicked: call it in the deferred function), unless one was
// logged within the last minute; those left out are counted in the next
// line.
func (l *Log) Recovered(log *slog.Logger, where string, v any) {
	now := time.Now().UnixNano()
	last := l.last.Load()
	if last != 0 && now-last < int64(every) || !l.last.CompareAndSwap(last, now) {
		l.missed.Add(1)
		return
	}
	log.Error("recovered a panic; serving on", "where", where, "panic", v,
		"not_logged_since_last", l.missed.Swap(0), "stack", string(debug.Stack()))
}
