package panics

import (
	"runtime"
	"strings"
)

// maxFrames bounds how deep Within looks into the panicking stack.
const maxFrames = 128

// Within, called from a deferred function while a panic unwinds, reports
// whether the panicking goroutine was running code of the package with
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
