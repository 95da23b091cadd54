package httptracker

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/panics"
	"github.com/go-i2p/go-opentracker/tracker"
)

// recording wraps the real tracker to see what the handler asked of it;
// an announce for panicOn, when set, panics (as a bug on a crafted
// request would).
type recording struct {
	*tracker.Tracker
	last    tracker.AnnounceRequest
	panicOn *tracker.InfoHash
	fatal   bool // the panic is a panics.Fatal
}

func (r *recording) Announce(req *tracker.AnnounceRequest, peers []i2p.Hash) (tracker.AnnounceResult, error) {
	if r.panicOn != nil && req.InfoHash == *r.panicOn {
		if r.fatal {
			panics.Raise("state left half done")
		}
		panic("crafted input")
	}
	r.last = *req
	return r.Tracker.Announce(req, peers)
}

func newSwarms() *recording { return &recording{Tracker: tracker.New(tracker.Config{}, nil)} }

func newDest(t *testing.T) i2p.Destination {
	t.Helper()
	k, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k.Destination
}

type announceReq struct {
	path, ip, event, numwant, left string
	compact                        bool
	info                           string
	headers                        map[string]string
}

func (h announceReq) do(t *testing.T, srv http.Handler) (int, string) {
	t.Helper()
	v := url.Values{}
	info := h.info
	if info == "" {
		info = strings.Repeat("i", 20)
	}
	v.Set("info_hash", info)
	v.Set("peer_id", "-XX0001-abcdefghijkl")
	v.Set("port", "6881")
	if h.ip != "" {
		v.Set("ip", h.ip)
	}
	if h.left != "" {
		v.Set("left", h.left)
	} else {
		v.Set("left", "100")
	}
	if h.event != "" {
		v.Set("event", h.event)
	}
	if h.numwant != "" {
		v.Set("numwant", h.numwant)
	}
	if h.compact {
		v.Set("compact", "1")
	}
	path := h.path
	if path == "" {
		path = "/a"
	}
	req := httptest.NewRequest(http.MethodGet, path+"?"+v.Encode(), nil)
	for k, val := range h.headers {
		req.Header.Set(k, val)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

func TestAnnounceCompactAndNonCompact(t *testing.T) {
	sw := newSwarms()
	h := New(Config{}, sw)
	alice, bob := newDest(t), newDest(t)
	for _, p := range []string{"/a", "/announce", "/announce.php", "/announce.jsp"} {
		if code, body := (announceReq{path: p, ip: alice.Base64() + ".i2p", compact: true}).do(t, h); code != 200 || !strings.HasPrefix(body, "d8:complete") {
			t.Fatalf("%s: %d %q", p, code, body)
		}
	}
	code, body := announceReq{ip: bob.Base64(), compact: true, left: "0"}.do(t, h)
	ah := alice.Hash()
	want := "d8:completei1e10:incompletei1e8:intervali1620e5:peers32:" + string(ah[:]) + "e"
	if code != 200 || body != want {
		t.Fatalf("compact reply %q, want %q", body, want)
	}
	_, body = announceReq{ip: bob.Base64(), left: "0"}.do(t, h)
	want = "d8:completei1e10:incompletei1e8:intervali1620e5:peersld2:ip" + strconv.Itoa(len(alice.Base64())+4) + ":" + alice.Base64() +
		".i2p7:peer id20:" + string(ah[:20]) + "4:porti6881eeee"
	if body != want {
		t.Fatalf("non-compact reply\n%q\nwant\n%q", body, want)
	}
	_, body = announceReq{ip: alice.Base64(), event: "stopped", compact: true}.do(t, h)
	if !strings.HasSuffix(body, "5:peers0:e") {
		t.Fatalf("stopped announce returned peers: %q", body)
	}
}

func TestAnnounceFailures(t *testing.T) {
	sw := newSwarms()
	h := New(Config{}, sw)
	alice, mallory := newDest(t), newDest(t)
	cases := []struct {
		name string
		req  announceReq
		code int
		want string
	}{
		{"no ip", announceReq{}, 200, errNoIP.Msg},
		{"ipv4", announceReq{ip: "10.1.2.3"}, 200, errClearnetIP.Msg},
		{"ipv6", announceReq{ip: "2001:db8::1"}, 200, errClearnetIP.Msg},
		{"bad base64", announceReq{ip: "!!!!"}, 200, errBadDest.Msg},
		{"short destination", announceReq{ip: i2p.EncodeBase64(make([]byte, 100))}, 200, errBadDest.Msg},
		{"bad info_hash", announceReq{ip: alice.Base64(), info: "short"}, 200, errBadInfoHash.Error()},
		{"bad event", announceReq{ip: alice.Base64(), event: "paused"}, 200, tracker.ErrBadEvent.Error()},
		{"inproxy", announceReq{ip: alice.Base64(), headers: map[string]string{"X-Forwarded-For": "1.2.3.4"}}, 403, "inproxy"},
		{"inproxy server", announceReq{ip: alice.Base64(), headers: map[string]string{"X-Forwarded-Server": "x"}}, 403, "inproxy"},
		{"mismatch wanting no peers", announceReq{ip: mallory.Base64(), numwant: "0",
			headers: map[string]string{"X-I2P-DestB64": alice.Base64()}}, 200, errMismatch.Msg},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := c.req.do(t, h)
			if code != c.code || !strings.Contains(body, c.want) {
				t.Fatalf("%d %q, want %d with %q", code, body, c.code, c.want)
			}
			if code == 200 && !strings.HasPrefix(body, "d14:failure reason") {
				t.Fatalf("not a bencoded failure: %q", body)
			}
		})
	}
	if tot := sw.Totals(); tot.Peers != 0 {
		t.Fatalf("a failed announce added peers: %+v", tot)
	}
}

