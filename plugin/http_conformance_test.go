package plugin

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-i2p/go-opentracker/httpserver"
	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/bencode"
	"github.com/go-i2p/go-opentracker/tracker"
	"github.com/go-i2p/go-opentracker/tracker/httptracker"
)

// httpHost is a Host that keeps the tracker handler the plugin mounts,
// so that the test serves it the way the standalone binary does: on an
// httpserver.Server over a loopback TCP listener, announces and scrapes
// answered by the fast path, the rest handed to net/http.
type httpHost struct {
	dir     string
	router  *i2cptest.Router
	mu      sync.Mutex
	tracker http.Handler
}

func (h *httpHost) DialI2CP(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", h.router.Addr())
}
func (h *httpHost) DataDir() string { return h.dir }
func (h *httpHost) MountTracker(hd http.Handler) {
	h.mu.Lock()
	h.tracker = hd
	h.mu.Unlock()
}
func (h *httpHost) MountConsole(http.Handler) {}

// httpEnv is a running plugin (with conformanceConfig) behind a real
// HTTP listener.
type httpEnv struct {
	plugin *Plugin
	url    string // http://127.0.0.1:port
	client *http.Client
}

func startHTTPConformance(t *testing.T) *httpEnv {
	t.Helper()
	dir := t.TempDir()
	// These requests come over TCP without a tunnel: ip is trusted only
	// with strict enforcement off (its cases turn it on).
	cfg := conformanceConfig + "strict_destinations: false\n"
	if err := os.WriteFile(filepath.Join(dir, ConfigFileName), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	h := &httpHost{dir: dir, router: newRouter(t)}
	p, err := New(h, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(context.Background()) })
	h.mu.Lock()
	handler := h.tracker
	h.mu.Unlock()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewTrackerServer(handler, nil)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	tr := &http.Transport{}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
		if err := <-served; !errors.Is(err, httpserver.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return &httpEnv{plugin: p, url: "http://" + ln.Addr().String(), client: &http.Client{Transport: tr}}
}

// do sends one request and reads the whole reply.
func (e *httpEnv) do(t *testing.T, method, target string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// httpCounters flattens the HTTP transport's counters and the swarm
// model's refusals: "announces", "scrapes", "omitted", every failure
// reason by name, and "refused:<reason>".
func httpCounters(p *Plugin) map[string]uint64 {
	s := p.run.http.Stats().Snapshot()
	m := map[string]uint64{"announces": s.Announces, "scrapes": s.Scrapes, "omitted": s.Omitted}
	for k, v := range s.Failures {
		m[k] = v
	}
	for k, v := range p.Tracker().Stats().Snapshot().Refused {
		m["refused:"+k] = v
	}
	return m
}

// query encodes key/value pairs in the order given.
func query(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[i]) + "=" + url.QueryEscape(kv[i+1]))
	}
	return b.String()
}

const testPeerID = "-GT0001-abcdefghijkl"

// announceTarget is /a with an announce's query: info_hash, peer_id, port,
// uploaded, downloaded, left=5 and ip (left out when empty). kv pairs
// replace those parameters (a value "-" leaves one out) or add others.
func announceTarget(info [20]byte, ip string, kv ...string) string {
	params := []string{"info_hash", string(info[:]), "peer_id", testPeerID, "port", "6881", "uploaded", "0", "downloaded", "0", "left", "5", "ip", ip}
	if ip == "" {
		params = params[:len(params)-2]
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if j := slices.Index(params, kv[i]); j >= 0 && j%2 == 0 {
			params[j+1] = kv[i+1]
		} else {
			params = append(params, kv[i], kv[i+1])
		}
	}
	var kept []string
	for i := 0; i+1 < len(params); i += 2 {
		if params[i+1] != "-" {
			kept = append(kept, params[i], params[i+1])
		}
	}
	return "/a?" + query(kept...)
}

// scrapeTarget is path with one info_hash parameter per hash.
func scrapeTarget(path string, infos ...[20]byte) string {
	var kv []string
	for _, h := range infos {
		kv = append(kv, "info_hash", string(h[:]))
	}
	return path + "?" + query(kv...)
}

