package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestServesTheConstantReply(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(2)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	defer func() {
		s.Close()
		<-done
	}()
	for _, path := range []string{"/a?info_hash=x", "/announce"} {
		resp, err := http.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := "d8:intervali1620e5:peers64:" + strings.Repeat("p", 64) + "e"
		if err != nil || resp.StatusCode != http.StatusOK || string(body) != want {
			t.Fatalf("%s: %d %q, %v; want 200 %q", path, resp.StatusCode, body, err, want)
		}
	}
}
