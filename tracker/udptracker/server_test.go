package udptracker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/panics"
	"github.com/go-i2p/go-opentracker/tracker"
	"github.com/go-i2p/go-opentracker/tracker/ratelimit"
)

// sent is one datagram the transport handed to the session.
type sent struct {
	to               i2p.Hash
	protocol         uint8
	fromPort, toPort uint16
	payload          []byte
}

// recordingSession captures sends and answers lookups from a directory;
// lookups block until released when gate is set.
type recordingSession struct {
	mu      sync.Mutex
	sent    []sent
	dir     map[i2p.Hash]i2p.Destination
	lookups int
	gate    chan struct{}
	got     chan struct{}
}

func newRecordingSession() *recordingSession {
	return &recordingSession{dir: map[i2p.Hash]i2p.Destination{}, got: make(chan struct{}, 100)}
}

func (r *recordingSession) SendSerialized(to []byte, protocol uint8, fromPort, toPort uint16, payload []byte) error {
	d, rest, err := i2p.ParseDestination(to)
	if err != nil || len(rest) != 0 {
		panic("sent to a malformed Destination")
	}
	r.mu.Lock()
	r.sent = append(r.sent, sent{d.Hash(), protocol, fromPort, toPort, append([]byte(nil), payload...)})
	r.mu.Unlock()
	r.got <- struct{}{}
	return nil
}

func (r *recordingSession) Lookup(ctx context.Context, h i2p.Hash) (i2p.Destination, error) {
	r.mu.Lock()
	r.lookups++
	d, ok := r.dir[h]
	gate := r.gate
	r.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return i2p.Destination{}, ctx.Err()
		}
	}
	if !ok {
		return i2p.Destination{}, errors.New("not found")
	}
	return d, nil
}

func (r *recordingSession) take(t *testing.T) sent {
	t.Helper()
	select {
	case <-r.got:
	case <-time.After(5 * time.Second):
		t.Fatal("no datagram sent")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sent[0]
	r.sent = r.sent[1:]
	return s
}

func (r *recordingSession) none(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.sent) != 0 {
		t.Fatalf("unexpected datagram sent: %x", r.sent[0].payload)
	}
}

type harness struct {
	t       *testing.T
	tracker *i2p.PrivateKeys
	srv     *Server
	session *recordingSession
	swarms  *tracker.Tracker
	now     time.Time
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	keys, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, tracker: keys, session: newRecordingSession(), now: time.Unix(1_800_000_000, 0)}
	h.swarms = tracker.New(tracker.Config{Now: func() time.Time { return h.now }}, nil)
	h.srv, err = NewServer(Config{Now: func() time.Time { return h.now }, LookupTimeout: 2 * time.Second},
		keys.Destination.Hash(), []byte("0123456789abcdef0123456789abcdef"), h.swarms, h.session)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// settle waits until no connect waits for its signature check.
func (h *harness) settle() {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.srv.verifying.Load() != 0 {
		if time.Now().After(deadline) {
			h.t.Fatal("connects still being verified")
		}
		time.Sleep(time.Millisecond)
	}
}

type client struct {
	keys *i2p.PrivateKeys
	port uint16
	cid  uint64
}

func (h *harness) newClient(port uint16) *client {
	k, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		h.t.Fatal(err)
	}
	h.session.mu.Lock()
	h.session.dir[k.Destination.Hash()] = k.Destination
	h.session.mu.Unlock()
	return &client{keys: k, port: port}
}

