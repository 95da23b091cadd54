package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestPprofLoopbackOnly: profiles are served on a loopback address and
// refused on any other.
func TestPprofLoopbackOnly(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	if _, err := startPprof("0.0.0.0:0", log); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("a wildcard address: %v", err)
	}
	// Find a free loopback port, then serve on it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	stop, err := startPprof(addr, log)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://" + addr + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "HeapAlloc") {
		t.Fatalf("heap profile: %d %.80q", resp.StatusCode, body)
	}
}
