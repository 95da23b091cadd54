package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/plugin"
)

func TestIdentityCreatedOnceAndKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var out1, out2, errs bytes.Buffer
	if code := run(context.Background(), []string{"--identity", "--data", dir}, &out1, &errs); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	keys, err := i2p.ReadPrivateKeyFile(filepath.Join(dir, plugin.KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out1.String(), keys.Destination.B32()) || !strings.Contains(out1.String(), keys.Destination.Base64()) {
		t.Fatalf("output does not show the identity:\n%s", out1.String())
	}
	if code := run(context.Background(), []string{"--identity", "--data", dir}, &out2, &errs); code != exitOK {
		t.Fatalf("second run exit %d", code)
	}
	if out1.String() != out2.String() {
		t.Fatal("identity changed between runs")
	}
}

func TestCorruptKeyFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, plugin.KeyFileName), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"--data", dir, "--http", "127.0.0.1:0", "--console", "127.0.0.1:0"}, &out, &errs); code != exitError {
		t.Fatalf("exit %d, want %d", code, exitError)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, plugin.KeyFileName)); string(b) != "garbage" {
		t.Fatal("corrupt key file was replaced")
	}
}

func TestUsage(t *testing.T) {
	var out, errs bytes.Buffer
	for _, args := range [][]string{{"--nope"}, {"serve-everything"}, {"--log-level", "loud"}} {
		if code := run(context.Background(), args, &out, &errs); code != exitUsage {
			t.Fatalf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	out.Reset()
	if code := run(context.Background(), []string{"--version"}, &out, &errs); code != exitOK || !strings.HasPrefix(out.String(), "go-opentracker ") {
		t.Fatalf("--version: %d %q", code, out.String())
	}
}

// syncBuffer is an io.Writer the test can read while run writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// startRun runs the command in the background and returns the console
// URL it prints.
func startRun(t *testing.T, args ...string) (consoleURL string, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errs := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, out, errs) }()
	deadline := time.Now().Add(20 * time.Second)
	for consoleURL == "" {
		sc := bufio.NewScanner(strings.NewReader(out.String()))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "console:"); ok {
				consoleURL = strings.TrimSpace(v)
			}
		}
		select {
		case code := <-done:
			t.Fatalf("exited early with %d:\n%s\n%s", code, out.String(), errs.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no console URL printed:\n%s\n%s", out.String(), errs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return consoleURL, func() int { cancel(); return <-done }
}

type apiStatus struct {
	Router   struct{ State string }
	Totals   struct{ Peers, Swarms uint64 }
	Counters struct{ UDPAnnounces, HTTPAnnounces uint64 }
}

func status(t *testing.T, consoleURL string) apiStatus {
	t.Helper()
	resp, err := http.Get(consoleURL + "api/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s apiStatus
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return s
}

// TestNoRouter: with nothing listening on the I2CP address the tracker
// still starts, serves its console, and says it is disconnected.
func TestNoRouter(t *testing.T) {
	console, stop := startRun(t, "--data", t.TempDir(), "--i2cp", "127.0.0.1:1", "--http", "127.0.0.1:0", "--console", "127.0.0.1:0")
	deadline := time.Now().Add(10 * time.Second)
	for status(t, console).Router.State != "disconnected" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if st := status(t, console); st.Router.State != "disconnected" {
		t.Fatalf("router state %q", st.Router.State)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d", code)
	}
}

// TestDemo: the demo shows live traffic on the console within seconds.
func TestDemo(t *testing.T) {
	console, stop := startRun(t, "demo", "--http", "127.0.0.1:0", "--console", "127.0.0.1:0", "--clients", "30")
	deadline := time.Now().Add(20 * time.Second)
	var st apiStatus
	for time.Now().Before(deadline) {
		st = status(t, console)
		if st.Counters.UDPAnnounces > 10 && st.Counters.HTTPAnnounces > 2 && st.Totals.Peers > 5 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.Counters.UDPAnnounces <= 10 || st.Counters.HTTPAnnounces <= 2 || st.Router.State != "LeaseSet published" {
		t.Fatalf("demo traffic not visible: %+v", st)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d", code)
	}
}
