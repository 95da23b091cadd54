package httptracker

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker"
	"github.com/go-i2p/go-opentracker/tracker/ratelimit"
)

// TestRefusedAnnounceNotRemembered: an announce the swarm model refuses
// leaves its Destination out of the cache (and so out of the journal).
func TestRefusedAnnounceNotRemembered(t *testing.T) {
	alice := newDest(t)
	sw := failingSwarms{tracker.New(tracker.Config{}, nil), fmt.Errorf("policy: %w", tracker.ErrPeerTableFull)}
	h := New(Config{}, sw)
	if _, body := (announceReq{ip: alice.Base64()}).do(t, h); !strings.Contains(body, "tracker full") {
		t.Fatalf("reply %q", body)
	}
	if _, ok := sw.AppendDestination(nil, alice.Hash()); ok {
		t.Fatal("a refused announce's Destination was remembered")
	}
}

// TestVerifiedPeer: a request whose context carries a verified peer (an
// I2P stream's remote Destination) announces that peer: an ip naming
// another changes nothing, X-I2P-Dest* headers the client sent are
// ignored, and strict enforcement lets it through.
func TestVerifiedPeer(t *testing.T) {
	sw := newSwarms()
	h := New(Config{Strict: true}, sw)
	alice, mallory := newDest(t), newDest(t)
	do := func(ip string, hdr map[string]string) string {
		t.Helper()
		v := url.Values{"info_hash": {strings.Repeat("v", 20)}, "peer_id": {"-XX0001-abcdefghijkl"}, "port": {"1"}, "left": {"0"}, "compact": {"1"}}
		if ip != "" {
			v.Set("ip", ip)
		}
		req := httptest.NewRequest(http.MethodGet, "/a?"+v.Encode(), nil)
		for k, val := range hdr {
			req.Header.Set(k, val)
		}
		req = req.WithContext(WithPeer(req.Context(), alice))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	for _, ip := range []string{"", alice.Base64(), alice.Base64() + ".i2p"} {
		if body := do(ip, nil); strings.Contains(body, "failure") || sw.last.Peer != alice.Hash() || sw.last.ReadOnly {
			t.Fatalf("ip %.10q: %q %+v", ip, body, sw.last)
		}
	}
	if body := do(mallory.Base64()+".i2p", nil); strings.Contains(body, "failure") || !sw.last.ReadOnly {
		t.Fatalf("a spoofed ip: %q readOnly=%v", body, sw.last.ReadOnly)
	}
	mh := mallory.Hash()
	if body := do("", map[string]string{"X-I2P-DestB64": mallory.Base64(), "X-I2P-DestHash": mh.Base64(), "X-I2P-DestB32": mh.B32()}); strings.Contains(body, "failure") ||
		sw.last.Peer != alice.Hash() || sw.last.ReadOnly {
		t.Fatalf("client-sent X-I2P headers: %q %+v", body, sw.last)
	}
	if _, ok := sw.AppendDestination(nil, mh); ok {
		t.Fatal("the spoofed Destination entered the cache")
	}
	if _, ok := sw.AppendDestination(nil, alice.Hash()); !ok {
		t.Fatal("the verified Destination is not cached")
	}
}

// TestUnverifiedRate: with strict enforcement off, announces whose peer
// no one vouches for are trusted at most at UnverifiedRate (burst twice
// that); the rest are refused and counted, and vouched-for ones are not
// limited.
func TestUnverifiedRate(t *testing.T) {
	sw := newSwarms()
	const rate = 5
	h := New(Config{UnverifiedRate: rate}, sw)
	start := time.Now()
	accepted := 0
	const sent = 60
	for range sent {
		if _, body := (announceReq{ip: newDest(t).Base64(), compact: true}).do(t, h); !strings.Contains(body, "failure") {
			accepted++
		}
	}
	bound := 2*rate + int(time.Since(start).Seconds()*rate) + 1
	if accepted > bound || accepted < 2*rate {
		t.Fatalf("%d of %d unverified announces accepted, want from %d to %d", accepted, sent, 2*rate, bound)
	}
	if n := h.Stats().failures.Load(FailUnverifiedRate); n != uint64(sent-accepted) {
		t.Fatalf("%d counted, %d refused", n, sent-accepted)
	}
	if tot := sw.Totals(); tot.Peers != uint64(accepted) {
		t.Fatalf("%d peers, %d accepted", tot.Peers, accepted)
	}
	alice := newDest(t)
	for range 3 * rate {
		if _, body := (announceReq{headers: map[string]string{"X-I2P-DestB64": alice.Base64()}, compact: true}).do(t, h); strings.Contains(body, "failure") {
			t.Fatalf("a tunnelled announce limited: %q", body)
		}
	}
}

// TestHTTPLimit: with Config.Limits, a verified peer's announces are
// charged to its ratelimit.HTTP budget; those over it fail and are
// counted, and another peer's budget is untouched.
func TestHTTPLimit(t *testing.T) {
	const burst = 3
	limits := ratelimit.New(ratelimit.Config{Limits: [ratelimit.NumKinds]ratelimit.Limit{ratelimit.HTTP: {PerMinute: 1, Burst: burst}}})
	h := New(Config{Limits: limits}, newSwarms())
	alice, bob := newDest(t), newDest(t)
	as := func(d i2p.Destination) string {
		_, body := (announceReq{headers: map[string]string{"X-I2P-DestB64": d.Base64()}, compact: true}).do(t, h)
		return body
	}
	for i := range burst {
		if body := as(alice); strings.Contains(body, "failure") {
			t.Fatalf("announce %d within the burst: %q", i, body)
		}
	}
	if body := as(alice); !strings.Contains(body, "too many requests") {
		t.Fatalf("announce over the burst: %q", body)
	}
	if n := h.Stats().failures.Load(FailLimited); n != 1 {
		t.Fatalf("%d counted limited, want 1", n)
	}
	if body := as(bob); strings.Contains(body, "failure") {
		t.Fatalf("another peer limited: %q", body)
	}
}

// TestHTTPScrapeLimit: a verified sender's scrapes and bid scrapes draw
// on the same ratelimit.HTTP budget as its announces; those over it fail
// and are counted, and another sender is still answered.
func TestHTTPScrapeLimit(t *testing.T) {
	const burst = 4
	limits := ratelimit.New(ratelimit.Config{Limits: [ratelimit.NumKinds]ratelimit.Limit{ratelimit.HTTP: {PerMinute: 1, Burst: burst}}})
	tr := tracker.New(tracker.Config{Bids: tracker.BidConfig{On: true}}, nil)
	h := New(Config{Limits: limits}, tr)
	alice, bob := newDest(t), newDest(t)
	as := func(d i2p.Destination, target string) string {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("X-I2P-DestB64", d.Base64())
		h.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	scrape := "/scrape?info_hash=" + strings.Repeat("i", 20)
	for i, target := range []string{scrape, scrape, "/bids", scrape} {
		if body := as(alice, target); strings.Contains(body, "failure") {
			t.Fatalf("request %d within the burst: %q", i, body)
		}
	}
	for _, target := range []string{scrape, "/bids"} {
		if body := as(alice, target); !strings.Contains(body, "too many requests") {
			t.Fatalf("%s over the burst: %q", target, body)
		}
	}
	if _, body := (announceReq{headers: map[string]string{"X-I2P-DestB64": alice.Base64()}, compact: true}).do(t, h); !strings.Contains(body, "too many requests") {
		t.Fatalf("announce after the scrapes spent the budget: %q", body)
	}
	if n := h.Stats().failures.Load(FailLimited); n != 3 {
		t.Fatalf("%d counted limited, want 3", n)
	}
	if body := as(bob, scrape); strings.Contains(body, "failure") {
		t.Fatalf("another sender limited: %q", body)
	}
	if _, body := get(h, scrape); strings.Contains(body, "failure") {
		t.Fatalf("a scrape with no verified sender refused: %q", body)
	}
}
