package panics

import (
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
)

// maxFrames bounds how deep Within looks into the panicking stack.
const maxFrames = 128

// Within reports, when called from a deferred function while a panic
// unwinds, whether the panicking goroutine was running code of the package with
// import path pkg. A handler uses it to tell a panic it may serve on
// from one that left state it cannot trust (a lock held, an index half
// updated): that one must end the process, so that it restarts.
func Within(pkg string) bool {
	pcs := make([]uintptr, maxFrames)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	prefix := pkg + "."
	for {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, prefix) {
			return true
		}
		if !more {
			return false
		}
	}
}

// Fatal wraps a panic that must end the process: one that left state
// nobody can trust. Every handler that recovers panics raises a Fatal
// again instead of serving on, so the decision made where the panic was
// understood holds in every layer above.
type Fatal struct{ Value any }

// Raise panics with v as a Fatal (keeping one that already is).
func Raise(v any) {
	if f, ok := v.(Fatal); ok {
		panic(f)
	}
	panic(Fatal{Value: v})
}

// String is what the runtime prints of a Fatal that ends the process.
func (f Fatal) String() string { return fmt.Sprintf("fatal, not recovered: %v", f.Value) }

// IsFatal reports whether a recovered value is a Fatal.
func IsFatal(v any) bool {
	_, ok := v.(Fatal)
	return ok
}

// Escape ends the process with a Fatal where the caller's caller would
// recover a panic and serve on (net/http recovers every handler's): it
// logs v with the stack where it was recovered, then raises the Fatal on
// a goroutine of its own, where nothing can recover it. It does not
// return.
func Escape(log *slog.Logger, where string, v any) {
	log.Error("a panic left state that cannot be trusted; ending the process", "where", where, "panic", v, "stack", string(debug.Stack()))
	go Raise(v)
	select {} // the raise ends the process

}
