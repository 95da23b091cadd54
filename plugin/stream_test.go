package plugin

import (
	"bufio"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/bencode"
	"github.com/go-i2p/go-opentracker/internal/testkeys"
	"github.com/go-i2p/go-opentracker/streaming"
	"github.com/go-i2p/go-opentracker/tracker"
)

// streamClient is an I2P client with a session of its own on the router
// simulator (real I2CP over loopback TCP) and a streaming Manager on it.
type streamClient struct {
	keys *i2p.PrivateKeys
	m    *streaming.Manager
}

func newStreamClient(t *testing.T, router *i2cptest.Router, sig i2p.SigType) *streamClient {
	t.Helper()
	keys := testkeys.New(t, sig)
	s, err := i2cp.NewSession(keys, i2cp.Config{Addr: router.Addr(), MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m, err := streaming.Attach(s, streaming.IdentityOf(keys), streaming.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { m.Close(); cancel(); <-done })
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := s.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	if err := router.WaitPublished(wctx, keys.Destination.Hash()); err != nil {
		t.Fatal(err)
	}
	return &streamClient{keys: keys, m: m}
}

// get opens a stream to the tracker (the request rides in the SYN, as
// i2pd's HTTP proxy and Java's connect delay send it), writes the raw
// request head and reads the reply to the end of the stream.
func (c *streamClient) get(t *testing.T, to i2p.Destination, head string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := streaming.Dialer{Manager: c.m, Port: 80, Early: true}.Dial(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reply body: %v", err)
	}
	return resp, body
}

// libtorrentAnnounce is libtorrent 2.0.11's announce as captured through
// SAM: one line, ip not percent-escaped, Connection: close.
func libtorrentAnnounce(path string, info [20]byte, ip, host string, extra ...string) string {
	q := "info_hash=" + url.QueryEscape(string(info[:])) + "&peer_id=-LT20B0-" + url.QueryEscape("abcdefghijkl") +
		"&port=1&uploaded=0&downloaded=0&left=0&corrupt=0&key=CBE7F048&event=started&numwant=200&compact=1&no_peer_id=1" +
		"&supportcrypto=1&redundant=0&ip=" + ip
	for _, e := range extra {
		q += "&" + e
	}
	h := "GET " + path + "?" + q + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: libtorrent/2.0.11.0\r\n"
	return h + "Accept-Encoding: gzip\r\nConnection: close\r\n\r\n"
}

// dict sends head and decodes the reply, a bencoded dictionary.
func (c *streamClient) dict(t *testing.T, to i2p.Destination, head string) map[string]any {
	t.Helper()
	resp, body := c.get(t, to, head)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s: %q", resp.Status, body)
	}
	v, err := bencode.Decode(body)
	d, ok := v.(map[string]any)
	if err != nil || !ok {
		t.Fatalf("reply %q: %v", body, err)
	}
	if f, ok := d["failure reason"]; ok {
		t.Fatalf("failure %q", f)
	}
	return d
}

// TestHTTPOverStreaming: clients with sessions of their own dial the
// tracker's own Destination over I2P streaming through the router
// simulator and send libtorrent's exact request to /a and /announce: the
// replies list the earlier announcers (UDP and HTTP); an ip naming
// another Destination adds, updates or removes no one, client-supplied
// X-I2P-* headers are ignored, and scrape works.
func TestHTTPOverStreaming(t *testing.T) {
	router := newRouter(t)
	e := start(t, t.TempDir(), router)
	tr, me := e.plugin.Tracker(), e.plugin.Identity().Destination
	host := me.B32()
	info := [20]byte{0x13, 0x37}

	udp, _ := e.net.NewClient(7100, true)
	if err := udp.Connect(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := udp.Announce(ctx5(t), info, tracker.EventStarted, 100, -1); err != nil {
		t.Fatal(err)
	}

	// DSA-SHA1, libtorrent 2.0.8's SAM default, and Ed25519.
	lt := newStreamClient(t, router, i2p.SigDSASHA1)
	d := lt.dict(t, me, libtorrentAnnounce("/a", info, lt.keys.Destination.Base64()+".i2p", host))
	if peers := compactPeers(t, d); !slices.Contains(peers, udp.Hash()) {
		t.Fatalf("/a over streaming: peers %x lack the UDP announcer", peers)
	}
	second := newStreamClient(t, router, i2p.SigEd25519)
	d = second.dict(t, me, libtorrentAnnounce("/announce", info, second.keys.Destination.Base64()+".i2p", host))
	if peers := compactPeers(t, d); !slices.Contains(peers, udp.Hash()) || !slices.Contains(peers, lt.keys.Destination.Hash()) {
		t.Fatalf("/announce over streaming: peers %x lack an earlier announcer", peers)
	}
	if s := tr.Scrape(info); s.Seeders != 2 || s.Leechers != 1 {
		t.Fatalf("swarm after the stream announces: %+v", s)
	}

	// Spoofing: an ip naming someone else, a stopped for another peer,
	// and X-I2P-DestB64 sent by the client itself.
	victim, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spoofer := newStreamClient(t, router, i2p.SigEd25519)
	before := httpCounters(e.plugin)
	d = spoofer.dict(t, me, libtorrentAnnounce("/a", info, victim.Destination.Base64()+".i2p", host))
	if peers := compactPeers(t, d); slices.Contains(peers, victim.Destination.Hash()) {
		t.Fatal("a spoofed ip is listed")
	}
	stop := strings.Replace(libtorrentAnnounce("/a", info, lt.keys.Destination.Base64()+".i2p", host), "event=started", "event=stopped", 1)
	spoofer.get(t, me, stop)
	withHeader := strings.Replace(libtorrentAnnounce("/a", info, "", host, "numwant=5"), "\r\n\r\n",
		"\r\nX-I2P-DestB64: "+victim.Destination.Base64()+"\r\nX-I2P-DestHash: "+victim.Destination.Hash().Base64()+"\r\n\r\n", 1)
	withHeader = strings.Replace(withHeader, "&ip=&", "&", 1)
	spoofer.dict(t, me, withHeader)
	after := httpCounters(e.plugin)
	if n := after["ip_mismatch"] - before["ip_mismatch"]; n != 2 {
		t.Errorf("ip_mismatch moved by %d, want 2", n)
	}
	if s := tr.Scrape(info); s.Seeders != 3 || s.Leechers != 1 {
		t.Fatalf("swarm after the spoofing: %+v, want the three real peers and the spoofer (by its own stream)", s)
	}
	if _, ok := tr.AppendDestination(nil, victim.Destination.Hash()); ok {
		t.Fatal("the victim's Destination was remembered")
	}
	if _, ok := tr.AppendDestination(nil, spoofer.keys.Destination.Hash()); !ok {
		t.Fatal("the stream's own Destination was not remembered")
	}

	// Scrape over streaming, on the path clients derive from /announce.
	scrape := "GET /scrape?info_hash=" + url.QueryEscape(string(info[:])) + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"
	files := scrapeFiles(t, lt.dict(t, me, scrape))
	if f := files[string(info[:])]; f["complete"] != int64(3) || f["incomplete"] != int64(1) {
		t.Fatalf("scrape over streaming: %v", files)
	}
	// The public page is served on the tracker's own address too.
	resp, body := lt.get(t, me, "GET / HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "http://"+host+"/announce") {
		t.Fatalf("public page over streaming: %s %q", resp.Status, body)
	}
	checkStreamCounters(t, e)
}

// checkStreamCounters: /metrics and the console count the streams and,
// by reason, a malformed packet.
func checkStreamCounters(t *testing.T, e *env) {
	t.Helper()
	if err := injectRaw(e, streaming.ProtocolStreaming, 1, 80, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the malformed packet to be counted", func() bool {
		s, _ := e.plugin.streamStats()
		return s.Dropped[streaming.DropMalformed.String()] == 1
	})
	_, metrics := get(t, e.consoleURL+"metrics")
	for _, want := range []string{"opentracker_stream_accepted_total 7\n", `opentracker_stream_dropped_total{reason="malformed"} 1` + "\n",
		`opentracker_stream_refused_total{reason="max_streams_per_peer"} 0` + "\n", "opentracker_stream_open "} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	_, page := get(t, e.consoleURL)
	if !strings.Contains(page, `id="streams-accepted">7<`) || !strings.Contains(page, "malformed") {
		t.Error("the console shows no streaming counters")
	}
}

// streamGoroutines counts the goroutines serving HTTP over streaming.
func streamGoroutines() (int, string) {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "plugin.(*streamServer)") || strings.Contains(g, "net/http.(*conn).serve") ||
			strings.Contains(g, "httpserver.(*Server).serveConnFast") {
			n++
			found = append(found, g)
		}
	}
	return n, strings.Join(found, "\n\n")
}