func (h *harness) dg2(c *client, payload []byte) []byte {
	b, err := datagram.AppendDatagram2(nil, c.keys, h.tracker.Destination.Hash(), nil, payload)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

func (h *harness) dg3(c *client, payload []byte) []byte {
	b, err := datagram.AppendDatagram3(nil, c.keys.Destination.Hash(), nil, payload)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

// connect performs a Datagram2 connect and returns the reply.
func (h *harness) connect(c *client) sent {
	h.srv.HandleMessage(datagram.ProtocolDatagram2, c.port, DefaultPort, h.dg2(c, AppendConnectRequest(nil, 77)))
	r := h.session.take(h.t)
	if len(r.payload) == 18 {
		c.cid = binary.BigEndian.Uint64(r.payload[8:])
	}
	return r
}

func (h *harness) announce(c *client, info [20]byte, event tracker.Event, left uint64, want int32) sent {
	a := Announce{Header: Header{ConnectionID: c.cid, TransactionID: 5}, InfoHash: info, Event: event, Left: left, NumWant: want, Port: 6881}
	h.srv.HandleMessage(datagram.ProtocolDatagram3, c.port, DefaultPort, h.dg3(c, AppendAnnounceRequest(nil, &a)))
	return h.session.take(h.t)
}

func action(p []byte) uint32 { return binary.BigEndian.Uint32(p) }

func TestConnectAnnounceFlow(t *testing.T) {
	h := newHarness(t)
	alice, bob := h.newClient(6880), h.newClient(7000)
	r := h.connect(alice)
	if r.protocol != datagram.ProtocolRaw || r.fromPort != DefaultPort || r.toPort != 6880 || r.to != alice.keys.Destination.Hash() {
		t.Fatalf("connect reply sent as %d %d→%d", r.protocol, r.fromPort, r.toPort)
	}
	if len(r.payload) != 18 || action(r.payload) != ActionConnect || binary.BigEndian.Uint32(r.payload[4:]) != 77 ||
		binary.BigEndian.Uint16(r.payload[16:]) != DefaultLifetime {
		t.Fatalf("connect reply %x", r.payload)
	}
	h.connect(bob)
	info := [20]byte{1}
	r = h.announce(alice, info, tracker.EventStarted, 100, -1)
	if action(r.payload) != ActionAnnounce || len(r.payload) != 20 || r.toPort != 6880 {
		t.Fatalf("first announce reply %x", r.payload)
	}
	r = h.announce(bob, info, tracker.EventStarted, 0, 50)
	if len(r.payload) != 20+32 || [32]byte(r.payload[20:]) != alice.keys.Destination.Hash() {
		t.Fatalf("bob should see alice: %x", r.payload)
	}
	if binary.BigEndian.Uint32(r.payload[12:]) != 1 || binary.BigEndian.Uint32(r.payload[16:]) != 1 {
		t.Fatalf("leechers/seeders %x", r.payload[12:20])
	}
	r = h.announce(alice, info, tracker.EventStopped, 100, -1)
	if len(r.payload) != 20 {
		t.Fatalf("stopped announce returned peers: %x", r.payload)
	}
	// Scrape sees bob only.
	h.srv.HandleMessage(datagram.ProtocolDatagram3, 7000, DefaultPort, h.dg3(bob, AppendScrapeRequest(nil, bob.cid, 9, info, [20]byte{2})))
	r = h.session.take(t)
	if action(r.payload) != ActionScrape || len(r.payload) != 8+24 || binary.BigEndian.Uint32(r.payload[8:]) != 1 {
		t.Fatalf("scrape reply %x", r.payload)
	}
	snap := h.srv.Stats().Snapshot()
	if snap.Connects != 2 || snap.Announces != 3 || snap.Scrapes != 1 || snap.Lookups != 0 {
		t.Fatalf("stats %+v", snap)
	}
}

func TestErrorsAndDrops(t *testing.T) {
	h := newHarness(t)
	alice := h.newClient(6880)
	h.connect(alice)

	// Announce as a Datagram2: an error, sent to the verified sender.
	a := Announce{Header: Header{ConnectionID: alice.cid, TransactionID: 3}, NumWant: -1}
	h.srv.HandleMessage(datagram.ProtocolDatagram2, 6880, DefaultPort, h.dg2(alice, AppendAnnounceRequest(nil, &a)))
	if r := h.session.take(t); action(r.payload) != ActionError || string(r.payload[8:]) != msgNeedDatagram3 {
		t.Fatalf("announce as Datagram2: %q", r.payload)
	}
	// Connect as a Datagram3: an error.
	h.srv.HandleMessage(datagram.ProtocolDatagram3, 6880, DefaultPort, h.dg3(alice, AppendConnectRequest(nil, 4)))
	if r := h.session.take(t); action(r.payload) != ActionError || string(r.payload[8:]) != msgNeedDatagram2 {
		t.Fatalf("connect as Datagram3: %q", r.payload)
	}
	// A wrong connection id: an error.
	bad := Announce{Header: Header{ConnectionID: alice.cid ^ 1, TransactionID: 3}}
	h.srv.HandleMessage(datagram.ProtocolDatagram3, 6880, DefaultPort, h.dg3(alice, AppendAnnounceRequest(nil, &bad)))
	if r := h.session.take(t); string(r.payload[8:]) != msgBadConnID {
		t.Fatalf("bad cid: %q", r.payload)
	}
	// An expired connection id: after two periods it is refused.
	h.now = h.now.Add(2*(DefaultLifetime+60)*time.Second + time.Second)
	h.srv.HandleMessage(datagram.ProtocolDatagram3, 6880, DefaultPort, h.dg3(alice, AppendAnnounceRequest(nil, &a)))
	if r := h.session.take(t); string(r.payload[8:]) != msgBadConnID {
		t.Fatalf("expired cid: %q", r.payload)
	}
	// Unknown action, as a Datagram3 and as a Datagram2: the same error.
	unk := AppendScrapeRequest(nil, alice.cid, 1, [20]byte{})
	binary.BigEndian.PutUint32(unk[8:], 9)
	h.srv.HandleMessage(datagram.ProtocolDatagram3, 6880, DefaultPort, h.dg3(alice, unk))
	if r := h.session.take(t); string(r.payload[8:]) != msgUnknownAction {
		t.Fatalf("unknown action: %q", r.payload)
	}
	h.srv.HandleMessage(datagram.ProtocolDatagram2, 6880, DefaultPort, h.dg2(alice, unk))
	if r := h.session.take(t); string(r.payload[8:]) != msgUnknownAction || r.to != alice.keys.Destination.Hash() {
		t.Fatalf("unknown action as Datagram2: %q", r.payload)
	}
	if n := h.srv.Stats().errors.Load(ErrorUnknownAction); n != 2 {
		t.Fatalf("%d unknown actions counted, want 2", n)
	}

	drops := []struct {
		name             string
		protocol         uint8
		fromPort, toPort uint16
		payload          []byte
		reason           DropReason
	}{
		{"protocol 17 on the tracker port", datagram.ProtocolDatagram1, 6880, DefaultPort, []byte("x"), DropDatagram1},
		{"other port", datagram.ProtocolDatagram3, 6880, 6970, h.dg3(alice, AppendConnectRequest(nil, 1)), DropWrongPort},
		{"from port 0", datagram.ProtocolDatagram3, 0, DefaultPort, h.dg3(alice, AppendConnectRequest(nil, 1)), DropFromPortZero},
		{"raw protocol", datagram.ProtocolRaw, 6880, DefaultPort, []byte("x"), DropWrongProtocol},
		{"zero sender", datagram.ProtocolDatagram3, 6880, DefaultPort,
			func() []byte {
				b, _ := datagram.AppendDatagram3(nil, i2p.Hash{}, nil, AppendConnectRequest(nil, 1))
				return b
			}(), DropZeroSender},
		{"Datagram2 for another receiver", datagram.ProtocolDatagram2, 6880, DefaultPort,
			func() []byte {
				b, _ := datagram.AppendDatagram2(nil, alice.keys, i2p.HashOf([]byte("other")), nil, AppendConnectRequest(nil, 1))
				return b
			}(), DropBadSignature},
		{"garbage Datagram3", datagram.ProtocolDatagram3, 6880, DefaultPort, []byte("short"), DropMalformedDatagram},
		{"short BEP 15 header", datagram.ProtocolDatagram3, 6880, DefaultPort, h.dg3(alice, []byte("0123")), DropMalformed},
		{"connect with a bad protocol id", datagram.ProtocolDatagram2, 6880, DefaultPort, h.dg2(alice, func() []byte {
			b := AppendConnectRequest(nil, 1)
			b[7] ^= 1
			return b
		}()), DropMalformed},
	}
	for _, d := range drops {
		before := h.srv.Stats().drops.Load(d.reason)
		h.srv.HandleMessage(d.protocol, d.fromPort, d.toPort, d.payload)
		h.settle()
		if h.srv.Stats().drops.Load(d.reason) != before+1 {
			t.Errorf("%s: not counted as %v", d.name, d.reason)
		}
		h.session.none(t)
	}
}

// TestLookupForUnknownSender covers the Datagram3 sender whose Destination
// the tracker has never seen: the reply waits for a HostLookup.
func TestLookupForUnknownSender(t *testing.T) {
	h := newHarness(t)
	alice := h.newClient(6880)
	sender := alice.keys.Destination.Hash()
	alice.cid = h.srv.ConnIDs().Issue(&sender, h.now) // as if connected before a restart
	h.session.gate = make(chan struct{})
	a := Announce{Header: Header{ConnectionID: alice.cid, TransactionID: 3}, InfoHash: [20]byte{7}, NumWant: -1}
	for range 3 { // retransmissions share one lookup
		h.srv.HandleMessage(datagram.ProtocolDatagram3, 6880, DefaultPort, h.dg3(alice, AppendAnnounceRequest(nil, &a)))
	}
	close(h.session.gate)
	for range 3 {
		if r := h.session.take(t); action(r.payload) != ActionAnnounce || r.to != sender {
			t.Fatalf("reply after lookup: %x", r.payload)
		}
	}
	h.session.mu.Lock()
	lookups := h.session.lookups
	h.session.mu.Unlock()
	if lookups != 1 {
		t.Fatalf("%d lookups, want 1", lookups)
	}
	if _, ok := h.swarms.AppendDestination(nil, sender); !ok {
		t.Fatal("looked-up Destination not cached")
	}
	// An unknown sender whose lookup fails gets nothing, counted.
	ghost := h.newClient(6881)
	h.session.mu.Lock()
	delete(h.session.dir, ghost.keys.Destination.Hash())
	h.session.gate = nil
	h.session.mu.Unlock()
	gh := ghost.keys.Destination.Hash()
	ghost.cid = h.srv.ConnIDs().Issue(&gh, h.now)
	h.srv.HandleMessage(datagram.ProtocolDatagram3, 6881, DefaultPort, h.dg3(ghost, AppendAnnounceRequest(nil, &a)))
	deadline := time.Now().Add(5 * time.Second)
	for h.srv.Stats().drops.Load(DropLookupFailed) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if h.srv.Stats().drops.Load(DropLookupFailed) != 1 {
		t.Fatal("failed lookup not counted")
	}
	h.session.none(t)
}

func TestPendingRepliesBounded(t *testing.T) {
	h := newHarness(t)
	h.srv.cfg.MaxLookups = 2
	h.srv.cfg.MaxPendingReplies = 3
	h.session.gate = make(chan struct{})
	defer close(h.session.gate)
	for i := range 5 {
		c := h.newClient(uint16(7000 + i))
		hash := c.keys.Destination.Hash()
		c.cid = h.srv.ConnIDs().Issue(&hash, h.now)
		a := Announce{Header: Header{ConnectionID: c.cid}, NumWant: -1}
		h.srv.HandleMessage(datagram.ProtocolDatagram3, c.port, DefaultPort, h.dg3(c, AppendAnnounceRequest(nil, &a)))
	}
	if busy := h.srv.Stats().drops.Load(DropLookupsBusy); busy != 3 {
		t.Fatalf("%d dropped for busy lookups, want 3", busy)
	}
}

// TestPendingRepliesFull: replies waiting on lookups are bounded; past
// the bound they are dropped and counted, and the lookup in flight still
// answers what it holds.
func TestPendingRepliesFull(t *testing.T) {
	h := newHarness(t)
	h.srv.cfg.MaxPendingReplies = 3
	h.session.gate = make(chan struct{})
	c := h.newClient(7000)
	hash := c.keys.Destination.Hash()
	c.cid = h.srv.ConnIDs().Issue(&hash, h.now)
	a := Announce{Header: Header{ConnectionID: c.cid, TransactionID: 1}, NumWant: -1}
	msg := h.dg3(c, AppendAnnounceRequest(nil, &a))
	for range 5 { // one lookup; three replies wait, two do not fit
		h.srv.HandleMessage(datagram.ProtocolDatagram3, c.port, DefaultPort, msg)
	}
	if full := h.srv.Stats().drops.Load(DropPendingFull); full != 2 {
		t.Fatalf("%d dropped for full pending replies, want 2", full)
	}
	close(h.session.gate)
	for range 3 {
		if r := h.session.take(t); action(r.payload) != ActionAnnounce || r.to != hash {
			t.Fatalf("reply after the lookup: %x", r.payload)
		}
	}
	if snap := h.srv.Stats().Snapshot(); snap.Lookups != 1 || snap.Replies != 3 {
		t.Fatalf("stats %+v", snap)
	}
	h.session.none(t)
}

// TestAnnounceOptionsServed: BEP 41 options, well-formed or cut short,
// never cost the announce its answer; both kinds are counted.
func TestAnnounceOptionsServed(t *testing.T) {
	h := newHarness(t)
	seen := &urlRecorder{Tracker: h.swarms}
	srv, err := NewServer(h.srv.cfg, h.tracker.Destination.Hash(), []byte("0123456789abcdef0123456789abcdef"), seen, h.session)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	alice := h.newClient(6880)
	h.connect(alice)
	a := Announce{Header: Header{ConnectionID: alice.cid, TransactionID: 3}, InfoHash: [20]byte{4}, NumWant: -1}
	for i, opts := range []string{"\x02\x0b/announce?x", "\x02\x02/a\x02\xff?k=v", "\x01\x01\x09"} {
		msg := append(AppendAnnounceRequest(nil, &a), opts...)
		h.srv.HandleMessage(datagram.ProtocolDatagram3, 6880, DefaultPort, h.dg3(alice, msg))
		if r := h.session.take(t); action(r.payload) != ActionAnnounce || len(r.payload) != 20 {
			t.Fatalf("options %q: reply %x", opts, r.payload)
		}
		// The swarm model is handed the URL data (the whole options of
		// the first; of the second, the option before the one that
		// overruns; none of the third).
		if want := []string{"/announce?x", "/a", ""}[i]; seen.last != want {
			t.Fatalf("options %q: the tracker saw URL data %q, want %q", opts, seen.last, want)
		}
	}
	if snap := h.srv.Stats().Snapshot(); snap.Announces != 3 || snap.URLData != 2 || snap.BadOptions != 2 {
		t.Fatalf("stats %+v", snap)
	}
}

// urlRecorder is the swarm model, noting the URL data of each announce.
type urlRecorder struct {
	*tracker.Tracker
	last string
}

func (u *urlRecorder) Announce(req *tracker.AnnounceRequest, peers []i2p.Hash) (tracker.AnnounceResult, error) {
	u.last = string(req.URLData)
	return u.Tracker.Announce(req, peers)
}

// backlogSession is a session whose outgoing queue fill the test sets.
type backlogSession struct {
	*recordingSession
	queued, capacity atomic.Int64
}

func (b *backlogSession) Backlog() (queued, capacity int) {
	return int(b.queued.Load()), int(b.capacity.Load())
}

// withBacklog replaces the harness's transport by one whose session
// reports a backlog, empty until the caller sets it.
func (h *harness) withBacklog() *backlogSession {
	sess := &backlogSession{recordingSession: h.session}
	sess.capacity.Store(1000)
	srv, err := NewServer(h.srv.cfg, h.tracker.Destination.Hash(), []byte("0123456789abcdef0123456789abcdef"), h.swarms, sess)
	if err != nil {
		h.t.Fatal(err)
	}
	h.srv = srv
	return sess
}

// TestOverloadEarlyDrop: with the session's queue at most half full
// nothing is shed; full, everything is, before any work (a connect is
// neither verified nor answered); in between some requests are. The
// bounds asserted cannot flake: at 70 % each request is dropped with
// probability 1/2, so over 2000 none or all would be a 2^-2000 event.
func TestOverloadEarlyDrop(t *testing.T) {
	h := newHarness(t)
	sess := h.withBacklog()
	srv := h.srv
	// Datagram1 is dropped for its own reason right after the overload
	// check: every request is counted once, as one or the other.
	const n = 2000
	for _, c := range []struct {
		queued   int64
		min, max uint64 // overload drops among n
	}{
		{0, 0, 0},
		{500, 0, 0},
		{700, 1, n - 1},
		{900, n, n},
		{1000, n, n},
		{5000, n, n}, // a queue past its stated capacity
	} {
		sess.queued.Store(c.queued)
		before := srv.Stats().Snapshot()
		for range n {
			srv.HandleMessage(datagram.ProtocolDatagram1, 6880, DefaultPort, []byte("x"))
		}
		after := srv.Stats().Snapshot()
		shed := after.Drops["overload"] - before.Drops["overload"]
		other := after.Drops["datagram1"] - before.Drops["datagram1"]
		if shed < c.min || shed > c.max || shed+other != n {
			t.Errorf("queue %d/1000: %d shed, %d reached the handler; want %d..%d shed of %d",
				c.queued, shed, other, c.min, c.max, n)
		}
	}
	// Full: a connect is dropped before its signature is checked.
	c := h.newClient(6880)
	srv.HandleMessage(datagram.ProtocolDatagram2, c.port, DefaultPort, h.dg2(c, AppendConnectRequest(nil, 1)))
	if snap := srv.Stats().Snapshot(); snap.Connects != 0 {
		t.Fatalf("connect served under overload: %+v", snap)
	}
	h.session.none(t)
	// Back to empty: served again.
	sess.queued.Store(0)
	srv.HandleMessage(datagram.ProtocolDatagram2, c.port, DefaultPort, h.dg2(c, AppendConnectRequest(nil, 1)))
	if r := h.session.take(t); len(r.payload) != 18 {
		t.Fatalf("connect reply %x", r.payload)
	}
	// A session that reports no capacity never sheds.
	sess.queued.Store(5000)
	sess.capacity.Store(0)
	before := srv.Stats().Snapshot().Drops["overload"]
	srv.HandleMessage(datagram.ProtocolDatagram1, 6880, DefaultPort, []byte("x"))
	if after := srv.Stats().Snapshot().Drops["overload"]; after != before {
		t.Fatal("shed with no capacity reported")
	}
}

// BenchmarkAnnounceTransport: one announce through the transport, from
// the Datagram3 to the raw reply handed to the session, whose backlog
// (reported empty) is checked for early drop as the I2CP session's is;
// with the default per-sender limits, and without any.
func BenchmarkAnnounceTransport(b *testing.B) {
	for _, c := range []struct {
		name   string
		limits *ratelimit.Limits
	}{
		{"limits", ratelimit.New(ratelimit.Config{Limits: [ratelimit.NumKinds]ratelimit.Limit{ratelimit.Announce: {PerMinute: 1 << 30, Burst: 1 << 20}}})},
		{"nolimits", nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			t := &testing.T{}
			h := newHarness(t)
			h.session.got = make(chan struct{}, 1)
			h.withBacklog()
			h.srv.cfg.Limits = c.limits
			alice := h.newClient(6880)
			hash := alice.keys.Destination.Hash()
			h.swarms.RememberDestination(alice.keys.Destination)
			alice.cid = h.srv.ConnIDs().Issue(&hash, h.now)
			a := Announce{Header: Header{ConnectionID: alice.cid}, InfoHash: [20]byte{1}, NumWant: -1}
			msg := h.dg3(alice, AppendAnnounceRequest(nil, &a))
			b.ReportAllocs()
			for b.Loop() {
				h.srv.HandleMessage(datagram.ProtocolDatagram3, 6880, DefaultPort, msg)
				<-h.session.got
				h.session.sent = h.session.sent[:0]
			}
			if n := h.srv.Stats().Snapshot().Announces; n == 0 {
				b.Fatal("nothing announced")
			}
		})
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
	for i, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("policy: %w", tracker.ErrSwarmFull), msgRefused + tracker.ErrSwarmFull.Msg},
		{errors.New("open /data/badger: disk on fire"), msgRefused + msgInternal},
	} {
		h := newHarness(t)
		srv, err := NewServer(h.srv.cfg, h.tracker.Destination.Hash(), []byte("0123456789abcdef0123456789abcdef"), failingSwarms{h.swarms, c.err}, h.session)
		if err != nil {
			t.Fatal(err)
		}
		h.srv = srv
		alice := h.newClient(6880)
		h.connect(alice)
		r := h.announce(alice, [20]byte{byte(i)}, tracker.EventStarted, 1, -1)
		if action(r.payload) != ActionError || string(r.payload[8:]) != c.want {
			t.Fatalf("%v: reply %q, want %q", c.err, r.payload, c.want)
		}
		if n := h.srv.Stats().errors.Load(ErrorRefused); n != 1 {
			t.Fatalf("%v: %d counted refused, want 1", c.err, n)
		}
	}
}

