package udptracker

import (
	"github.com/go-i2p/go-opentracker/i2p"
	"testing"

	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/tracker/ratelimit"
)

// TestBadConnIDSendersCannotStarveLookups: unknown senders with wrong
// connection ids (anyone can send those, under any hash) fill only
// their own lookup budget; a real peer unknown to the cache is still
// looked up and answered, and what was refused is counted.
func TestBadConnIDSendersCannotStarveLookups(t *testing.T) {
	h := newHarness(t)
	h.srv.cfg.MaxLookups = 4
	h.session.gate = make(chan struct{})
	for i := range 20 {
		c := h.newClient(uint16(7000 + i))
		a := Announce{Header: Header{ConnectionID: 12345}, NumWant: -1}
		h.srv.HandleMessage(datagram.ProtocolDatagram3, c.port, DefaultPort, h.dg3(c, AppendAnnounceRequest(nil, &a)))
	}
	real := h.newClient(6880)
	hash := real.keys.Destination.Hash()
	real.cid = h.srv.ConnIDs().Issue(&hash, h.now)
	a := Announce{Header: Header{ConnectionID: real.cid, TransactionID: 9}, InfoHash: [20]byte{3}, NumWant: -1}
	h.srv.HandleMessage(datagram.ProtocolDatagram3, real.port, DefaultPort, h.dg3(real, AppendAnnounceRequest(nil, &a)))
	snap := h.srv.Stats().Snapshot()
	if snap.Drops["lookups_busy"] != 0 {
		t.Fatalf("a real peer was starved of lookups: %+v", snap.Drops)
	}
	if got := snap.Drops["lookups_busy_unproved_sender"]; got != 20-4 {
		t.Fatalf("%d bad-id senders refused a lookup, want %d", got, 20-4)
	}
	close(h.session.gate)
	for range 5 { // the real peer's reply and four error replies
		r := h.session.take(t)
		if r.to == hash && action(r.payload) != ActionAnnounce {
			t.Fatalf("real peer got %x", r.payload)
		}
	}
}

// TestRequestLimits: past its burst a sender's announces and scrapes
// are answered with a BEP 15 error and counted by kind; the sender is
// listed among the woodpeckers; another sender is served; a limit
// changed live applies at once.
func TestRequestLimits(t *testing.T) {
	h := newHarness(t)
	lim := ratelimit.New(ratelimit.Config{Limits: [ratelimit.NumKinds]ratelimit.Limit{
		ratelimit.Announce: {PerMinute: 1, Burst: 3}, ratelimit.Scrape: {PerMinute: 1, Burst: 1},
	}})
	h.srv.cfg.Limits = lim
	alice, bob := h.newClient(6880), h.newClient(6881)
	h.connect(alice)
	h.connect(bob)
	for i := range 5 {
		r := h.announce(alice, [20]byte{byte(i)}, 2, 1, -1)
		if want := i < 3; (action(r.payload) == ActionAnnounce) != want {
			t.Fatalf("announce %d: %q", i, r.payload)
		}
		if i >= 3 && string(r.payload[8:]) != msgLimited {
			t.Fatalf("refusal text %q", r.payload[8:])
		}
	}
	if r := h.announce(bob, [20]byte{1}, 2, 1, -1); action(r.payload) != ActionAnnounce {
		t.Fatalf("another sender refused: %q", r.payload)
	}
	for i := range 2 {
		h.srv.HandleMessage(datagram.ProtocolDatagram3, 6880, DefaultPort, h.dg3(alice, AppendScrapeRequest(nil, alice.cid, 1, [20]byte{1})))
		if r := h.session.take(t); (action(r.payload) == ActionScrape) != (i == 0) {
			t.Fatalf("scrape %d: %q", i, r.payload)
		}
	}
	snap := h.srv.Stats().Snapshot()
	if snap.Errors["announce_rate_limited"] != 2 || snap.Errors["scrape_rate_limited"] != 1 {
		t.Fatalf("errors %+v", snap.Errors)
	}
	top := lim.Woodpeckers(5)
	if len(top) != 1 || top[0].Peer != alice.keys.Destination.Hash() || top[0].Total != 3 {
		t.Fatalf("woodpeckers %+v", top)
	}
	lim.Set(ratelimit.Announce, ratelimit.Limit{})
	if r := h.announce(alice, [20]byte{9}, 2, 1, -1); action(r.payload) != ActionAnnounce {
		t.Fatalf("limit lifted live, still refused: %q", r.payload)
	}
}

// TestConnectLimit: a sender's verified connects are charged by
// signature cost; past the budget its connects are refused with an
// error, and later ones dropped before their signature is checked.
func TestConnectLimit(t *testing.T) {
	h := newHarness(t)
	h.srv.cfg.Limits = ratelimit.New(ratelimit.Config{Limits: [ratelimit.NumKinds]ratelimit.Limit{
		ratelimit.Connect: {PerMinute: 1, Burst: 2},
	}})
	alice := h.newClient(6880)
	for i := range 2 {
		if r := h.connect(alice); len(r.payload) != 18 {
			t.Fatalf("connect %d: %q", i, r.payload)
		}
	}
	// Over the budget: the peek before the check drops it.
	h.srv.HandleMessage(datagram.ProtocolDatagram2, alice.port, DefaultPort, h.dg2(alice, AppendConnectRequest(nil, 1)))
	h.settle()
	if n := h.srv.Stats().drops.Load(DropConnectLimited); n != 1 {
		t.Fatalf("%d connects dropped over the limit, want 1", n)
	}
	h.session.none(t)
	// Another sender is not affected.
	if r := h.connect(h.newClient(6881)); len(r.payload) != 18 {
		t.Fatalf("other sender: %q", r.payload)
	}
}

// panickySwarms panics where a connect is answered.
type panickySwarms struct{ Swarms }

func (panickySwarms) RememberDestination(i2p.Destination) { panic("bug") }

// TestVerifyWorkerSurvivesPanic: a panic while handling a connect on a
// verify worker is counted, and the worker serves the next one.
func TestVerifyWorkerSurvivesPanic(t *testing.T) {
	h := newHarness(t)
	srv, err := NewServer(Config{Now: h.srv.cfg.Now, VerifyWorkers: 1}, h.tracker.Destination.Hash(), []byte("0123456789abcdef0123456789abcdef"),
		panickySwarms{h.swarms}, h.session)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	c := h.newClient(6880)
	for range 2 {
		h.srv.HandleMessage(datagram.ProtocolDatagram2, c.port, DefaultPort, h.dg2(c, AppendConnectRequest(nil, 1)))
		h.settle()
	}
	if n := h.srv.Stats().drops.Load(DropVerifyPanic); n != 2 {
		t.Fatalf("%d panics counted, want 2", n)
	}
}