// announceFields checks the shape of a successful announce reply and
// returns its counts.
func announceFields(t *testing.T, v map[string]any) (complete, incomplete, interval int64) {
	t.Helper()
	for _, k := range []string{"complete", "incomplete", "interval"} {
		if _, ok := v[k].(int64); !ok {
			t.Fatalf("announce reply without integer %q: %v", k, v)
		}
	}
	if _, ok := v["peers"]; !ok {
		t.Fatalf("announce reply without peers: %v", v)
	}
	return v["complete"].(int64), v["incomplete"].(int64), v["interval"].(int64)
}

// compactPeers returns the hashes of a compact reply.
func compactPeers(t *testing.T, v map[string]any) []i2p.Hash {
	t.Helper()
	s, ok := v["peers"].(string)
	if !ok || len(s)%i2p.HashLen != 0 {
		t.Fatalf("compact peers %q", v["peers"])
	}
	var out []i2p.Hash
	for i := 0; i < len(s); i += i2p.HashLen {
		out = append(out, i2p.Hash([]byte(s[i:i+i2p.HashLen])))
	}
	return out
}

// dictPeers returns the peer dictionaries of a non-compact reply, each
// checked: ip a Base64 Destination with ".i2p", a 20-byte peer id, a port.
func dictPeers(t *testing.T, v map[string]any) []i2p.Destination {
	t.Helper()
	list, ok := v["peers"].([]any)
	if !ok {
		t.Fatalf("non-compact peers %v", v["peers"])
	}
	var out []i2p.Destination
	for _, p := range list {
		d, _ := p.(map[string]any)
		ip, _ := d["ip"].(string)
		id, _ := d["peer id"].(string)
		_, port := d["port"].(int64)
		dest, err := i2p.ParseDestinationBase64(ip)
		if !strings.HasSuffix(ip, ".i2p") || err != nil || !port || len(d) != 3 {
			t.Fatalf("peer %v: %v", d, err)
		}
		if h := dest.Hash(); id != string(h[:20]) {
			t.Fatalf("peer id %x for %x", id, h[:20])
		}
		out = append(out, dest)
	}
	return out
}

// scrapeFiles returns the files dictionary of a scrape reply, each entry
// checked: a 20-byte key, integer complete, downloaded and incomplete.
func scrapeFiles(t *testing.T, v map[string]any) map[string]map[string]any {
	t.Helper()
	files, ok := v["files"].(map[string]any)
	if !ok || len(v) != 1 {
		t.Fatalf("scrape reply %v", v)
	}
	out := map[string]map[string]any{}
	for k, f := range files {
		entry, _ := f.(map[string]any)
		for _, field := range []string{"complete", "downloaded", "incomplete"} {
			if _, ok := entry[field].(int64); !ok || len(k) != 20 {
				t.Fatalf("scrape entry %x: %v", k, f)
			}
		}
		out[k] = entry
	}
	return out
}

// paddedDest is d with its key certificate grown by junk to n bytes: the
// I2P parser takes it, no client has it.
func paddedDest(d i2p.Destination, n int) string {
	raw := append([]byte(nil), d.Bytes()...)
	certLen := n - i2p.MinDestinationLen
	raw[i2p.MinDestinationLen-2], raw[i2p.MinDestinationLen-1] = byte(certLen>>8), byte(certLen)
	return i2p.EncodeBase64(append(raw, make([]byte, n-len(raw))...))
}

// httpCase is one request of TestHTTPConformance and what it must do.
type httpCase struct {
	name    string
	before  func(t *testing.T)
	method  string // GET when empty
	target  string
	header  map[string]string
	status  int    // 200 when 0
	failure string // in the bencoded failure reason; "" for none
	text    string // in the body of a reply that is not 200
	check   func(t *testing.T, v map[string]any)
	moves   []string
	after   func(t *testing.T)
}

// run sends the case's request and checks the reply and the counters.
func (c httpCase) run(t *testing.T, e *httpEnv) {
	if c.before != nil {
		c.before(t)
	}
	method, status := c.method, c.status
	if method == "" {
		method = http.MethodGet
	}
	if status == 0 {
		status = http.StatusOK
	}
	before := httpCounters(e.plugin)
	resp, body := e.do(t, method, c.target, c.header)
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %q", resp.StatusCode, status, body)
	}
	switch {
	case method == http.MethodHead:
		if len(body) != 0 || resp.ContentLength <= 0 {
			t.Fatalf("HEAD: %d bytes of body, Content-Length %d", len(body), resp.ContentLength)
		}
	case status != http.StatusOK:
		if !strings.Contains(string(body), c.text) {
			t.Fatalf("body %q, want %q in it", body, c.text)
		}
		if status == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != "GET, HEAD" {
			t.Fatalf("Allow %q", resp.Header.Get("Allow"))
		}
	default:
		c.checkReply(t, body)
	}
	checkMoved(t, before, httpCounters(e.plugin), c.moves)
	if c.after != nil {
		c.after(t)
	}
}

