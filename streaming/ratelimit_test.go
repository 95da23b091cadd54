package streaming

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// synFrom makes a signed SYN from the identity (d, k) to target.
func synFrom(t *testing.T, d i2p.Destination, k i2p.SigningKey, target i2p.Destination, id uint32) []byte {
	t.Helper()
	p := testSYN(d, target)
	p.ReceiveStreamID = id
	raw, err := p.AppendSigned(nil, k)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// refusals records the packets a server sends that refuse a SYN.
type refusals struct {
	mu   sync.Mutex
	pkts []Packet
}

func (r *refusals) observe(_ i2p.Hash, p *Packet) {
	if p.Has(FlagReset) || p.Has(FlagSYN|FlagClose) {
		r.mu.Lock()
		r.pkts = append(r.pkts, *p)
		r.mu.Unlock()
	}
}

func (r *refusals) all() []Packet {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Packet(nil), r.pkts...)
}

// check429 asserts that p is a signed SYN·CLOSE reply to stream id whose
// payload is an HTTP 429 with a Retry-After in [lo, hi] seconds.
func check429(t *testing.T, p Packet, id uint32, lo, hi int) {
	t.Helper()
	if !p.Has(FlagSYN|FlagClose|FlagSignature|FlagFrom) || p.Has(FlagReset) || p.SendStreamID != id {
		t.Fatalf("refusal of %d is not a SYN·CLOSE reply: flags %#x, to %d", id, p.Flags, p.SendStreamID)
	}
	if err := p.Verify(Signer{}, time.Now(), nil); err != nil {
		t.Fatalf("429 reply does not verify: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(p.Payload)), nil)
	if err != nil {
		t.Fatalf("429 payload: %v\n%s", err, p.Payload)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || len(body) == 0 {
		t.Fatalf("429 body %q: %v", body, err)
	}
	after, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || err != nil || after < lo || after > hi {
		t.Fatalf("status %d, Retry-After %q, want 429 and [%d, %d]", resp.StatusCode, resp.Header.Get("Retry-After"), lo, hi)
	}
}

// TestRateLimits: each rate limit refuses the first SYN over it, with a
// 429 under the default LimitHTTP and a RESET under LimitReset, and
// counts it by reason; refused SYNs do not use up the quota.
func TestRateLimits(t *testing.T) {
	cases := []struct {
		name         string
		set          func(*Config)
		peers        int // distinct peers sending, round robin
		allowed      int
		count        func(Stats) uint64
		minRA, maxRA int
	}{
		{"per peer per minute", func(c *Config) { c.MaxConnsPerMinute = 2 }, 1, 2,
			func(s Stats) uint64 { return s.Refused[RefusedPeerMinute.String()] }, 1, 60},
		{"per peer per hour", func(c *Config) { c.MaxConnsPerMinute, c.MaxConnsPerHour = 50, 3 }, 1, 3,
			func(s Stats) uint64 { return s.Refused[RefusedPeerHour.String()] }, 61, 3600},
		{"in total per minute", func(c *Config) { c.MaxTotalConnsPerMinute = 4 }, 3, 4,
			func(s Stats) uint64 { return s.Refused[RefusedTotalMinute.String()] }, 1, 60},
	}
	for _, tc := range cases {
		for _, action := range []LimitAction{LimitHTTP, LimitReset} {
			t.Run(tc.name+"/"+[]string{"http", "reset"}[action], func(t *testing.T) {
				n := newMemNet(1, 0, 0, 0)
				cfg := fastConfig()
				cfg.MaxStreamsPerPeer, cfg.LimitAction = 100, action
				tc.set(&cfg)
				srv := n.node(t, cfg)
				var seen refusals
				n.setObserver(seen.observe)
				l, err := srv.Listen()
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				type ident struct {
					d i2p.Destination
					k i2p.SigningKey
				}
				ids := make([]ident, tc.peers)
				for i := range ids {
					ids[i].d, ids[i].k = newTestIdentity(t, i2p.SigEd25519)
				}
				const sent = 3
				for i := range tc.allowed + sent {
					id := ids[i%tc.peers]
					srv.HandlePacket(0, 80, synFrom(t, id.d, id.k, srv.Destination(), uint32(100+i)))
				}
				st := srv.Stats()
				if st.Accepted != uint64(tc.allowed) || tc.count(st) != sent {
					t.Fatalf("accepted %d, refused %d; want %d, %d (%+v)", st.Accepted, tc.count(st), tc.allowed, sent, st)
				}
				got := seen.all()
				if len(got) != sent {
					t.Fatalf("%d refusals sent, want %d: %+v", len(got), sent, got)
				}
				first := uint32(100 + tc.allowed)
				if action == LimitReset {
					if !got[0].Has(FlagReset|FlagSignature|FlagFrom) || got[0].SendStreamID != first || st.Replies429 != 0 {
						t.Fatalf("refusal %+v is not a RESET to %d", got[0], first)
					}
					return
				}
				check429(t, got[0], first, tc.minRA, tc.maxRA)
				if st.Replies429 != sent {
					t.Fatalf("Replies429 %d, want %d", st.Replies429, sent)
				}
			})
		}
	}
}

// TestRateWindows: the limiter's windows restart when they pass: a peer
// over its minute may go on the next minute until its hour is used up.
func TestRateWindows(t *testing.T) {
	r := newRateLimiter(Config{MaxConnsPerMinute: 2, MaxConnsPerHour: 5, MaxTotalConnsPerMinute: 100, MaxRatePeers: 10})
	peer := i2p.Hash{1}
	t0 := time.Unix(1_000_000, 0)
	want := []limitReason{withinLimits, withinLimits, overPeerMinute}
	for minute := range 3 {
		now := t0.Add(time.Duration(minute) * time.Minute)
		if minute == 2 {
			want = []limitReason{withinLimits, overPeerHour}
		}
		for i, w := range want {
			if got, after := r.allow(peer, now.Add(time.Duration(i)*time.Second)); got != w {
				t.Fatalf("minute %d, stream %d: %v (retry after %d), want %v", minute, i, got, after, w)
			}
		}
	}
	if got, _ := r.allow(peer, t0.Add(time.Hour)); got != withinLimits {
		t.Fatalf("a new hour: %v", got)
	}
	if got, after := r.allow(i2p.Hash{2}, t0.Add(time.Hour)); got != withinLimits || after != 0 {
		t.Fatalf("another peer: %v", got)
	}
}

// TestRateTableBound: the per-peer table never outgrows MaxRatePeers;
// forgetting a peer within its hour is counted, forgetting one whose hour
// is over is not.
func TestRateTableBound(t *testing.T) {
	const bound = 16
	r := newRateLimiter(Config{MaxConnsPerMinute: 5, MaxConnsPerHour: 10, MaxRatePeers: bound})
	t0 := time.Unix(1_000_000, 0)
	for i := range 100 {
		if got, _ := r.allow(i2p.Hash{byte(i), 1}, t0.Add(time.Duration(i)*time.Millisecond)); got != withinLimits {
			t.Fatalf("peer %d: %v", i, got)
		}
		if len(r.peers) > bound {
			t.Fatalf("%d peers remembered, bound %d", len(r.peers), bound)
		}
	}
	if r.evicted != 100-bound {
		t.Fatalf("%d evictions, want %d", r.evicted, 100-bound)
	}
	later := t0.Add(2 * time.Hour)
	for i := range bound {
		r.allow(i2p.Hash{byte(i), 2}, later)
	}
	if r.evicted != 100-bound || len(r.peers) != bound {
		t.Fatalf("expired peers counted as evictions: %d, %d peers", r.evicted, len(r.peers))
	}
}

// TestHTTP429OverStreaming: an http.Client on our Dialer gets the 429 a
// rate limit answers with, and its stream ends cleanly: the server
// acknowledges the refused stream's CLOSE.
func TestHTTP429OverStreaming(t *testing.T) {
	n := newMemNet(1, 0, 0, 0)
	cfg := fastConfig()
	cfg.MaxConnsPerMinute = 1
	srv, cli := n.node(t, cfg), n.node(t, fastConfig())
	l, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go serveOnce(t, l, nil)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return Dialer{Manager: cli, Port: 80, Early: true}.Dial(ctx, srv.Destination())
		},
	}}
	for i, want := range []int{http.StatusOK, http.StatusTooManyRequests} {
		resp, err := client.Get("http://" + srv.Destination().B32() + "/a")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || want == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Fatalf("request %d: %s %v", i, resp.Status, resp.Header)
		}
	}
	waitFor(t, 10*time.Second, "the client's streams to end", func() bool { return cli.Stats().Open == 0 })
	if st := cli.Stats(); st.Timeouts != 0 || st.ResetsReceived != 0 {
		t.Fatalf("client stats %+v", st)
	}
	if st := srv.Stats(); st.Replies429 != 1 || st.Refused[RefusedPeerMinute.String()] != 1 {
		t.Fatalf("server stats %+v", st)
	}
}