// panickyScrape is the swarm model, but a scrape of one crafted info
// hash panics (as a bug on some hostile input would).
type panickyScrape struct {
	*tracker.Tracker
	bad tracker.InfoHash
}

func (p panickyScrape) Scrape(info tracker.InfoHash) tracker.ScrapeResult {
	if info == p.bad {
		panic("crafted input")
	}
	return p.Tracker.Scrape(info)
}

// TestPanicRecovered: a handler that panics on a crafted request gives
// no reply, is counted (handler_panic) and logged, and the transport
// serves the next request; the goroutine that called it lives on.
func TestPanicRecovered(t *testing.T) {
	h := newHarness(t)
	var logged bytes.Buffer
	cfg := h.srv.cfg
	cfg.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	bad := tracker.InfoHash{0xba, 0xd0}
	srv, err := NewServer(cfg, h.tracker.Destination.Hash(), []byte("0123456789abcdef0123456789abcdef"), panickyScrape{h.swarms, bad}, h.session)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	alice := h.newClient(6880)
	h.connect(alice)
	for range 3 {
		h.srv.HandleMessage(datagram.ProtocolDatagram3, 6880, DefaultPort, h.dg3(alice, AppendScrapeRequest(nil, alice.cid, 9, bad)))
	}
	h.session.none(t)
	if n := h.srv.Stats().drops.Load(DropPanic); n != 3 {
		t.Fatalf("%d panics counted, want 3", n)
	}
	if snap := h.srv.Stats().Snapshot(); snap.Drops["handler_panic"] != 3 {
		t.Fatalf("snapshot drops %v", snap.Drops)
	}
	if !strings.Contains(logged.String(), "recovered a panic") || !strings.Contains(logged.String(), "crafted input") {
		t.Fatalf("not logged:\n%s", logged.String())
	}
	// Served on: a good scrape and an announce are answered.
	h.srv.HandleMessage(datagram.ProtocolDatagram3, 6880, DefaultPort, h.dg3(alice, AppendScrapeRequest(nil, alice.cid, 9, [20]byte{1})))
	if r := h.session.take(t); action(r.payload) != ActionScrape {
		t.Fatalf("scrape after the panics: %x", r.payload)
	}
	if r := h.announce(alice, [20]byte{1}, tracker.EventStarted, 1, -1); action(r.payload) != ActionAnnounce {
		t.Fatalf("announce after the panics: %x", r.payload)
	}
}

