package httpserver

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stalledBody is a head that promises a body it never sends.
const stalledBody = "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n"

// shortDeadlines is a Server with every deadline short.
func shortDeadlines() *Server {
	return &Server{Handler: echo{}, Responder: echo{}, ReadHeaderTimeout: 200 * time.Millisecond, IdleTimeout: 200 * time.Millisecond,
		ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond}
}

// closedBy reports whether the server closed c before the deadline:
// the read ends in EOF or a reset, not a timeout.
func closedBy(c net.Conn, deadline time.Time) bool {
	c.SetReadDeadline(deadline)
	_, err := io.Copy(io.Discard, c)
	return !isTimeout(err)
}

// TestServerClosesStalledBodies: connections whose heads promise a body
// that never comes are closed once the deadlines pass.
func TestServerClosesStalledBodies(t *testing.T) {
	srv := shortDeadlines()
	addr := serveOn(t, srv)
	conns := make([]net.Conn, 50)
	for i := range conns {
		conns[i] = dial(t, addr)
		if _, err := io.WriteString(conns[i], stalledBody); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	open := 0
	for _, c := range conns {
		if !closedBy(c, deadline) {
			open++
		}
	}
	if open > 0 {
		t.Fatalf("%d of %d connections with a stalled body still open 5 s on", open, len(conns))
	}
	waitClosed(t, srv, 5*time.Second)
}

// TestServerClosesNonReaders: a client that pipelines requests and never
// reads a reply loses its connection once a reply cannot be written in
// time, on the fast path (/echo) and through net/http (/page). The
// client cannot tell (the server's kernel may keep the closed socket
// and its unsent replies), so the server's count of open connections
// says.
func TestServerClosesNonReaders(t *testing.T) {
	for _, path := range []string{"/echo", "/page"} {
		t.Run(path[1:], func(t *testing.T) {
			srv := shortDeadlines()
			c := dial(t, serveOn(t, srv))
			c.(*net.TCPConn).SetReadBuffer(4096)
			req := []byte("GET " + path + "?" + strings.Repeat("q", 200) + " HTTP/1.1\r\nHost: t\r\n\r\n")
			batch := bytes.Repeat(req, 256)
			c.SetWriteDeadline(time.Now().Add(time.Second))
			var err error
			for i := 0; i < 100000 && err == nil; i++ {
				_, err = c.Write(batch)
			}
			if !isTimeout(err) && srv.Stats().Open != 0 {
				t.Fatalf("write failed (%v) but the server holds the connection", err)
			}
			waitClosed(t, srv, 10*time.Second)
		})
	}
}

// waitClosed waits until srv holds no connection, for at most d.
func waitClosed(t *testing.T, srv *Server, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); srv.Stats().Open > 0; {
		if time.Now().After(end) {
			t.Fatalf("the server holds %d connections %v on", srv.Stats().Open, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// raiseFiles makes room for n more descriptors, or skips the test.
func raiseFiles(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip("descriptor limit unknown:", err)
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		t.Skipf("descriptor limit %d below the %d the test needs", lim.Max, n)
	}
	old := lim
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip("cannot raise the descriptor limit:", err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// flood opens n connections from the loopback address local, each
// sending head, and leaves them open.
func flood(t *testing.T, addr, local string, n int, head string) []net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", len(conns), err)
		}
		conns = append(conns, c)
		io.WriteString(c, head) // a refused one may be reset already
	}
	return conns
}

// TestServerUnderConnectionFlood: 1,000 connections with stalled bodies
// fill the bound on held connections; the rest are refused and counted,
// a plain request is still answered, and the held ones are closed once
// their deadlines pass.
func TestServerUnderConnectionFlood(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("a plain request is answered unheld by the Linux accept loop only")
	}
	raiseFiles(t, 4096)
	srv := shortDeadlines()
	srv.ReadTimeout = 2 * time.Second
	srv.MaxConns = 100
	addr := serveOn(t, srv)
	conns := flood(t, addr, "127.0.0.1", 1000, stalledBody)

	resp, body := exchange(t, addr, "GET /echo?a=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
	if resp.StatusCode != http.StatusOK || body != "GET /echo?a=1" {
		t.Fatalf("plain request under the flood: %d %q", resp.StatusCode, body)
	}
	st := srv.Stats()
	if st.Open > 100 || st.RefusedTotal == 0 {
		t.Fatalf("under the flood: %+v", st)
	}
	deadline := time.Now().Add(10 * time.Second)
	for i, c := range conns {
		if !closedBy(c, deadline) {
			t.Fatalf("flood connection %d still open 10 s on", i)
		}
	}
	waitClosed(t, srv, 10*time.Second)
}

// TestServerPerPeerBound: one peer's flood is bounded by MaxConnsPerPeer
// and another peer is served, even with a head that comes in pieces
// (which needs a held connection).
func TestServerPerPeerBound(t *testing.T) {
	raiseFiles(t, 2048)
	srv := shortDeadlines()
	srv.ReadTimeout = 5 * time.Second
	srv.MaxConnsPerPeer = 20
	addr := serveOn(t, srv)
	flood(t, addr, "127.0.0.1", 200, stalledBody)
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /echo?b=2 HTTP/1.1\r\n")
	time.Sleep(50 * time.Millisecond) // the rest of the head in a second segment
	io.WriteString(c, "Host: t\r\n\r\n")
	resp, body := readResponse(t, bufio.NewReader(c), false)
	if resp.StatusCode != http.StatusOK || body != "GET /echo?b=2" {
		t.Fatalf("other peer: %d %q", resp.StatusCode, body)
	}
	if st := srv.Stats(); st.RefusedPeer == 0 || st.Open > 21 {
		t.Fatalf("after one peer's flood: %+v", st)
	}
}

// TestServerOutOfDescriptors: accepts that fail for want of descriptors
// are counted and paused between (not a busy loop), and the server
// serves again once descriptors are free.
func TestServerOutOfDescriptors(t *testing.T) {
	srv := served()
	addr := serveOn(t, srv)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	old := lim
	// Leave room for the client's descriptors but none for the server's.
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	lim.Cur = uint64(len(fds) + 4)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	restored := false
	restore := func() {
		if !restored {
			syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
			restored = true
		}
	}
	defer restore()
	var conns []net.Conn
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		defer c.Close()
		io.WriteString(c, "GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
		conns = append(conns, c)
	}
	for end := time.Now().Add(5 * time.Second); srv.Stats().AcceptErrors == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			restore()
			t.Fatalf("no accept failed with %d connections at the descriptor limit", len(conns))
		}
	}
	time.Sleep(300 * time.Millisecond)
	errs := srv.Stats().AcceptErrors
	restore()
	t.Logf("%d failed accepts with %d connections at the descriptor limit", errs, len(conns))
	if errs > 1000 {
		t.Fatalf("%d failed accepts: the accept loop does not pause", errs)
	}
	for _, c := range conns {
		c.Close()
	}
	resp, _ := exchange(t, addr, "GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after the descriptors came back: %d", resp.StatusCode)
	}
}

