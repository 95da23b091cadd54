package panics

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestRecoveredLogsFirstThenThrottles(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	var l Log
	for i := range 5 {
		func() {
			defer func() { l.Recovered(log, "test", recover()) }()
			panic(i)
		}()
	}
	out := buf.String()
	if n := strings.Count(out, "recovered a panic"); n != 1 {
		t.Fatalf("%d lines logged, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "panic=0") || !strings.Contains(out, "panics_test.go") {
		t.Fatalf("the line lacks the panic or its stack:\n%s", out)
	}
	if l.missed.Load() != 4 {
		t.Fatalf("missed %d, want 4", l.missed.Load())
	}
}