// coreScrape is the swarm model, but a scrape of one crafted info hash
// panics inside the model's own code (its ScrapeAll walk), as a bug in
// the swarm model would.
type coreScrape struct {
	*tracker.Tracker
	bad tracker.InfoHash
}

func (p coreScrape) Scrape(info tracker.InfoHash) tracker.ScrapeResult {
	if info == p.bad {
		p.Tracker.ScrapeAll(func(tracker.InfoHash, tracker.ScrapeResult) bool { panic("inside the swarm model") })
	}
	return p.Tracker.Scrape(info)
}

// TestPanicInModelNotRecovered: a panic raised in the swarm model's code
// may have left a shard locked, so the transport does not serve on: the
// panic goes on (and, in the binary, ends the process for a restart).
func TestPanicInModelNotRecovered(t *testing.T) {
	h := newHarness(t)
	alice := h.newClient(6880)
	h.connect(alice)
	bad := tracker.InfoHash{0xba, 0xd1}
	h.announce(alice, bad, tracker.EventStarted, 1, -1) // a swarm for ScrapeAll to walk
	srv, err := NewServer(h.srv.cfg, h.tracker.Destination.Hash(), []byte("0123456789abcdef0123456789abcdef"), coreScrape{h.swarms, bad}, h.session)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	h.connect(alice)
	var got any
	func() {
		defer func() { got = recover() }()
		h.srv.HandleMessage(datagram.ProtocolDatagram3, 6880, DefaultPort, h.dg3(alice, AppendScrapeRequest(nil, alice.cid, 9, bad)))
	}()
	if got != (panics.Fatal{Value: "inside the swarm model"}) {
		t.Fatalf("the handler returned %v; want the model's panic to go on", got)
	}
	if n := h.srv.Stats().drops.Load(DropPanic); n != 0 {
		t.Fatalf("%d counted as recovered, want 0", n)
	}
}
