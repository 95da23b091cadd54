package httpserver

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/internal/panics"
	"github.com/go-i2p/go-opentracker/internal/syncbuf"
)

// echo answers /echo (its method, path, query and X-Test values) and
// /forbidden (403) the same way through its Responder and through
// net/http; every other path is a page only net/http serves.
type echo struct{}

func (echo) Respond(dst []byte, r *Request) (int, []byte, bool) {
	var tests []string
	for name, value := range r.Headers() {
		if strings.EqualFold(name, "X-Test") {
			tests = append(tests, value)
		}
	}
	return echoBody(dst, r.Method, r.Path, r.RawQuery, tests)
}

func (echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, body, handled := echoBody(nil, r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Values("X-Test"))
	if !handled {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "page "+r.Method+" "+r.URL.Path)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func echoBody(dst []byte, method, path, query string, tests []string) (int, []byte, bool) {
	switch path {
	case "/echo":
		dst = append(dst, method+" "+path+"?"+query...)
		for _, v := range tests {
			dst = append(dst, " x-test="+v...)
		}
		return http.StatusOK, dst, true
	case "/forbidden":
		return http.StatusForbidden, append(dst, "forbidden\n"...), true
	}
	return 0, dst, false
}

// served is a Server over echo, as a host sets one up.
func served() *Server { return &Server{Handler: echo{}, Responder: echo{}} }

// serveOn starts srv (a *Server or an *http.Server) on a loopback port.
func serveOn(t *testing.T, srv interface {
	Serve(net.Listener) error
	Close() error
}) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		select {
		case err := <-done:
			if !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
				t.Errorf("Serve returned %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after Close")
		}
	})
	return ln.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// exchange sends raw on a new connection and reads one response.
func exchange(t *testing.T, addr, raw string) (*http.Response, string) {
	t.Helper()
	c := dial(t, addr)
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	return readResponse(t, bufio.NewReader(c), strings.HasPrefix(raw, "HEAD"))
}

