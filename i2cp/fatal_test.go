package i2cp_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/internal/panics"
)

// fatalChild names the environment variable under which this test binary
// plays the process whose handler raises a panics.Fatal.
const fatalChild = "GO_OPENTRACKER_I2CP_FATAL_CHILD"

// TestHandlerFatalEndsProcess: a handler that raises a panics.Fatal (its
// state cannot be trusted) is not served on: the panic goes through the
// session's recovery and ends the process, so that it restarts. The
// process is this test binary, run again as a child.
func TestHandlerFatalEndsProcess(t *testing.T) {
	if os.Getenv(fatalChild) != "" {
		r := newRouter(t)
		a, b, bob, _ := pair(t, r, i2cp.Config{})
		b.Handle(18, 7001, func(*i2cp.Message) { panics.Raise("state left half done") })
		if err := a.Send(bob.Destination, 18, 1, 7001, []byte("boom")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second) // the panic ends the process long before
		t.Fatal("the process outlived a Fatal panic in a handler")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHandlerFatalEndsProcess$")
	cmd.Env = append(os.Environ(), fatalChild+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the child exited 0:\n%s", out)
	}
	if !strings.Contains(string(out), "state left half done") || strings.Contains(string(out), "outlived") {
		t.Fatalf("the child did not end by the handler's panic (%v):\n%s", err, out)
	}
}
