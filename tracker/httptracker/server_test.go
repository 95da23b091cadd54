package httptracker

import (
	"bufio"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker"
)

// routes is what a host serves: the tracker's paths by the Handler (also
// through its Responder), a page for everything else.
type routes struct{ h *Handler }

func (r routes) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if IsAnnouncePath(req.URL.Path) || IsScrapePath(req.URL.Path) {
		r.h.ServeHTTP(w, req)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "page "+req.Method+" "+req.URL.Path)
}

func (r routes) Respond(dst []byte, req *Request) (int, []byte, bool) { return r.h.Respond(dst, req) }

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

func announceTarget(d i2p.Destination, info, left string) string {
	v := url.Values{}
	v.Set("info_hash", info)
	v.Set("peer_id", "-XX0001-abcdefghijkl")
	v.Set("left", left)
	v.Set("compact", "1")
	v.Set("ip", d.Base64())
	return "/a?" + v.Encode()
}

// TestServerAgreesWithNetHTTP sends the same raw requests to the fast
// server and to net/http over twin trackers: every status, body and
// Connection header must agree.
func TestServerAgreesWithNetHTTP(t *testing.T) {
	alice := newDest(t)
	ann := announceTarget(alice, strings.Repeat("i", 20), "0")
	long := "GET " + ann + " HTTP/1.1\r\nHost: t\r\nX-Padding: " + strings.Repeat("p", 10<<10) + "\r\nConnection: close\r\n\r\n"
	requests := map[string]string{
		"announce":          "GET " + ann + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"announce 1.0":      "GET " + ann + " HTTP/1.0\r\n\r\n",
		"head":              "HEAD " + ann + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"lower-case names":  "GET " + ann + " HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
		"tunnel header":     "GET /a?info_hash=iiiiiiiiiiiiiiiiiiii&peer_id=-XX0001-abcdefghijkl&left=3 HTTP/1.1\r\nHost: t\r\nX-I2P-DestB64: " + alice.Base64() + "\r\nConnection: close\r\n\r\n",
		"no info_hash":      "GET /announce?peer_id=-XX0001-abcdefghijkl HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"inproxy":           "GET " + ann + " HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 192.0.2.1\r\nConnection: close\r\n\r\n",
		"scrape":            "GET /scrape?info_hash=iiiiiiiiiiiiiiiiiiii HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"full scrape":       "GET /scrape HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"page":              "GET /stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"post":              "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab",
		"escaped path":      "GET /%61?info_hash=iiiiiiiiiiiiiiiiiiii&peer_id=-XX0001-abcdefghijkl&left=3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"bare LF":           "GET /scrape?info_hash=iiiiiiiiiiiiiiiiiiii HTTP/1.1\nHost: t\nConnection: close\n\n",
		"no host":           "GET /scrape HTTP/1.1\r\nConnection: close\r\n\r\n",
		"bad host":          "GET /scrape HTTP/1.1\r\nHost: a/b\r\nConnection: close\r\n\r\n",
		"two hosts":         "GET /scrape HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
		"head over 8 KiB":   long,
		"folded header":     "GET /scrape HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n 2\r\nConnection: close\r\n\r\n",
		"absolute target":   "GET http://t/scrape HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"HTTP/2 preface":    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"garbage":           "\x00\x01\x02\r\n\r\n",
		"chunked get":       "GET /scrape HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
		"bad header name":   "GET /scrape HTTP/1.1\r\nHost: t\r\nBad Name: x\r\nConnection: close\r\n\r\n",
		"keep-alive in 1.0": "GET /scrape?info_hash=iiiiiiiiiiiiiiiiiiii HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		"LF then CRLF":      "GET /scrape HTTP/1.1\r\nHost: t\n\r\n",
		"1.0, LF then CRLF": "GET /scrape HTTP/1.0\n\r\n",
		"bare CR":           "GET /scrape HTTP/1.1\r\nHost: t\rX: y\r\nConnection: close\r\n\r\n",
		"empty then tunnel": "GET /scrape?info_hash=iiiiiiiiiiiiiiiiiiii HTTP/1.1\r\nHost: t\r\nX-I2P-DestHash:\r\nX-I2P-DestHash: x\r\nConnection: close\r\n\r\n",
	}
	fastAddr := serveOn(t, &Server{Handler: routes{New(Config{}, newSwarms())}})
	stdAddr := serveOn(t, &http.Server{Handler: routes{New(Config{}, newSwarms())}})
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
	sw := newSwarms()
	addr := serveOn(t, &Server{Handler: routes{New(Config{}, sw)}})
	scrape := "GET /scrape?info_hash=iiiiiiiiiiiiiiiiiiii HTTP/1.1\r\nHost: t\r\n\r\n"

	t.Run("kept alive", func(t *testing.T) {
		c := dial(t, addr)
		br := bufio.NewReader(c)
		for i := range 3 {
			io.WriteString(c, scrape)
			if resp, body := readResponse(t, br, false); resp.StatusCode != 200 || resp.Close || !strings.HasPrefix(body, "d5:files") {
				t.Fatalf("request %d: %d close=%v %q", i, resp.StatusCode, resp.Close, body)
			}
		}
		io.WriteString(c, "GET /help HTTP/1.1\r\nHost: t\r\n\r\n") // net/http takes over
		if _, body := readResponse(t, br, false); body != "page GET /help" {
			t.Fatalf("page after announces: %q", body)
		}
		io.WriteString(c, scrape+"") // and answers the next as well
		if _, body := readResponse(t, br, false); !strings.HasPrefix(body, "d5:files") {
			t.Fatalf("scrape after the page: %q", body)
		}
	})
	t.Run("pipelined", func(t *testing.T) {
		c := dial(t, addr)
		io.WriteString(c, scrape+scrape+strings.Replace(scrape, "\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1))
		br := bufio.NewReader(c)
		for i := range 3 {
			resp, body := readResponse(t, br, false)
			if resp.StatusCode != 200 || !strings.HasPrefix(body, "d5:files") || resp.Close != (i == 2) {
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
		if resp, body := readResponse(t, bufio.NewReader(c), false); resp.StatusCode != 200 || !strings.HasPrefix(body, "d5:files") {
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
	addr := serveOn(t, &Server{Handler: routes{New(Config{}, newSwarms())}, ReadHeaderTimeout: 300 * time.Millisecond})
	c := dial(t, addr)
	start := time.Now()
	raw := "GET /scrape HTTP/1.1\r\nHost: t\r\nX-Slow: " + strings.Repeat("s", 100)
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

// panicky answers announces by panicking.
type panicky struct{ routes }

func (panicky) Respond(dst []byte, r *Request) (int, []byte, bool) { panic("broken handler") }

// TestServerRecovers: a Responder that panics costs its request a 500
// and its connection, not the server.
func TestServerRecovers(t *testing.T) {
	addr := serveOn(t, &Server{Handler: panicky{}})
	for range 2 {
		resp, _ := exchange(t, addr, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n")
		if resp.StatusCode != http.StatusInternalServerError || !resp.Close {
			t.Fatalf("%d close=%v", resp.StatusCode, resp.Close)
		}
	}
}

// TestServerClose: Close ends Serve and every connection, kept or not.
func TestServerClose(t *testing.T) {
	srv := &Server{Handler: routes{New(Config{}, newSwarms())}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	kept := dial(t, ln.Addr().String())
	io.WriteString(kept, "GET /scrape HTTP/1.1\r\nHost: t\r\n\r\n")
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
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "tracker.sock"))
	if err != nil {
		t.Skipf("no Unix sockets here: %v", err)
	}
	srv := &Server{Handler: routes{New(Config{}, newSwarms())}}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	c, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	io.WriteString(c, "GET /scrape?info_hash=iiiiiiiiiiiiiiiiiiii HTTP/1.1\r\nHost: t\r\n\r\n")
	if resp, body := readResponse(t, br, false); resp.StatusCode != 200 || !strings.HasPrefix(body, "d5:files") {
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

// TestServerWithoutResponder: a plain handler is served by net/http.
func TestServerWithoutResponder(t *testing.T) {
	addr := serveOn(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "plain "+r.URL.Path)
	})})
	if _, body := exchange(t, addr, "GET /a HTTP/1.0\r\n\r\n"); body != "plain /a" {
		t.Fatalf("%q", body)
	}
}

// TestServerAnnounces: announces through the fast path reach the swarm.
func TestServerAnnounces(t *testing.T) {
	sw := newSwarms()
	addr := serveOn(t, &Server{Handler: routes{New(Config{}, sw)}})
	alice, bob := newDest(t), newDest(t)
	info := strings.Repeat("s", 20)
	exchange(t, addr, "GET "+announceTarget(alice, info, "0")+" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
	_, body := exchange(t, addr, "GET "+announceTarget(bob, info, "7")+" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
	ah := alice.Hash()
	if want := "d8:completei1e10:incompletei1e8:intervali1620e5:peers32:" + string(ah[:]) + "e"; body != want {
		t.Fatalf("reply %q, want %q", body, want)
	}
	var ih tracker.InfoHash
	copy(ih[:], info)
	if r := sw.Scrape(ih); r.Seeders != 1 || r.Leechers != 1 {
		t.Fatalf("swarm has %d seeders, %d leechers", r.Seeders, r.Leechers)
	}
}

func TestParseRequest(t *testing.T) {
	var r Request
	n, err := parseRequest([]byte("GET /a?x=1 HTTP/1.1\r\nHost: t\r\nX-I2P-DestHash: h1\r\nx-i2p-desthash: h2\r\nConnection: Keep-Alive, close\r\n\r\nrest"), &r)
	if err != nil || n != len("GET /a?x=1 HTTP/1.1\r\nHost: t\r\nX-I2P-DestHash: h1\r\nx-i2p-desthash: h2\r\nConnection: Keep-Alive, close\r\n\r\n") {
		t.Fatal(n, err)
	}
	if r.Method != "GET" || r.Path != "/a" || r.RawQuery != "x=1" || r.DestHash != "h1" || !r.Close {
		t.Fatalf("%+v", r)
	}
	if _, err := parseRequest([]byte("GET /a HTTP/1.1\r\nHost: t\r\n"), &r); err != errIncomplete {
		t.Fatal(err)
	}
	if _, err := parseRequest([]byte("GET /a HTTP/1.1\r\nHost: t\r\nX: "+strings.Repeat("y", maxHead)), &r); err != errNotPlain {
		t.Fatal(err)
	}
}

// FuzzParseRequest: the fast parser never panics, and whatever it
// accepts, net/http reads the same way.
func FuzzParseRequest(f *testing.F) {
	f.Add([]byte("GET /a?info_hash=%01&ip=AAAA HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"))
	f.Add([]byte("HEAD /scrape HTTP/1.0\r\nConnection: keep-alive\r\nX-I2P-DestB64: AAAA\r\nX-Forwarded-For: 1\r\n\r\n"))
	f.Add([]byte("GET /a HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nX-I2P-DestB32: b\r\nX-I2P-DestHash: h\r\n\r\nGET"))
	f.Add([]byte("POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"))
	f.Add([]byte("GET /a HTTP/1.1\nHost: t\n\n"))
	f.Add([]byte("GET /a HTTP/1.1\r\nHost: t\r\nX-I2P-DestHash:\r\nX-I2P-DestHash: h\r\nX-Forwarded-For:\r\nX-Forwarded-For: 1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Request
		n, err := parseRequest(b, &r)
		if err != nil {
			if err != errIncomplete && err != errNotPlain {
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
		want := RequestFrom(std)
		if r != want {
			t.Fatalf("parsed %+v\nnet/http %+v\nfrom %q", r, want, b[:n])
		}
	})
}

// BenchmarkParseRequest: the head of an I2P announce (ip = a Base64
// Destination, as i2psnark sends through a server tunnel).
func BenchmarkParseRequest(b *testing.B) {
	k, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	raw := []byte("GET " + announceTarget(k.Destination, strings.Repeat("i", 20), "0") +
		" HTTP/1.1\r\nHost: tracker.i2p\r\nUser-Agent: i2psnark\r\nX-I2P-DestHash: " + k.Destination.Hash().Base64() + "\r\nConnection: close\r\n\r\n")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	var r Request
	for b.Loop() {
		if _, err := parseRequest(raw, &r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRespond: the tracker's work for one I2P announce (compact, 50
// peers from a swarm of 200), as a client sends it (ip only) and as a
// server tunnel passes it on (ip and X-I2P-DestB64).
func BenchmarkRespond(b *testing.B) {
	sw := newSwarms()
	h := New(Config{}, sw)
	info := strings.Repeat("s", 20)
	var self i2p.Destination
	for i := range 200 {
		k, err := i2p.NewIdentity(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		self = k.Destination
		var r Request
		raw := "GET " + announceTarget(k.Destination, info, strconv.Itoa(i%2)) + " HTTP/1.1\r\nHost: t\r\n\r\n"
		if _, err := parseRequest([]byte(raw), &r); err != nil {
			b.Fatal(err)
		}
		h.Respond(nil, &r)
	}
	target := announceTarget(self, info, "5")
	for _, c := range []struct{ name, head string }{
		{"ip", "GET " + target + " HTTP/1.1\r\nHost: t\r\n\r\n"},
		{"tunnel", "GET " + target + " HTTP/1.1\r\nHost: t\r\nX-I2P-DestB64: " + self.Base64() + "\r\nX-I2P-DestHash: " + self.Hash().Base64() + "\r\n\r\n"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var r Request
			if _, err := parseRequest([]byte(c.head), &r); err != nil {
				b.Fatal(err)
			}
			var body []byte
			b.ReportAllocs()
			for b.Loop() {
				var status int
				status, body, _ = h.Respond(body[:0], &r)
				if status != 200 || len(body) < 50*32 {
					b.Fatalf("%d %q", status, body)
				}
			}
		})
	}
}
