package httptracker

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/httpserver"
	"github.com/go-i2p/go-opentracker/tracker"
)

// TestHandlerPanicCounted: an announce that makes the swarm model panic
// is answered 500 and counted (handler_panic), on the httpserver's fast
// path (which then closes the connection) and through net/http alike,
// and the tracker serves the next requests.
func TestHandlerPanicCounted(t *testing.T) {
	sw := newSwarms()
	sw.panicOn = &tracker.InfoHash{0xba, 0xd0}
	h := New(Config{}, sw)
	d := newDest(t)
	crafted := "GET " + announceTarget(d, string(sw.panicOn[:]), "0") + " HTTP/1.1\r\nHost: t\r\n\r\n"
	good := "GET " + announceTarget(d, strings.Repeat("i", 20), "0") + " HTTP/1.1\r\nHost: t\r\n\r\n"
	for name, srv := range map[string]interface {
		Serve(net.Listener) error
		Close() error
	}{"fast path": &httpserver.Server{Handler: h, Responder: h}, "net/http": &http.Server{Handler: h}} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		before := h.Stats().Snapshot().Failures["handler_panic"]
		for range 2 {
			resp, _ := exchangeOnce(t, ln.Addr().String(), crafted)
			if resp.StatusCode != http.StatusInternalServerError {
				t.Fatalf("%s: crafted announce answered %d", name, resp.StatusCode)
			}
			if name == "fast path" && !resp.Close {
				t.Fatalf("%s: the connection stays open after a panic", name)
			}
		}
		if n := h.Stats().Snapshot().Failures["handler_panic"] - before; n != 2 {
			t.Fatalf("%s: %d panics counted, want 2", name, n)
		}
		resp, body := exchangeOnce(t, ln.Addr().String(), good)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "8:intervali") {
			t.Fatalf("%s: a good announce after the panics: %d %q", name, resp.StatusCode, body)
		}
	}
}

// exchangeOnce sends raw on a new connection and reads one response.
func exchangeOnce(t *testing.T, addr, raw string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// fatalChild names the environment variable under which this test binary
// plays the tracker whose swarm model raises a panics.Fatal.
const fatalChild = "GO_OPENTRACKER_HTTP_FATAL_CHILD"

// TestFatalPanicEndsProcess: a panic the swarm model marks fatal is not
// served on, even through net/http, which recovers every handler's
// panic: the process ends. The process is this test binary, run again as
// a child that serves the crafted announce to itself.
func TestFatalPanicEndsProcess(t *testing.T) {
	if os.Getenv(fatalChild) != "" {
		sw := newSwarms()
		sw.panicOn, sw.fatal = &tracker.InfoHash{0xba, 0xd1}, true
		h := New(Config{}, sw)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go (&http.Server{Handler: h}).Serve(ln)
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "GET "+announceTarget(newDest(t), string(sw.panicOn[:]), "0")+" HTTP/1.1\r\nHost: t\r\n\r\n")
		time.Sleep(10 * time.Second) // the panic ends the process long before
		t.Fatal("the process outlived a fatal panic behind net/http")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestFatalPanicEndsProcess$")
	cmd.Env = append(os.Environ(), fatalChild+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "fatal, not recovered: state left half done") || strings.Contains(string(out), "outlived") {
		t.Fatalf("the child did not end by the fatal panic (%v):\n%s", err, out)
	}
}