// checkReply checks a 200 reply: a strict bencoded dictionary, the
// failure the case expects or none, and the case's own check.
func (c httpCase) checkReply(t *testing.T, body []byte) {
	t.Helper()
	decoded, err := bencode.Decode(body)
	v, ok := decoded.(map[string]any)
	if err != nil || !ok {
		t.Fatalf("not a bencoded dictionary (%v): %q", err, body)
	}
	reason, failed := v["failure reason"].(string)
	switch {
	case c.failure != "" && (!failed || len(v) != 1 || !strings.Contains(reason, c.failure)):
		t.Fatalf("reply %q, want a failure with %q", body, c.failure)
	case c.failure == "" && failed:
		t.Fatalf("failure %q", reason)
	case c.failure == "" && httptracker.IsAnnouncePath(strings.SplitN(c.target, "?", 2)[0]):
		announceFields(t, v)
	}
	if c.check != nil {
		c.check(t, v)
	}
}

// TestHTTPConformance runs every HTTP announce rule end to end: real
// requests over loopback TCP to the plugin's tracker handler served by an
// httpserver.Server, as the standalone binary serves it. Each case checks
// the status, the bencoded body (decoded strictly) and exactly the
// counters it should move. The cases run in order, and some build on the
// ones before (a second client sees the first, then it stops).
func TestHTTPConformance(t *testing.T) {
	e := startHTTPConformance(t)
	tr := e.plugin.Tracker()
	ident := func() i2p.Destination { return newIdent(t) }
	carol, dave, erin, frank, mallory := ident(), ident(), ident(), ident(), ident()
	carolHash := carol.Hash()

	infoPaths, infoA, infoBig, infoFull, infoOmit := [20]byte{0x01, 'p'}, [20]byte{0x01, 'a'}, [20]byte{0x01, 'b'}, [20]byte{0x01, 'f'}, [20]byte{0x01, 'o'}
	fillSwarm(t, e.plugin, infoBig, 55, false)
	fillSwarm(t, e.plugin, infoFull, conformanceMaxSwarm, false)
	fillSwarm(t, e.plugin, infoOmit, 3, true)
	many := make([][20]byte, 75)
	for i := range many {
		many[i] = [20]byte{0x02, byte(i)}
	}

	cases := pathCases(tr, infoPaths, erin)
	cases = append(cases, []httpCase{
		// Two clients: the second sees the first, compact and not; the
		// first stops and is gone.
		{name: "first client, compact", target: announceTarget(infoA, carol.Base64()+".i2p", "compact", "1"), moves: []string{"announces"},
			check: func(t *testing.T, v map[string]any) {
				if c, i, iv := announceFields(t, v); c != 0 || i != 1 || iv != 1620 || len(compactPeers(t, v)) != 0 {
					t.Fatalf("reply %v", v)
				}
			}},
		{name: "second client sees the first, compact", target: announceTarget(infoA, dave.Base64(), "compact", "1"), moves: []string{"announces"},
			check: func(t *testing.T, v map[string]any) {
				if _, i, _ := announceFields(t, v); i != 2 || !slices.Equal(compactPeers(t, v), []i2p.Hash{carolHash}) {
					t.Fatalf("reply %v", v)
				}
			}},
		{name: "second client sees the first, non-compact", target: announceTarget(infoA, dave.Base64()), moves: []string{"announces"},
			check: func(t *testing.T, v map[string]any) {
				if got := dictPeers(t, v); len(got) != 1 || !got[0].Equal(carol) {
					t.Fatalf("peers %v", v["peers"])
				}
			}},
		{name: "first client stops", target: announceTarget(infoA, carol.Base64(), "event", "stopped", "compact", "1"), moves: []string{"announces"},
			check: func(t *testing.T, v map[string]any) {
				if _, i, _ := announceFields(t, v); i != 1 || len(compactPeers(t, v)) != 0 {
					t.Fatalf("reply %v", v)
				}
			}},
		{name: "stopped client gone", target: announceTarget(infoA, dave.Base64(), "compact", "1"), moves: []string{"announces"}, check: peersWant(0)},
		{name: "non-compact leaves out peers without a Destination", target: announceTarget(infoOmit, erin.Base64()), moves: []string{"announces", "omitted", "omitted", "omitted"},
			check: func(t *testing.T, v map[string]any) {
				if c, i, _ := announceFields(t, v); c != 3 || i != 1 || len(dictPeers(t, v)) != 0 {
					t.Fatalf("reply %v", v)
				}
			}},
		{name: "numwant left out: the configured default", target: announceTarget(infoBig, erin.Base64(), "compact", "1"), moves: []string{"announces"},
			check: peersWant(conformanceWant)},
		{name: "numwant over 50: capped", target: announceTarget(infoBig, erin.Base64(), "compact", "1", "numwant", "200"), moves: []string{"announces"},
			check: peersWant(50)},
		{name: "negative numwant: the default", target: announceTarget(infoBig, erin.Base64(), "compact", "1", "numwant", "-1"), moves: []string{"announces"},
			check: peersWant(conformanceWant)},
		{name: "swarm at its peer limit", target: announceTarget(infoFull, erin.Base64()), failure: tracker.ErrSwarmFull.Error(),
			moves: []string{"announces", "refused", "refused:swarm_full"}, after: wantLeechers(tr, infoFull, conformanceMaxSwarm)},

		// Parameters.
		{name: "info_hash missing", target: announceTarget(infoA, erin.Base64(), "info_hash", "-"), failure: "missing info_hash", moves: []string{"announces", "malformed"}},
		{name: "info_hash of 19 bytes", target: announceTarget(infoA, erin.Base64(), "info_hash", strings.Repeat("x", 19)), failure: "info_hash must be 20 bytes", moves: []string{"announces", "malformed"}},
		{name: "info_hash of 21 bytes", target: announceTarget(infoA, erin.Base64(), "info_hash", strings.Repeat("x", 21)), failure: "info_hash must be 20 bytes", moves: []string{"announces", "malformed"}},
		{name: "peer_id missing", target: announceTarget(infoA, erin.Base64(), "peer_id", "-"), failure: "missing peer_id", moves: []string{"announces", "malformed"}},
		{name: "peer_id of 19 bytes", target: announceTarget(infoA, erin.Base64(), "peer_id", testPeerID[:19]), failure: "peer_id must be 20 bytes", moves: []string{"announces", "malformed"}},
		{name: "peer_id of 21 bytes", target: announceTarget(infoA, erin.Base64(), "peer_id", testPeerID+"x"), failure: "peer_id must be 20 bytes", moves: []string{"announces", "malformed"}},
		{name: "ip without .i2p", target: announceTarget(infoA, erin.Base64(), "compact", "1"), moves: []string{"announces"}, after: wantLeechers(tr, infoA, 2)},
		{name: "ip with .i2p", target: announceTarget(infoA, erin.Base64()+".i2p", "compact", "1"), moves: []string{"announces"}, after: wantLeechers(tr, infoA, 2)},
		{name: "ip missing", target: announceTarget(infoA, ""), failure: "missing ip", moves: []string{"announces", "no_ip"}},
		{name: "ip too long", target: announceTarget(infoA, erin.Base64()+strings.Repeat("A", 400)), failure: "too long", moves: []string{"announces", "ip_too_long"}},
		{name: "ip padded to 491 bytes", target: announceTarget(infoA, paddedDest(erin, 491)), failure: "too long", moves: []string{"announces", "ip_too_long"}},
		{name: "ip padded to 395 bytes", target: announceTarget(infoA, paddedDest(erin, 395)), failure: "key certificate", moves: []string{"announces", "bad_destination"}},
		{name: "ip with trailing bytes", target: announceTarget(infoA, erin.Base64()+"AAAA"), failure: "not a valid Base64 I2P Destination", moves: []string{"announces", "bad_destination"}},
		{name: "ip IPv4", target: announceTarget(infoA, "192.0.2.7"), failure: "clearnet", moves: []string{"announces", "clearnet_ip"}},
		{name: "ip IPv6", target: announceTarget(infoA, "2001:db8::7"), failure: "clearnet", moves: []string{"announces", "clearnet_ip"}},

		// Requests through an inproxy.
		{name: "X-Forwarded-For", target: announceTarget(infoA, erin.Base64()), header: map[string]string{"X-Forwarded-For": "192.0.2.1"},
			status: http.StatusForbidden, text: "inproxy", moves: []string{"inproxy"}},
		{name: "X-Forwarded-Server", target: scrapeTarget("/scrape", infoA), header: map[string]string{"X-Forwarded-Server": "proxy.example"},
			status: http.StatusForbidden, text: "inproxy", moves: []string{"inproxy"}},
		{name: "X-Forwarded-For with tunnel headers", target: announceTarget(infoA, erin.Base64()),
			header: map[string]string{"X-Forwarded-For": "192.0.2.1", "X-I2P-DestB64": erin.Base64()},
			status: http.StatusForbidden, text: "inproxy", moves: []string{"inproxy"}},

		// Methods.
		{name: "HEAD announce", method: http.MethodHead, target: announceTarget(infoA, erin.Base64()), moves: []string{"announces"}},
		{name: "HEAD scrape", method: http.MethodHead, target: scrapeTarget("/scrape", infoA), moves: []string{"scrapes"}},
		{name: "POST announce", method: http.MethodPost, target: announceTarget(infoA, erin.Base64()), status: http.StatusMethodNotAllowed,
			text: "method not allowed", moves: []string{"method_not_allowed"}},
		{name: "PUT scrape", method: http.MethodPut, target: scrapeTarget("/a/scrape", infoA), status: http.StatusMethodNotAllowed,
			text: "method not allowed", moves: []string{"method_not_allowed"}},

		// Scrapes.
		{name: "scrape of several hashes", target: scrapeTarget("/scrape", infoA, infoPaths, [20]byte{0x03}, infoA), moves: []string{"scrapes"},
			check: func(t *testing.T, v map[string]any) {
				f := scrapeFiles(t, v)
				if len(f) != 3 || f[string(infoA[:])]["incomplete"] != int64(2) || f[string(infoPaths[:])]["incomplete"] != int64(1) {
					t.Fatalf("files %v", f)
				}
			}},
		{name: "scrape of 74 hashes", target: scrapeTarget("/scrape", many[:74]...), moves: []string{"scrapes"},
			check: func(t *testing.T, v map[string]any) {
				if n := len(scrapeFiles(t, v)); n != 74 {
					t.Fatalf("%d files", n)
				}
			}},
		{name: "scrape of 75 hashes", target: scrapeTarget("/scrape", many...), failure: "too many info_hash", moves: []string{"scrapes", "malformed"}},
		{name: "scrape with a short info_hash", target: "/scrape?" + query("info_hash", "short"), failure: "info_hash must be 20 bytes", moves: []string{"scrapes", "malformed"}},
		{name: "full scrape off", target: "/scrape", failure: "full scrape is disabled", moves: []string{"scrapes", "full_scrape_disabled"}},
		{name: "full scrape on", before: applyLive(e.plugin, "full_scrape", "true"), target: "/scrape.php", moves: []string{"scrapes"}, after: applyLive(e.plugin, "full_scrape", "false"),
			check: func(t *testing.T, v map[string]any) {
				f := scrapeFiles(t, v)
				for _, info := range [][20]byte{infoPaths, infoA, infoBig, infoFull, infoOmit} {
					if _, ok := f[string(info[:])]; !ok {
						t.Fatalf("swarm %x missing from the full scrape", info[:2])
					}
				}
			}},
	}...)

	cases = append(cases, enforcementCases(e.plugin, frank, mallory, erin, dave)...)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, e) })
	}
}