// TestDestinationEnforcement: the X-I2P-Dest* headers of an I2P server
// tunnel name the peer; an ip that disagrees updates nothing.
func TestDestinationEnforcement(t *testing.T) {
	sw := newSwarms()
	h := New(Config{}, sw)
	alice, mallory := newDest(t), newDest(t)
	ah := alice.Hash()
	for _, hdr := range []map[string]string{
		{"X-I2P-DestB64": alice.Base64()},
		{"X-I2P-DestHash": ah.Base64()},
		{"X-I2P-DestB32": ah.B32()},
	} {
		// No ip: the header is the peer.
		if _, body := (announceReq{headers: hdr, compact: true}).do(t, h); strings.Contains(body, "failure") || sw.last.Peer != ah || sw.last.ReadOnly {
			t.Fatalf("header %v: %q", hdr, body)
		}
		// An agreeing ip, with or without .i2p: the peer, updated.
		for _, ip := range []string{alice.Base64(), alice.Base64() + ".i2p"} {
			if _, body := (announceReq{headers: hdr, ip: ip, compact: true}).do(t, h); strings.Contains(body, "failure") || sw.last.Peer != ah || sw.last.ReadOnly {
				t.Fatalf("header %v, agreeing ip: %q", hdr, body)
			}
		}
		// A disagreeing ip: peers returned, nothing updated.
		_, body := announceReq{headers: hdr, ip: mallory.Base64(), compact: true}.do(t, h)
		if strings.Contains(body, "failure") || !sw.last.ReadOnly {
			t.Fatalf("mismatch with %v: %q readOnly=%v", hdr, body, sw.last.ReadOnly)
		}
		if _, ok := sw.AppendDestination(nil, mallory.Hash()); ok {
			t.Fatal("a mismatched ip entered the destination cache")
		}
	}
	// Strict mode refuses requests that did not come through a tunnel.
	h.SetStrict(true)
	if _, body := (announceReq{ip: alice.Base64()}).do(t, h); !strings.Contains(body, errNotTunneled.Msg) {
		t.Fatalf("strict without headers: %q", body)
	}
	if _, body := (announceReq{headers: map[string]string{"X-I2P-DestB64": alice.Base64()}, compact: true}).do(t, h); strings.Contains(body, "failure") {
		t.Fatalf("strict with headers: %q", body)
	}
}