func readResponse(t *testing.T, br *bufio.Reader, head bool) (*http.Response, string) {
	t.Helper()
	method := http.MethodGet
	if head {
		method = http.MethodHead
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// TestServerAgreesWithNetHTTP sends the same raw requests to the fast
// server and to net/http over the same handler: every status, body and
// Connection header must agree.
func TestServerAgreesWithNetHTTP(t *testing.T) {
	ann := "/echo?info_hash=%01%02&ip=" + strings.Repeat("A", 516) + ".i2p"
	long := "GET " + ann + " HTTP/1.1\r\nHost: t\r\nX-Padding: " + strings.Repeat("p", 10<<10) + "\r\nConnection: close\r\n\r\n"
	requests := map[string]string{
		"announce":          "GET " + ann + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"announce 1.0":      "GET " + ann + " HTTP/1.0\r\n\r\n",
		"head":              "HEAD " + ann + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"lower-case names":  "GET " + ann + " HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
		"header values":     "GET /echo HTTP/1.1\r\nHost: t\r\nX-Test:  one \t\r\nx-test: two\r\nConnection: close\r\n\r\n",
		"empty header":      "GET /echo HTTP/1.1\r\nHost: t\r\nX-Test:\r\nX-Test: x\r\nConnection: close\r\n\r\n",
		"forbidden":         "GET /forbidden HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"forbidden head":    "HEAD /forbidden HTTP/1.0\r\n\r\n",
		"no query":          "GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"page":              "GET /stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"post":              "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab",
		"escaped path":      "GET /%65cho?x=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"bare LF":           "GET /echo?info_hash=iiiiiiiiiiiiiiiiiiii HTTP/1.1\nHost: t\nConnection: close\n\n",
		"no host":           "GET /echo HTTP/1.1\r\nConnection: close\r\n\r\n",
		"bad host":          "GET /echo HTTP/1.1\r\nHost: a/b\r\nConnection: close\r\n\r\n",
		"two hosts":         "GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
		"head over 8 KiB":   long,
		"folded header":     "GET /echo HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n 2\r\nConnection: close\r\n\r\n",
		"absolute target":   "GET http://t/scrape HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"HTTP/2 preface":    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"garbage":           "\x00\x01\x02\r\n\r\n",
		"chunked get":       "GET /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
		"bad header name":   "GET /echo HTTP/1.1\r\nHost: t\r\nBad Name: x\r\nConnection: close\r\n\r\n",
		"keep-alive in 1.0": "GET /echo?info_hash=iiiiiiiiiiiiiiiiiiii HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		"LF then CRLF":      "GET /echo HTTP/1.1\r\nHost: t\n\r\n",
		"1.0, LF then CRLF": "GET /echo HTTP/1.0\n\r\n",
		"bare CR":           "GET /echo HTTP/1.1\r\nHost: t\rX: y\r\nConnection: close\r\n\r\n",
	}
	fastAddr := serveOn(t, served())
	stdAddr := serveOn(t, &http.Server{Handler: echo{}})
	for name, raw := range requests {
		t.Run(name, func(t *testing.T) {
			fr, fb := exchange(t, fastAddr, raw)
			sr, sb := exchange(t, stdAddr, raw)
			if fr.StatusCode != sr.StatusCode || fb != sb || fr.Close != sr.Close || fr.Proto != sr.Proto {
				t.Fatalf("fast: %s %d close=%v %q\nnet/http: %s %d close=%v %q", fr.Proto, fr.StatusCode, fr.Close, fb, sr.Proto, sr.StatusCode, sr.Close, sb)
			}
			if fr.StatusCode == http.StatusOK && fr.Header.Get("Content-Type") != sr.Header.Get("Content-Type") {
				t.Fatalf("content type %q, net/http %q", fr.Header.Get("Content-Type"), sr.Header.Get("Content-Type"))
			}
		})
	}
}

// TestServerConnections covers a connection that outlives its first
// request: kept alive, pipelined, sent in pieces, switching to a page.
func TestServerConnections(t *testing.T) {
	addr := serveOn(t, served())
	scrape := "GET /echo?info_hash=iiiiiiiiiiiiiiiiiiii HTTP/1.1\r\nHost: t\r\n\r\n"

	t.Run("kept alive", func(t *testing.T) {
		c := dial(t, addr)
		br := bufio.NewReader(c)
		for i := range 3 {
			io.WriteString(c, scrape)
			if resp, body := readResponse(t, br, false); resp.StatusCode != 200 || resp.Close || !strings.HasPrefix(body, "GET /echo?info_hash=") {
				t.Fatalf("request %d: %d close=%v %q", i, resp.StatusCode, resp.Close, body)
			}
		}
		io.WriteString(c, "GET /help HTTP/1.1\r\nHost: t\r\n\r\n") // net/http takes over
		if _, body := readResponse(t, br, false); body != "page GET /help" {
			t.Fatalf("page after announces: %q", body)
		}
		io.WriteString(c, scrape+"") // and answers the next as well
		if _, body := readResponse(t, br, false); !strings.HasPrefix(body, "GET /echo?info_hash=") {
			t.Fatalf("scrape after the page: %q", body)
		}
	})
	t.Run("pipelined", func(t *testing.T) {
		c := dial(t, addr)
		io.WriteString(c, scrape+scrape+strings.Replace(scrape, "\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1))
		br := bufio.NewReader(c)
		for i := range 3 {
			resp, body := readResponse(t, br, false)
			if resp.StatusCode != 200 || !strings.HasPrefix(body, "GET /echo?info_hash=") || resp.Close != (i == 2) {
				t.Fatalf("reply %d: %d close=%v %q", i, resp.StatusCode, resp.Close, body)
			}
		}
		if n, err := br.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("connection still open after Connection: close (%d, %v)", n, err)
		}
	})
	t.Run("in pieces", func(t *testing.T) {
		c := dial(t, addr)
		raw := strings.Replace(scrape, "\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1)
		for _, piece := range []string{raw[:5], raw[5:30], raw[30:]} {
			io.WriteString(c, piece)
			time.Sleep(20 * time.Millisecond)
		}
		if resp, body := readResponse(t, bufio.NewReader(c), false); resp.StatusCode != 200 || !strings.HasPrefix(body, "GET /echo?info_hash=") {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
	})
	t.Run("silent client", func(t *testing.T) {
		// Connects, waits, then speaks: the kernel hands the connection
		// over before the request (TCP_DEFER_ACCEPT ends) or with it.
		c := dial(t, addr)
		time.Sleep(50 * time.Millisecond)
		io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
		if _, body := readResponse(t, bufio.NewReader(c), false); body != "page GET /" {
			t.Fatalf("%q", body)
		}
	})
}

// TestServerSlowHead: a head sent a byte at a time gets ReadHeaderTimeout
// in all, not per byte.
func TestServerSlowHead(t *testing.T) {
	addr := serveOn(t, &Server{Handler: echo{}, Responder: echo{}, ReadHeaderTimeout: 300 * time.Millisecond})
	c := dial(t, addr)
	start := time.Now()
	raw := "GET /echo HTTP/1.1\r\nHost: t\r\nX-Slow: " + strings.Repeat("s", 100)
	for i := range len(raw) {
		if _, err := io.WriteString(c, raw[i:i+1]); err != nil {
			break // closed by the server
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("a head trickling in kept its connection for 5 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil || isTimeout(err) {
		t.Fatalf("connection not closed by the server (%d, %v)", n, err)
	}
}

// panicky is a Responder that panics.
type panicky struct{}

func (panicky) Respond(dst []byte, r *Request) (int, []byte, bool) { panic("broken handler") }

// TestServerRecovers: a Responder that panics costs its request a 500
// and its connection, not the server; the log gets the first panic, not
// one line per request.
func TestServerRecovers(t *testing.T) {
	var log syncbuf.Buffer
	addr := serveOn(t, &Server{Handler: echo{}, Responder: panicky{}, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	for range 3 {
		resp, _ := exchange(t, addr, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n")
		if resp.StatusCode != http.StatusInternalServerError || !resp.Close {
			t.Fatalf("%d close=%v", resp.StatusCode, resp.Close)
		}
	}
	if n := strings.Count(log.String(), "broken handler"); n != 1 {
		t.Fatalf("%d panics logged of 3, want 1:\n%s", n, log.String())
	}
}

// fatalResponder raises a panics.Fatal: state nobody can trust.
type fatalResponder struct{}

func (fatalResponder) Respond([]byte, *Request) (int, []byte, bool) {
	panics.Raise("responder state half done")
	return 0, nil, false
}

// fatalChild names the environment variable under which this test binary
// plays the server whose Responder raises a panics.Fatal.
const fatalChild = "GO_OPENTRACKER_HTTPSERVER_FATAL_CHILD"

// TestFatalPanicEndsProcess: a panics.Fatal from the Responder is not
// served on: the process ends, on the accept loop's path (a whole
// request) and on a kept connection's goroutine alike. The process is
// this test binary, run again as a child that sends itself the request.
func TestFatalPanicEndsProcess(t *testing.T) {
	if mode := os.Getenv(fatalChild); mode != "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go (&Server{Handler: echo{}, Responder: fatalResponder{}}).Serve(ln)
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		head := "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n"
		if mode == "split" { // the head in two pieces: a goroutine reads the rest
			io.WriteString(c, head[:10])
			time.Sleep(100 * time.Millisecond)
			head = head[10:]
		}
		io.WriteString(c, head)
		time.Sleep(10 * time.Second) // the panic ends the process long before
		t.Fatal("the process outlived a fatal panic")
	}
	for _, mode := range []string{"whole", "split"} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestFatalPanicEndsProcess$")
		cmd.Env = append(os.Environ(), fatalChild+"="+mode)
		out, err := cmd.CombinedOutput()
		cancel()
		if err == nil || !strings.Contains(string(out), "fatal, not recovered: responder state half done") || strings.Contains(string(out), "outlived") {
			t.Fatalf("%s: the child did not end by the fatal panic (%v):\n%s", mode, err, out)
		}
	}
}

// TestServerClose: Close ends Serve and every connection, kept or not.
func TestServerClose(t *testing.T) {
	srv := served()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	kept := dial(t, ln.Addr().String())
	io.WriteString(kept, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n")
	br := bufio.NewReader(kept)
	readResponse(t, br, false)
	page := dial(t, ln.Addr().String())
	io.WriteString(page, "GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
	readResponse(t, bufio.NewReader(page), false)

	srv.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrServerClosed) {
			t.Fatalf("Serve returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	for name, c := range map[string]net.Conn{"kept": kept, "page": page} {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, net.ErrClosed) || isTimeout(err) {
			t.Fatalf("%s connection not closed by the server: %v", name, err)
		}
	}
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Fatal("listener still accepts after Close")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestServerPortablePath: a listener that is not TCP is served by the
// portable path (a goroutine a connection, the same parser), as every
// listener is off Linux.
func TestServerPortablePath(t *testing.T) {
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "server.sock"))
	if err != nil {
		t.Skipf("no Unix sockets here: %v", err)
	}
	srv := served()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	c, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	io.WriteString(c, "GET /echo?info_hash=iiiiiiiiiiiiiiiiiiii HTTP/1.1\r\nHost: t\r\n\r\n")
	if resp, body := readResponse(t, br, false); resp.StatusCode != 200 || !strings.HasPrefix(body, "GET /echo?info_hash=") {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	io.WriteString(c, "GET /help HTTP/1.1\r\nHost: t\r\n\r\n")
	if _, body := readResponse(t, br, false); body != "page GET /help" {
		t.Fatalf("page: %q", body)
	}
	srv.Close()
	if err := <-done; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve returned %v", err)
	}
}

// TestServerWithoutResponder: with no Responder, net/http serves
// every request, even one the Handler's own fast path would take.
func TestServerWithoutResponder(t *testing.T) {
	addr := serveOn(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "plain "+r.URL.Path)
	})})
	if _, body := exchange(t, addr, "GET /echo HTTP/1.0\r\n\r\n"); body != "plain /echo" {
		t.Fatalf("%q", body)
	}
	addr = serveOn(t, &Server{Handler: echo{}})
	if _, body := exchange(t, addr, "GET /echo HTTP/1.0\r\n\r\n"); body != "GET /echo?" {
		t.Fatalf("%q", body)
	}
}

func TestParseRequest(t *testing.T) {
	var r Request
	head := "GET /a?x=1 HTTP/1.1\r\nHost: t\r\nX-Dest: h1\r\nx-dest:\th2 \r\nConnection: Keep-Alive, close\r\n\r\n"
	n, err := ParseRequest([]byte(head+"rest"), &r)
	if err != nil || n != len(head) {
		t.Fatal(n, err)
	}
	if r.Method != "GET" || r.Path != "/a" || r.RawQuery != "x=1" || !r.Close || r.http10 {
		t.Fatalf("%+v", r)
	}
	var got []string
	for name, value := range r.Headers() {
		got = append(got, name+"="+value)
	}
	if want := []string{"Host=t", "X-Dest=h1", "x-dest=h2", "Connection=Keep-Alive, close"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("headers %q, want %q", got, want)
	}
	if _, err := ParseRequest([]byte("GET /a HTTP/1.1\r\nHost: t\r\n"), &r); err != ErrIncomplete {
		t.Fatal(err)
	}
	if _, err := ParseRequest([]byte("GET /a HTTP/1.1\r\nHost: t\r\nX: "+strings.Repeat("y", maxHead)), &r); err != ErrNotPlain {
		t.Fatal(err)
	}
}

// FuzzParseRequest: the fast parser never panics, and whatever it
// accepts, net/http reads the same way: method, target, version,
// whether to close, and every header value in order.
func FuzzParseRequest(f *testing.F) {
	f.Add([]byte("GET /a?info_hash=%01&ip=AAAA HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"))
	f.Add([]byte("HEAD /scrape HTTP/1.0\r\nConnection: keep-alive\r\nX-I2P-DestB64: AAAA\r\nX-Forwarded-For: 1\r\n\r\n"))
	f.Add([]byte("GET /a HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nX-I2P-DestB32: b\r\nX-I2P-DestHash: h\r\n\r\nGET"))
	f.Add([]byte("POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"))
	f.Add([]byte("GET /a HTTP/1.1\nHost: t\n\n"))
	f.Add([]byte("GET /a HTTP/1.1\r\nHost: t\r\nX-I2P-DestHash:\r\nX-I2P-DestHash: h\r\nX-Forwarded-For:\r\nX-Forwarded-For: 1\r\n\r\n"))
	f.Add([]byte("GET /a HTTP/1.0\r\nPragma: no-cache\r\nx-a: \t1\t\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Request
		n, err := ParseRequest(b, &r)
		if err != nil {
			if err != ErrIncomplete && err != ErrNotPlain {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if n > len(b) || n > maxHead || r.Path == "" || r.Path[0] != '/' {
			t.Fatalf("n=%d of %d, %+v", n, len(b), r)
		}
		std, err := http.ReadRequest(bufio.NewReader(strings.NewReader(string(b[:n]))))
		if err != nil {
			t.Fatalf("accepted what net/http refuses (%v): %q", err, b[:n])
		}
		if r.Method != std.Method || r.Path != std.URL.Path || r.RawQuery != std.URL.RawQuery || r.Close != std.Close || r.http10 != (std.ProtoMinor == 0) {
			t.Fatalf("parsed %+v\nnet/http %s %s %q close=%v %s\nfrom %q", r, std.Method, std.URL.Path, std.URL.RawQuery, std.Close, std.Proto, b[:n])
		}
		got := http.Header{}
		for name, value := range r.Headers() {
			got.Add(name, value)
		}
		if host := got.Get("Host"); host != std.Host {
			t.Fatalf("host %q, net/http %q", host, std.Host)
		}
		want := maps.Clone(std.Header)
		delete(got, "Host")
		if _, ok := got["Cache-Control"]; !ok && got.Get("Pragma") == "no-cache" {
			delete(want, "Cache-Control") // net/http adds it for Pragma: no-cache
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("headers %q\nnet/http %q\nfrom %q", got, want, b[:n])
		}
	})
}

// BenchmarkParseRequest: a head the size of an I2P announce (a query
// with a 516-character Base64 Destination, a destination-hash header).
func BenchmarkParseRequest(b *testing.B) {
	dest, hash := make([]byte, 387), make([]byte, 32)
	rand.Read(dest)
	rand.Read(hash)
	raw := []byte("GET /a?compact=1&info_hash=iiiiiiiiiiiiiiiiiiii&ip=" + base64.URLEncoding.EncodeToString(dest) + "&left=0&peer_id=-XX0001-abcdefghijkl" +
		" HTTP/1.1\r\nHost: tracker.i2p\r\nUser-Agent: i2psnark\r\nX-I2P-DestHash: " + base64.URLEncoding.EncodeToString(hash) + "\r\nConnection: close\r\n\r\n")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	var r Request
	for b.Loop() {
		if _, err := ParseRequest(raw, &r); err != nil {
			b.Fatal(err)
		}
	}
}
