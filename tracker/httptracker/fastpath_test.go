package httptracker

import (
	"bufio"
	"crypto/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/go-i2p/go-opentracker/httpserver"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker"
)

func announceTarget(d i2p.Destination, info, left string) string {
	v := url.Values{}
	v.Set("info_hash", info)
	v.Set("peer_id", "-XX0001-abcdefghijkl")
	v.Set("left", left)
	v.Set("compact", "1")
	v.Set("ip", d.Base64())
	return "/a?" + v.Encode()
}

// parsed is raw as the httpserver parses it.
func parsed(t testing.TB, raw string) *httpserver.Request {
	t.Helper()
	var r httpserver.Request
	if _, err := httpserver.ParseRequest([]byte(raw), &r); err != nil {
		t.Fatalf("%v: %q", err, raw)
	}
	return &r
}

// TestRespondAgreesWithServeHTTP sends the same requests to twin
// trackers, one through Respond (as the httpserver parsed them), one
// through ServeHTTP: every status and body must agree.
func TestRespondAgreesWithServeHTTP(t *testing.T) {
	alice, bob := newDest(t), newDest(t)
	ann := announceTarget(alice, strings.Repeat("i", 20), "0")
	// get is a GET of target over HTTP/1.1 with the header lines given.
	get := func(target string, header ...string) string {
		return "GET " + target + " HTTP/1.1\r\nHost: t\r\n" + strings.Join(append(header, ""), "\r\n") + "\r\n"
	}
	noHash := "/announce?info_hash=iiiiiiiiiiiiiiiiiiii&peer_id=-XX0001-abcdefghijkl"
	scrape := "/scrape?info_hash=iiiiiiiiiiiiiiiiiiii"
	requests := map[string]string{
		"announce":          get(ann),
		"head":              "HEAD " + ann + " HTTP/1.1\r\nHost: t\r\n\r\n",
		"tunnel header":     get(noHash+"&left=3", "x-i2p-destb64: "+alice.Base64()),
		"tunnel mismatch":   get(ann+"&numwant=0", "X-I2P-DestB64: "+bob.Base64(), "X-I2P-DestB64: "+alice.Base64()),
		"hash header":       get(noHash, "X-I2P-DestHash: "+bob.Hash().Base64()),
		"b32 header":        get(noHash, "X-I2P-DestB32: "+bob.B32()),
		"no info_hash":      get("/announce?peer_id=-XX0001-abcdefghijkl"),
		"inproxy":           get(ann, "X-Forwarded-For: 192.0.2.1"),
		"empty inproxy":     get(ann, "X-Forwarded-Server:", "X-Forwarded-For: "),
		"inproxy second":    get("/scrape", "X-Forwarded-Server:", "X-Forwarded-Server: p"),
		"scrape":            get(scrape),
		"full scrape":       get("/scrape"),
		"page":              get("/stats"),
		"empty then tunnel": get(scrape, "X-I2P-DestHash:", "X-I2P-DestHash: x"),
	}
	fast, std := New(Config{}, newSwarms()), New(Config{}, newSwarms())
	for name, raw := range requests {
		t.Run(name, func(t *testing.T) {
			status, body, handled := fast.Respond(nil, parsed(t, raw))
			sr, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			std.ServeHTTP(rec, sr)
			if !handled {
				if rec.Code != http.StatusNotFound {
					t.Fatalf("Respond left it, ServeHTTP answered %d", rec.Code)
				}
				return
			}
			if sr.Method == http.MethodHead {
				body = nil
			}
			if status != rec.Code || string(body) != rec.Body.String() {
				t.Fatalf("Respond: %d %q\nServeHTTP: %d %q", status, body, rec.Code, rec.Body.String())
			}
		})
	}
}

// TestServerAnnounces: announces through an httpserver.Server's fast
// path reach the swarm.
func TestServerAnnounces(t *testing.T) {
	sw := newSwarms()
	h := New(Config{}, sw)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httpserver.Server{Handler: h, Responder: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	exchange := func(raw string) string {
		_, body := exchangeOnce(t, ln.Addr().String(), raw)
		return body
	}
	alice, bob := newDest(t), newDest(t)
	info := strings.Repeat("s", 20)
	exchange("GET " + announceTarget(alice, info, "0") + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
	body := exchange("GET " + announceTarget(bob, info, "7") + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
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

// FuzzRequestOf: whatever the httpserver parses, the tracker reads the
// same as from net/http's parse of the same bytes.
func FuzzRequestOf(f *testing.F) {
	f.Add([]byte("HEAD /scrape HTTP/1.0\r\nConnection: keep-alive\r\nX-I2P-DestB64: AAAA\r\nX-Forwarded-For: 1\r\n\r\n"))
	f.Add([]byte("GET /a HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nx-i2p-destb32: b\r\nX-I2P-DestHash: h\r\n\r\nGET"))
	f.Add([]byte("GET /a HTTP/1.1\r\nHost: t\r\nX-I2P-DestHash:\r\nX-I2P-DestHash: h\r\nX-Forwarded-For:\r\nX-Forwarded-For: 1\r\n\r\n"))
	f.Add([]byte("GET /a?ip=x HTTP/1.1\r\nHost: t\r\nX-Forwarded-Server: \t\r\nX-I2P-DestB64:  a b \r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r httpserver.Request
		n, err := httpserver.ParseRequest(b, &r)
		if err != nil {
			return
		}
		std, err := http.ReadRequest(bufio.NewReader(strings.NewReader(string(b[:n]))))
		if err != nil {
			t.Fatalf("httpserver accepted what net/http refuses (%v): %q", err, b[:n])
		}
		if got, want := requestOf(&r), RequestFrom(std); got != want {
			t.Fatalf("from the httpserver %+v\nfrom net/http %+v\nfrom %q", got, want, b[:n])
		}
	})
}

// BenchmarkRespond: the tracker's work for one I2P announce (compact, 50
// peers from a swarm of 200), as a client sends it (ip only) and as a
// server tunnel passes it on (ip and X-I2P-DestB64). The unverified
// announces' rate bound is set out of reach: it would refuse the ip
// case, and the swarm's setup, after its burst.
func BenchmarkRespond(b *testing.B) {
	sw := newSwarms()
	h := New(Config{UnverifiedRate: 1 << 30}, sw)
	info := strings.Repeat("s", 20)
	var self i2p.Destination
	for i := range 200 {
		k, err := i2p.NewIdentity(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		self = k.Destination
		h.Respond(nil, parsed(b, "GET "+announceTarget(k.Destination, info, []string{"0", "1"}[i%2])+" HTTP/1.1\r\nHost: t\r\n\r\n"))
	}
	target := announceTarget(self, info, "5")
	for _, c := range []struct{ name, head string }{
		{"ip", "GET " + target + " HTTP/1.1\r\nHost: t\r\n\r\n"},
		{"tunnel", "GET " + target + " HTTP/1.1\r\nHost: t\r\nX-I2P-DestB64: " + self.Base64() + "\r\nX-I2P-DestHash: " + self.Hash().Base64() + "\r\n\r\n"},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := parsed(b, c.head)
			var body []byte
			b.ReportAllocs()
			for b.Loop() {
				var status int
				status, body, _ = h.Respond(body[:0], r)
				if status != 200 || len(body) < 50*32 {
					b.Fatalf("%d %q", status, body)
				}
			}
		})
	}
}