// pathCases announce and scrape on every tracker path.
func pathCases(tr *tracker.Tracker, info [20]byte, d i2p.Destination) []httpCase {
	var cases []httpCase
	for _, p := range []string{"/a", "/announce", "/announce.php", "/announce.jsp"} {
		cases = append(cases, httpCase{name: "announce on " + p, target: p + strings.TrimPrefix(announceTarget(info, d.Base64()+".i2p", "compact", "1"), "/a"),
			moves: []string{"announces"}, after: wantLeechers(tr, info, 1)})
	}
	for _, p := range []string{"/scrape", "/scrape.php", "/scrape.jsp", "/a/scrape"} {
		cases = append(cases, httpCase{name: "scrape on " + p, target: scrapeTarget(p, info), moves: []string{"scrapes"},
			check: func(t *testing.T, v map[string]any) {
				f := scrapeFiles(t, v)[string(info[:])]
				if len(scrapeFiles(t, v)) != 1 || f["incomplete"] != int64(1) || f["complete"] != int64(0) {
					t.Fatalf("files %v", v["files"])
				}
			}})
	}
	return cases
}

// enforcementCases check destination enforcement with each of the
// tunnel's headers (frank announces, mallory is named by a disagreeing
// ip), then strict enforcement on and off (erin and dave).
func enforcementCases(p *Plugin, frank, mallory, erin, dave i2p.Destination) []httpCase {
	tr := p.Tracker()
	var cases []httpCase
	// Destination enforcement, with each of the tunnel's headers.
	for i, hdr := range []struct{ name, value string }{
		{"X-I2P-DestHash", frank.Hash().Base64()},
		{"X-I2P-DestB64", frank.Base64()},
		{"X-I2P-DestB32", frank.Hash().B32()},
	} {
		info := [20]byte{0x04, byte(i)}
		h := map[string]string{hdr.name: hdr.value}
		cases = append(cases, []httpCase{
			{name: hdr.name + ": agreeing ip", target: announceTarget(info, frank.Base64()+".i2p"), header: h,
				moves: []string{"announces"}, after: wantLeechers(tr, info, 1)},
			{name: hdr.name + ": no ip", target: announceTarget(info, ""), header: h,
				moves: []string{"announces"}, after: wantLeechers(tr, info, 1)},
			{name: hdr.name + ": disagreeing ip adds no peer", target: announceTarget(info, mallory.Base64(), "compact", "1"), header: h,
				moves: []string{"announces", "ip_mismatch"}, check: peersWant(0),
				after: func(t *testing.T) {
					wantLeechers(tr, info, 1)(t)
					if _, ok := tr.AppendDestination(nil, mallory.Hash()); ok {
						t.Fatal("a disagreeing ip entered the destination cache")
					}
				}},
			{name: hdr.name + ": disagreeing ip stopping", target: announceTarget(info, mallory.Base64(), "event", "stopped"), header: h,
				failure: "does not match", moves: []string{"announces", "ip_mismatch"}, after: wantLeechers(tr, info, 1)},
			{name: hdr.name + ": agreeing ip stopping", target: announceTarget(info, frank.Base64(), "event", "stopped"), header: h,
				moves: []string{"announces"}, after: wantLeechers(tr, info, 0)},
		}...)
	}

	// Strict enforcement refuses requests that did not come through the
	// tunnel, and serves those that did.
	infoStrict := [20]byte{0x05}
	cases = append(cases, []httpCase{
		{name: "strict: no tunnel headers", before: applyLive(p, "strict_destinations", "true"), target: announceTarget(infoStrict, erin.Base64()),
			failure: "announce over I2P", moves: []string{"announces", "not_tunneled"}, after: wantLeechers(tr, infoStrict, 0)},
		{name: "strict: tunnel headers", target: announceTarget(infoStrict, erin.Base64()), header: map[string]string{"X-I2P-DestB64": erin.Base64()},
			moves: []string{"announces"}, after: wantLeechers(tr, infoStrict, 1)},
		{name: "not strict: no tunnel headers", before: applyLive(p, "strict_destinations", "false"), target: announceTarget(infoStrict, dave.Base64()),
			moves: []string{"announces"}, after: wantLeechers(tr, infoStrict, 2)},
	}...)

	return cases
}

func newIdent(t *testing.T) i2p.Destination {
	k, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k.Destination
}

// wantLeechers checks that swarm info has n leechers.
func wantLeechers(tr *tracker.Tracker, info [20]byte, n uint32) func(t *testing.T) {
	return func(t *testing.T) {
		if got := tr.Scrape(info).Leechers; got != n {
			t.Fatalf("swarm %x has %d leechers, want %d", info[:2], got, n)
		}
	}
}

// applyLive applies a setting to the running tracker.
func applyLive(p *Plugin, key, value string) func(t *testing.T) {
	return func(t *testing.T) {
		if _, err := p.applySetting(key, value); err != nil {
			t.Fatal(err)
		}
	}
}

// peersWant checks that a compact reply lists n peers.
func peersWant(n int) func(t *testing.T, v map[string]any) {
	return func(t *testing.T, v map[string]any) {
		if got := len(compactPeers(t, v)); got != n {
			t.Fatalf("%d peers, want %d", got, n)
		}
	}
}