func TestScrape(t *testing.T) {
	sw := newSwarms()
	h := New(Config{}, sw)
	alice := newDest(t)
	announceReq{ip: alice.Base64(), info: strings.Repeat("b", 20)}.do(t, h)
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	q := "?info_hash=" + url.QueryEscape(strings.Repeat("b", 20)) + "&info_hash=" + url.QueryEscape(strings.Repeat("a", 20)) +
		"&info_hash=" + url.QueryEscape(strings.Repeat("b", 20))
	want := "d5:filesd20:" + strings.Repeat("a", 20) + "d8:completei0e10:downloadedi0e10:incompletei0ee20:" +
		strings.Repeat("b", 20) + "d8:completei0e10:downloadedi0e10:incompletei1eeee"
	for _, p := range []string{"/scrape", "/scrape.php", "/scrape.jsp", "/a/scrape"} {
		if code, body := get(p + q); code != 200 || body != want {
			t.Fatalf("%s: %d\n%q\nwant\n%q", p, code, body, want)
		}
	}
	if _, body := get("/scrape"); !strings.Contains(body, errFullScrape.Msg) {
		t.Fatalf("full scrape while disabled: %q", body)
	}
	full := New(Config{FullScrape: true}, sw)
	rec := httptest.NewRecorder()
	full.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/scrape", nil))
	if !strings.Contains(rec.Body.String(), strings.Repeat("b", 20)) {
		t.Fatalf("full scrape: %q", rec.Body.String())
	}
	if code, _ := get("/nope"); code != 404 {
		t.Fatalf("unknown path: %d", code)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/a", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", rec.Code)
	}
}

func BenchmarkAnnounceCompact(b *testing.B) {
	sw := newSwarms()
	h := New(Config{}, sw)
	t := &testing.T{}
	var first string
	for i := range 60 {
		d := newDest(t)
		if i == 0 {
			first = d.Base64()
		}
		announceReq{ip: d.Base64()}.do(t, h)
	}
	v := url.Values{"info_hash": {strings.Repeat("i", 20)}, "peer_id": {"-XX0001-abcdefghijkl"}, "ip": {first}, "compact": {"1"}, "left": {"5"}}
	req := httptest.NewRequest(http.MethodGet, "/a?"+v.Encode(), nil)
	rec := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		rec.Body.Reset()
		h.ServeHTTP(rec, req)
	}
}

// padDest extends d's key certificate with junk to n bytes in all: a
// Destination the I2P parser accepts but no client has.
func padDest(t *testing.T, d i2p.Destination, n int) string {
	t.Helper()
	raw := append([]byte(nil), d.Bytes()...)
	certLen := n - i2p.MinDestinationLen
	raw[i2p.MinDestinationLen-2], raw[i2p.MinDestinationLen-1] = byte(certLen>>8), byte(certLen)
	raw = append(raw, make([]byte, n-len(raw))...)
	if p, err := i2p.ParseDestinationBase64(i2p.EncodeBase64(raw)); err != nil || p.Len() != n {
		t.Fatalf("padded destination of %d bytes does not parse: %v", n, err)
	}
	return i2p.EncodeBase64(raw)
}