// TestStreamServerStops: Stop ends the HTTP server on the stream
// listener and every exchange it holds, a half-sent request included
// (no goroutine outlives the run), and the next Start serves again.
func TestStreamServerStops(t *testing.T) {
	router := newRouter(t)
	e := start(t, t.TempDir(), router)
	me := e.plugin.Identity().Destination
	c := newStreamClient(t, router, i2p.SigEd25519)
	c.dict(t, me, libtorrentAnnounce("/a", [20]byte{1}, c.keys.Destination.Base64()+".i2p", me.B32()))

	// A head that never ends holds a server goroutine until Stop.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := streaming.Dialer{Manager: c.m, Port: 80}.Dial(ctx, me)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /a HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the half-sent request to be served", func() bool { n, _ := streamGoroutines(); return n >= 2 })

	if err := e.plugin.Stop(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the stream server's goroutines to end", func() bool { n, _ := streamGoroutines(); return n == 0 })
	if n, stacks := streamGoroutines(); n != 0 {
		t.Fatalf("%d goroutines outlive Stop:\n%s", n, stacks)
	}
	if err := e.plugin.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := router.WaitPublished(ctx5(t), me.Hash()); err != nil {
		t.Fatal(err)
	}
	c.dict(t, me, libtorrentAnnounce("/announce", [20]byte{2}, c.keys.Destination.Base64()+".i2p", me.B32()))
}

// waitUntil polls cond for at most 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestMaxStreamsPerPeer: max_streams_per_peer bounds the streams one
// Destination holds open; the next SYN from it gets HTTP 429 and is
// counted, while another Destination is still served.
func TestMaxStreamsPerPeer(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConfigFileName), []byte("max_streams_per_peer: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	router := newRouter(t)
	e := start(t, dir, router)
	me := e.plugin.Identity().Destination
	hog, other := newStreamClient(t, router, i2p.SigEd25519), newStreamClient(t, router, i2p.SigEd25519)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range 2 { // heads that never end hold their streams open
		conn, err := streaming.Dialer{Manager: hog.m, Port: 80}.Dial(ctx, me)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "GET /a HTTP/1.1\r\nHost: x\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "two streams open", func() bool { s, _ := e.plugin.streamStats(); return s.Open == 2 })
	announce := func(c *streamClient) *http.Response {
		resp, _ := c.get(t, me, libtorrentAnnounce("/a", [20]byte{9}, c.keys.Destination.Base64()+".i2p", me.B32()))
		return resp
	}
	if resp := announce(hog); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a third stream from one Destination: %s", resp.Status)
	}
	if s, _ := e.plugin.streamStats(); s.Refused[streaming.RefusedMaxStreamsPerPeer.String()] != 1 {
		t.Fatalf("refusals %v, want one max_streams_per_peer", s.Refused)
	}
	if resp := announce(other); resp.StatusCode != http.StatusOK {
		t.Fatalf("another Destination: %s", resp.Status)
	}
}