// BenchmarkRateLimiter: one limiter check per iteration, for peers
// cycling through a full table (the common case) and for a new peer each
// time, which evicts.
func BenchmarkRateLimiter(b *testing.B) {
	cfg := Config{}.withDefaults()
	cfg.MaxConnsPerMinute, cfg.MaxConnsPerHour, cfg.MaxTotalConnsPerMinute = 1<<30, 1<<30, 1<<30
	peers := make([]i2p.Hash, cfg.MaxRatePeers)
	for i := range peers {
		peers[i] = i2p.Hash{byte(i), byte(i >> 8), byte(i >> 16), 7}
	}
	now := time.Now()
	b.Run("known", func(b *testing.B) {
		r := newRateLimiter(cfg)
		i := 0
		for b.Loop() {
			r.allow(peers[i%len(peers)], now)
			i++
		}
	})
	b.Run("evicting", func(b *testing.B) {
		r := newRateLimiter(cfg)
		for _, p := range peers {
			r.allow(p, now)
		}
		var h i2p.Hash
		i := 0
		for b.Loop() {
			h[0], h[1], h[2], h[3], h[4] = byte(i), byte(i>>8), byte(i>>16), byte(i>>24), 9
			r.allow(h, now)
			i++
		}
	})
}

// TestLateCloseAcknowledged: the peer's CLOSE for a stream refused with a
// 429 gets an ACK through its sequence number, from the remembered
// stream; a CLOSE naming another peer stream ID gets none.
func TestLateCloseAcknowledged(t *testing.T) {
	n := newMemNet(1, 0, 0, 0)
	cfg := fastConfig()
	cfg.MaxConnsPerMinute, cfg.MaxConnsPerHour, cfg.MaxTotalConnsPerMinute = -1, -1, 1
	srv := n.node(t, cfg)
	l, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	var sent []Packet
	n.setObserver(func(_ i2p.Hash, p *Packet) {
		mu.Lock()
		sent = append(sent, *p)
		mu.Unlock()
	})
	d, k := newTestIdentity(t, i2p.SigEd25519)
	for id := uint32(7); id <= 8; id++ {
		p := testSYN(d, srv.Destination())
		p.ReceiveStreamID = id
		raw, _ := p.AppendSigned(nil, k)
		srv.HandlePacket(0, 80, raw)
	}
	find := func(match func(p Packet) bool) (Packet, bool) {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range sent {
			if match(p) {
				return p, true
			}
		}
		return Packet{}, false
	}
	var reply Packet
	waitFor(t, 5*time.Second, "the 429", func() bool {
		var ok bool
		reply, ok = find(func(p Packet) bool { return p.SendStreamID == 8 && p.Has(FlagSYN|FlagClose) })
		return ok
	})
	for _, peerID := range []uint32{9, 8} { // a stranger's, then the refused stream's
		c := &Packet{SendStreamID: reply.ReceiveStreamID, ReceiveStreamID: peerID, Seq: 1, AckThrough: reply.Seq,
			Flags: FlagClose | FlagFrom, From: d}
		raw, err := c.AppendSigned(nil, k)
		if err != nil {
			t.Fatal(err)
		}
		srv.HandlePacket(0, 80, raw)
	}
	isAck := func(peerID uint32) func(p Packet) bool {
		return func(p Packet) bool {
			return p.SendStreamID == peerID && p.ReceiveStreamID == reply.ReceiveStreamID && !p.Has(FlagSYN)
		}
	}
	waitFor(t, 5*time.Second, "the CLOSE's ACK", func() bool { _, ok := find(isAck(8)); return ok })
	if ack, _ := find(isAck(8)); ack.AckThrough != 1 || ack.Has(FlagNoACK) {
		t.Fatalf("ACK %+v, want ackThrough 1", ack)
	}
	if p, ok := find(isAck(9)); ok {
		t.Fatalf("a CLOSE naming stream 9 was acknowledged: %+v", p)
	}
}