// keyDest builds a Destination of the given key types with random keys.
func keyDest(t *testing.T, sig i2p.SigType, crypto i2p.CryptoType) i2p.Destination {
	t.Helper()
	enc, pub := make([]byte, crypto.PublicKeyLen()), make([]byte, sig.PublicKeyLen())
	rand.Read(enc)
	rand.Read(pub)
	pad := make([]byte, max(0, 384-min(len(enc), 256)-min(len(pub), 128)))
	d, err := i2p.NewDestination(crypto, enc, sig, pub, pad)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestIPDestinationBounds: ip must be a Destination a client can have —
// 387 to 395 bytes, a key certificate exactly as long as its key types
// need — and an ip longer than any such is refused whole.
func TestIPDestinationBounds(t *testing.T) {
	ed := newDest(t)
	p521 := keyDest(t, i2p.SigECDSASHA512P521, i2p.CryptoElGamal)
	dsa := keyDest(t, i2p.SigDSASHA1, i2p.CryptoElGamal)
	if ed.Len() != 391 || p521.Len() != MaxDestinationLen || dsa.Len() != 387 {
		t.Fatalf("test destinations of %d, %d, %d bytes", ed.Len(), p521.Len(), dsa.Len())
	}
	if maxIPLen != 532 {
		t.Fatalf("maxIPLen %d, want 532 (528 characters of Base64 and .i2p)", maxIPLen)
	}
	cases := []struct {
		name, ip string
		want     string // failure; "" accepted
		reason   string // counter moved
	}{
		{"Ed25519", ed.Base64(), "", ""},
		{"Ed25519 with .i2p", ed.Base64() + ".i2p", "", ""},
		{"ECDSA-P521, the longest", p521.Base64() + ".i2p", "", ""},
		{"DSA with a null certificate", dsa.Base64(), "", ""},
		{"X25519 crypto type", keyDest(t, i2p.SigEd25519, i2p.CryptoX25519).Base64(), "", ""},
		{"Ed25519 padded to 395", padDest(t, ed, 395), errDestLength.Msg, "bad_destination"},
		{"Ed25519 padded to 491", padDest(t, ed, 491), errIPTooLong.Error(), "ip_too_long"},
		{"Ed25519 padded to 521", padDest(t, ed, 521) + ".i2p", errIPTooLong.Error(), "ip_too_long"},
		{"RSA-2048, an offline type", keyDest(t, i2p.SigRSASHA2562048, i2p.CryptoElGamal).Base64(), errIPTooLong.Error(), "ip_too_long"},
		{"GOST, reserved", keyDest(t, i2p.SigGOST256, i2p.CryptoElGamal).Base64(), errDestSigType.Msg, "bad_destination"},
		{"Ed25519ph, offline only", keyDest(t, i2p.SigEd25519ph, i2p.CryptoElGamal).Base64(), errDestSigType.Msg, "bad_destination"},
		{"trailing garbage within the bound", ed.Base64() + "AAAA", errBadDest.Msg, "bad_destination"},
		{"trailing garbage past the bound", ed.Base64() + strings.Repeat("A", 400), errIPTooLong.Error(), "ip_too_long"},
		{"one character past the bound", p521.Base64() + ".i2pA", errIPTooLong.Error(), "ip_too_long"},
		{"megabyte", strings.Repeat("A", 1<<20), errIPTooLong.Error(), "ip_too_long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sw := newSwarms()
			h := New(Config{}, sw)
			code, body := announceReq{ip: c.ip, compact: true}.do(t, h)
			snap := h.Stats().Snapshot()
			if c.want == "" {
				if code != 200 || strings.Contains(body, "failure") || sw.Totals().Peers != 1 {
					t.Fatalf("refused: %d %q", code, body)
				}
				return
			}
			if code != 200 || body != string(appendFailure(nil, c.want)) {
				t.Fatalf("%d %q, want failure %q", code, body, c.want)
			}
			if snap.Failures[c.reason] != 1 || sw.Totals().Peers != 0 {
				t.Fatalf("counters %v, peers %d", snap.Failures, sw.Totals().Peers)
			}
		})
	}
}

// TestMethodNotAllowedCounted: a wrong method on a tracker path is a 405
// with Allow, counted like other failures.
func TestMethodNotAllowedCounted(t *testing.T) {
	h := New(Config{}, newSwarms())
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(m, "/announce", nil))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Fatalf("%s: %d %v", m, rec.Code, rec.Header())
		}
	}
	if n := h.Stats().Snapshot().Failures["method_not_allowed"]; n != 3 {
		t.Fatalf("%d counted, want 3", n)
	}
}