// TestServerBoundsOtherPaths: the bound on held connections and the
// deadlines hold on the portable path (a Unix socket) and with no
// Responder (net/http alone) as on the Linux accept loop.
func TestServerBoundsOtherPaths(t *testing.T) {
	cases := map[string]struct {
		network string
		srv     *Server
	}{
		"portable": {"unix", shortDeadlines()},
		"net/http": {"tcp", shortDeadlines()},
	}
	cases["net/http"].srv.Responder = nil
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := tc.srv
			srv.MaxConns = 5
			srv.ReadTimeout = time.Second
			addr := "127.0.0.1:0"
			if tc.network == "unix" {
				addr = filepath.Join(t.TempDir(), "s.sock")
			}
			ln, err := net.Listen(tc.network, addr)
			if err != nil {
				t.Skipf("cannot listen on %s: %v", tc.network, err)
			}
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			t.Cleanup(func() { srv.Close(); <-done })
			var conns []net.Conn
			for range 20 {
				c, err := net.Dial(tc.network, ln.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				io.WriteString(c, stalledBody)
				conns = append(conns, c)
			}
			deadline := time.Now().Add(10 * time.Second)
			for i, c := range conns {
				if !closedBy(c, deadline) {
					t.Fatalf("connection %d still open 10 s on", i)
				}
			}
			if st := srv.Stats(); st.RefusedTotal == 0 {
				t.Fatalf("20 stalled connections over a bound of 5, none refused: %+v", st)
			}
			waitClosed(t, srv, 10*time.Second)
		})
	}
}