// TestNonCompactOmitted: a non-compact reply cannot name a peer whose
// Destination the tracker does not hold; it leaves it out and counts it.
func TestNonCompactOmitted(t *testing.T) {
	sw := newSwarms()
	h := New(Config{}, sw)
	info := strings.Repeat("o", 20)
	var ih tracker.InfoHash
	copy(ih[:], info)
	ghost := i2p.HashOf([]byte("known by its hash only"))
	if _, err := sw.Tracker.Announce(&tracker.AnnounceRequest{InfoHash: ih, Peer: ghost, Event: tracker.EventStarted, Left: 1}, nil); err != nil {
		t.Fatal(err)
	}
	alice, bob := newDest(t), newDest(t)
	announceReq{ip: alice.Base64(), info: info, compact: true}.do(t, h)
	_, body := announceReq{ip: bob.Base64(), info: info, left: "0"}.do(t, h)
	if !strings.Contains(body, "10:incompletei2e") || strings.Count(body, "2:ip") != 1 || !strings.Contains(body, alice.Base64()) {
		t.Fatalf("non-compact reply %q", body)
	}
	if n := h.Stats().Snapshot().Omitted; n != 1 {
		t.Fatalf("%d omitted, want 1", n)
	}
	_, body = announceReq{ip: bob.Base64(), info: info, left: "0", compact: true}.do(t, h)
	if !strings.Contains(body, "5:peers64:") || h.Stats().Snapshot().Omitted != 1 {
		t.Fatalf("compact reply %q", body)
	}
}

// TestFullScrapeSorted: a full scrape lists every swarm under keys in
// sorted order, as bencode requires, whatever order the shards hold them.
func TestFullScrapeSorted(t *testing.T) {
	sw := newSwarms()
	h := New(Config{FullScrape: true}, sw)
	const n = 200
	for i := range n {
		var ih tracker.InfoHash
		ih[0], ih[1] = byte(i*37), byte(i)
		if _, err := sw.Tracker.Announce(&tracker.AnnounceRequest{InfoHash: ih, Peer: i2p.HashOf([]byte{byte(i)}), Left: 1}, nil); err != nil {
			t.Fatal(err)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/scrape", nil))
	body := rec.Body.String()
	rest, ok := strings.CutPrefix(body, "d5:filesd")
	if !ok {
		t.Fatalf("full scrape %q", body)
	}
	var keys []string
	for strings.HasPrefix(rest, "20:") {
		keys = append(keys, rest[3:23])
		end := strings.Index(rest[23:], "ee")
		if end < 0 {
			t.Fatalf("entry %q", rest)
		}
		rest = rest[23+end+2:]
	}
	if rest != "ee" || len(keys) != n {
		t.Fatalf("%d entries, then %q", len(keys), rest)
	}
	for i := 1; i < len(keys); i++ {
		if keys[i-1] >= keys[i] {
			t.Fatalf("key %d (%x) not after %x", i, keys[i], keys[i-1])
		}
	}
	// It is counted with its size; a scrape of one hash is not.
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/scrape?info_hash=%01%02%03%04%05%06%07%08%09%0a%0b%0c%0d%0e%0f%10%11%12%13%14", nil))
	if s := h.Stats().Snapshot(); s.FullScrapes != 1 || s.FullScrapeBytes != uint64(len(body)) || s.Scrapes != 2 {
		t.Errorf("full scrape stats %+v, body %d bytes", s, len(body))
	}
}

// failingSwarms is a swarm model whose announces fail with err.
type failingSwarms struct {
	*tracker.Tracker
	err error
}

func (f failingSwarms) Announce(*tracker.AnnounceRequest, []i2p.Hash) (tracker.AnnounceResult, error) {
	return tracker.AnnounceResult{}, f.err
}

// TestRefusalText: a refusal the swarm model means for the client is
// sent with its text; an error of its own is not (its text may say
// anything about the tracker), and both are counted as refused.
func TestRefusalText(t *testing.T) {
	alice := newDest(t)
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("policy: %w", tracker.ErrPeerTableFull), "d14:failure reason40:tracker full: tracker has too many peerse"},
		{errors.New("open /data/badger: disk on fire"), "d14:failure reason14:internal errore"},
	} {
		h := New(Config{}, failingSwarms{tracker.New(tracker.Config{}, nil), c.err})
		if code, body := (announceReq{ip: alice.Base64()}).do(t, h); code != 200 || body != c.want {
			t.Fatalf("%v: %d %q, want %q", c.err, code, body, c.want)
		}
		if n := h.Stats().failures.Load(FailRefused); n != 1 {
			t.Fatalf("%v: %d counted refused, want 1", c.err, n)
		}
	}
}
