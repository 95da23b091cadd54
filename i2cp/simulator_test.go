package i2cp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/i2p"
)

// stateLog records a session's state changes (Config.OnState).
type stateLog struct {
	mu     sync.Mutex
	states []i2cp.State
}

func (l *stateLog) record(s i2cp.State) {
	l.mu.Lock()
	l.states = append(l.states, s)
	l.mu.Unlock()
}

// saw reports whether the session went through phase with a detail
// that contains detail.
func (l *stateLog) saw(phase i2cp.Phase, detail string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.states {
		if s.Phase == phase && strings.Contains(s.Detail, detail) {
			return true
		}
	}
	return false
}

func (l *stateLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, s := range l.states {
		b.WriteString(s.Phase.String() + " (" + s.Detail + "); ")
	}
	return b.String()
}

// sent is what the simulator saw of one SendMessage.
type sent struct {
	from i2p.Hash
	typ  uint8
	msg  i2cp.OutMessage // Payload copied
}

// observeSends makes r report every message sessions send on the channel
// it returns.
func observeSends(r *i2cptest.Router) <-chan sent {
	ch := make(chan sent, 64)
	r.ObserveSends(func(from i2p.Hash, typ uint8, m *i2cp.OutMessage) {
		cp := *m
		cp.Payload = append([]byte(nil), m.Payload...)
		select {
		case ch <- sent{from, typ, cp}:
		default:
		}
	})
	return ch
}

func nextSent(t *testing.T, ch <-chan sent) sent {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("the router saw no SendMessage")
		return sent{}
	}
}

// sendTracked sends payload from s to to with SendTracked and checks that
// the router saw the nonce it returned.
func sendTracked(t *testing.T, s *i2cp.Session, seen <-chan sent, to i2p.Destination, payload string) uint32 {
	t.Helper()
	nonce, err := s.SendTracked(to.Bytes(), 18, 1, 6969, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	if got := nextSent(t, seen); got.msg.Nonce != nonce {
		t.Fatalf("the router saw nonce %d, want %d", got.msg.Nonce, nonce)
	}
	return nonce
}

// TestMessageStatusRoundTrip: a session that asks for BestEffort
// reliability numbers each message; the router reports it accepted, then
// delivered to a known session or failed (no LeaseSet) for an unknown
// Destination; the session counts the outcomes and tells its callback.
// A session with reliability none sends nonce 0 and hears nothing.
func TestMessageStatusRoundTrip(t *testing.T) {
	r := newRouter(t)
	seen := observeSends(r)
	type report struct {
		nonce  uint32
		status uint8
	}
	reports := make(chan report, 16)
	alice, bob := newKeys(t), newKeys(t)
	a := startSession(t, alice, i2cp.Config{
		Addr:    r.Addr(),
		Options: i2p.Mapping{{Key: "i2cp.messageReliability", Value: "BestEffort"}},
		OnMessageStatus: func(nonce uint32, status uint8) {
			select {
			case reports <- report{nonce, status}:
			default: // must not block
			}
		},
	})
	b := startSession(t, bob, i2cp.Config{Addr: r.Addr()})
	in := newInbox()
	b.Handle(18, 6969, in.handle)
	waitPublished(t, r, a)
	waitPublished(t, r, b)
	expect := func(want ...report) {
		t.Helper()
		for _, w := range want {
			select {
			case got := <-reports:
				if got != w {
					t.Fatalf("report %+v, want %+v", got, w)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no report %+v", w)
			}
		}
	}

	known := sendTracked(t, a, seen, bob.Destination, "hello")
	if known == 0 {
		t.Fatal("nonce 0 with reliability BestEffort")
	}
	expect(report{known, i2cp.MsgAccepted}, report{known, i2cp.MsgLocalSuccess})
	if m := in.next(t); string(m.Payload) != "hello" {
		t.Fatalf("delivered %q", m.Payload)
	}

	nobody := newKeys(t).Destination
	unknown := sendTracked(t, a, seen, nobody, "lost")
	if unknown == 0 || unknown == known {
		t.Fatalf("nonce %d (first %d)", unknown, known)
	}
	expect(report{unknown, i2cp.MsgAccepted}, report{unknown, i2cp.MsgNoLeaseSet})
	st := a.Stats()
	if st.MessagesAccepted != 2 || st.MessagesSucceeded != 1 || st.MessageFailures != 1 ||
		st.FailedByStatus[i2cp.MsgNoLeaseSet] != 1 || st.StatusUnmatched != 0 || st.StatusLost != 0 {
		t.Fatalf("stats %+v", st)
	}

	// Reliability none: nonce 0, no reports. The lookup's reply comes
	// after any report the router would have sent for the message.
	if n := sendTracked(t, b, seen, alice.Destination, "plain"); n != 0 {
		t.Fatalf("a session without reliability sent nonce %d", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := b.Lookup(ctx, alice.Destination.Hash()); err != nil {
		t.Fatal(err)
	}
	if st := b.Stats(); st.MessagesAccepted != 0 || st.MessagesSucceeded != 0 || st.StatusUnmatched != 0 {
		t.Fatalf("reports to a session without reliability: %+v", st)
	}
}

// TestCompressOnSend: with Compress a payload that shrinks reaches the
// router deflated, smaller than stored, and the receiver intact; one that
// does not shrink goes stored. Without Compress everything goes stored.
func TestCompressOnSend(t *testing.T) {
	r := newRouter(t)
	seen := observeSends(r)
	z := startSession(t, newKeys(t), i2cp.Config{Addr: r.Addr(), Compress: true})
	plain := startSession(t, newKeys(t), i2cp.Config{Addr: r.Addr()})
	bob := newKeys(t)
	b := startSession(t, bob, i2cp.Config{Addr: r.Addr()})
	in := newInbox()
	b.Handle(18, 6969, in.handle)
	waitPublished(t, r, z)
	waitPublished(t, r, plain)
	waitPublished(t, r, b)

	text := bytes.Repeat([]byte("d8:intervali1800e5:peers"), 20)
	random := make([]byte, 400)
	rand.Read(random)
	for _, c := range []struct {
		name       string
		s          *i2cp.Session
		payload    []byte
		compressed bool
	}{{"text", z, text, true}, {"random", z, random, false}, {"text, Compress off", plain, text, false}} {
		if err := c.s.Send(bob.Destination, 18, 1, 6969, c.payload); err != nil {
			t.Fatal(err)
		}
		env := nextSent(t, seen).msg.Payload
		stored := i2cp.GzipLen(len(c.payload))
		if c.compressed != (len(env) < stored) {
			t.Fatalf("%s: a %d-byte envelope for %d bytes (stored: %d)", c.name, len(env), len(c.payload), stored)
		}
		if m := in.next(t); !bytes.Equal(m.Payload, c.payload) || m.FromPort != 1 || m.ToPort != 6969 {
			t.Fatalf("%s: delivered %d bytes, ports %d→%d", c.name, len(m.Payload), m.FromPort, m.ToPort)
		}
	}
}

// TestSimulatorDelay: a message routed while a delay is set is held (the
// simulator counts it) and still delivered, after a message sent later
// without delay. The margin is the delay, half a second, against a
// loopback round trip of well under a millisecond.
func TestSimulatorDelay(t *testing.T) {
	r := newRouter(t)
	a, _, bob, in := pair(t, r, i2cp.Config{})
	r.SetDelay(500 * time.Millisecond)
	if err := a.Send(bob.Destination, 18, 1, 6969, []byte("late")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the router holding the message", func() bool { return r.Stats().Delayed == 1 })
	r.SetDelay(0)
	if err := a.Send(bob.Destination, 18, 1, 6969, []byte("early")); err != nil {
		t.Fatal(err)
	}
	first, second := in.next(t), in.next(t)
	if string(first.Payload) != "early" || string(second.Payload) != "late" {
		t.Fatalf("delivered %q then %q", first.Payload, second.Payload)
	}
	if st := r.Stats(); st.Delayed != 1 || st.Delivered != 2 {
		t.Fatalf("router stats %+v", st)
	}
}

// tamperConn flips one byte of the first frame of type typ written while
// on is set, at off bytes from the frame's end.
type tamperConn struct {
	net.Conn
	typ byte
	off int
	on  *atomic.Bool
}

func (c *tamperConn) Write(b []byte) (int, error) {
	// The session writes CreateSession and CreateLeaseSet2 each alone,
	// in one Write.
	if c.on.Load() && len(b) > 5+c.off && b[4] == c.typ {
		b = append([]byte(nil), b...)
		b[len(b)-c.off] ^= 0x80
	}
	return c.Conn.Write(b)
}

// tamperDial dials r over TCP through a tamperConn.
func tamperDial(r *i2cptest.Router, typ byte, off int, on *atomic.Bool) func(context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", r.Addr())
		if err != nil {
			return nil, err
		}
		return &tamperConn{Conn: c, typ: typ, off: off, on: on}, nil
	}
}

// TestBadSignaturesRefused: the simulator answers a CreateSession whose
// signature does not verify with SessionStatus Invalid, and refuses a
// CreateLeaseSet2 whose LeaseSet2 signature does not verify (a
// Disconnect naming it, as the Java router does); either way the session
// reports it, nothing is created or published, and once the signature is
// good the session comes up.
func TestBadSignaturesRefused(t *testing.T) {
	cases := []struct {
		name   string
		typ    byte
		off    int // the flipped byte, counted from the frame's end
		detail string
	}{
		// The signature is the frame's last 64 bytes: flip its last.
		{"SessionConfig", i2cp.TypeCreateSession, 1, "session configuration invalid"},
		// After the signature come the private key count and one X25519
		// key (type, length, 32 bytes): 37 bytes.
		{"LeaseSet2", i2cp.TypeCreateLeaseSet2, 38, "LeaseSet2 signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRouter(t)
			var on atomic.Bool
			on.Store(true)
			var log stateLog
			s := startSession(t, newKeys(t), i2cp.Config{Dial: tamperDial(r, c.typ, c.off, &on), OnState: log.record})
			eventually(t, "the signature refused", func() bool {
				return log.saw(i2cp.PhaseDisconnected, c.detail)
			})
			if _, ok := r.SessionID(s.Destination().Hash()); ok || len(r.Sessions()) != 0 {
				t.Fatal("the router took a session with a bad signature")
			}
			on.Store(false)
			waitPublished(t, r, s)
		})
	}
}

// TestSessionStatusFromRouter: Updated leaves the session up; Invalid
// and Destroyed, sent by the router on its own account, end the link,
// are reported, and the session comes back with the same Destination
// and its handlers.
func TestSessionStatusFromRouter(t *testing.T) {
	r := newRouter(t)
	alice, bob := newKeys(t), newKeys(t)
	var log stateLog
	a := startSession(t, alice, i2cp.Config{Addr: r.Addr()})
	b := startSession(t, bob, i2cp.Config{Addr: r.Addr(), OnState: log.record})
	in := newInbox()
	b.Handle(18, 6969, in.handle)
	waitPublished(t, r, a)
	waitPublished(t, r, b)

	// The message reaches b after the status, on the same connection.
	if !r.SendSessionStatus(bob.Destination.Hash(), i2cp.StatusUpdated) {
		t.Fatal("no session to update")
	}
	deliver(t, a, bob.Destination, in, "after Updated")
	if st := b.Stats(); st.Reconnects != 0 || b.State().Phase != i2cp.PhasePublished {
		t.Fatalf("Updated dropped the session: %+v, %+v", st, b.State())
	}

	for i, c := range []struct {
		status uint8
		detail string
	}{{i2cp.StatusInvalid, "session configuration invalid"}, {i2cp.StatusDestroyed, "session destroyed by the router"}} {
		if !r.SendSessionStatus(bob.Destination.Hash(), c.status) {
			t.Fatalf("status %d: no session", c.status)
		}
		eventually(t, c.detail, func() bool { return log.saw(i2cp.PhaseDisconnected, c.detail) })
		waitPublished(t, r, b)
		deliver(t, a, bob.Destination, in, "after status "+c.detail)
		if st := b.Stats(); st.Reconnects != uint64(i+1) {
			t.Fatalf("status %d: %d reconnects", c.status, st.Reconnects)
		}
	}
	if b.Destination().Hash() != bob.Destination.Hash() {
		t.Fatal("destination changed")
	}
}

// TestRouterDisconnect: a Disconnect from the router is reported with its
// reason; the session reconnects with the same Destination and its
// handlers are still called.
func TestRouterDisconnect(t *testing.T) {
	r := newRouter(t)
	var log stateLog
	bob := newKeys(t)
	b := startSession(t, bob, i2cp.Config{Addr: r.Addr(), OnState: log.record})
	in := newInbox()
	b.Handle(18, 6969, in.handle)
	a := startSession(t, newKeys(t), i2cp.Config{Addr: r.Addr()})
	waitPublished(t, r, a)
	waitPublished(t, r, b)
	deliver(t, a, bob.Destination, in, "before")
	if !r.Disconnect(bob.Destination.Hash(), "router shutting down") {
		t.Fatal("no session to disconnect")
	}
	eventually(t, "the reason reported", func() bool { return log.saw(i2cp.PhaseDisconnected, "router shutting down") })
	waitPublished(t, r, b)
	deliver(t, a, bob.Destination, in, "after")
	if b.Destination().Hash() != bob.Destination.Hash() || b.Stats().Reconnects != 1 {
		t.Fatalf("destination %s, %d reconnects", b.Destination().Hash().B32(), b.Stats().Reconnects)
	}
}

// TestLookupTimeout: a lookup the router never answers ends with the
// caller's deadline; the session stays up and serves the next lookup.
func TestLookupTimeout(t *testing.T) {
	r := newRouter(t)
	s := startSession(t, newKeys(t), i2cp.Config{Addr: r.Addr()})
	waitPublished(t, r, s)
	r.SetMute(true) // the router drops its HostReply
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, err := s.Lookup(ctx, s.Destination().Hash())
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("unanswered lookup: %v", err)
	}
	r.SetMute(false)
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := s.Lookup(ctx, s.Destination().Hash())
	if err != nil || d.Hash() != s.Destination().Hash() {
		t.Fatalf("lookup after the timeout: %v", err)
	}
	if st := s.Stats(); st.Lookups != 2 || st.LookupFailures != 1 || st.Reconnects != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestCredentials: a router that requires a username and password takes
// a session that gives them, and disconnects one with a wrong password
// (in the handshake) or none (at CreateSession).
func TestCredentials(t *testing.T) {
	r, err := i2cptest.NewRouter("127.0.0.1:0", i2cptest.Options{Username: "tracker", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	good := startSession(t, newKeys(t), i2cp.Config{Addr: r.Addr(), Username: "tracker", Password: "s3cret"})
	var wrongLog, noneLog stateLog
	wrong := startSession(t, newKeys(t), i2cp.Config{Addr: r.Addr(), Username: "tracker", Password: "guess", OnState: wrongLog.record})
	none := startSession(t, newKeys(t), i2cp.Config{Addr: r.Addr(), OnState: noneLog.record})
	waitPublished(t, r, good)
	eventually(t, "wrong password refused", func() bool { return wrongLog.saw(i2cp.PhaseDisconnected, "authorization failed") })
	eventually(t, "no credentials refused", func() bool { return noneLog.saw(i2cp.PhaseDisconnected, "authorization required") })
	for _, s := range []*i2cp.Session{wrong, none} {
		if _, ok := r.SessionID(s.Destination().Hash()); ok {
			t.Fatal("the router created a session without the right credentials")
		}
	}
}

// TestNoLeaseSetBundleFlag: with NoLeaseSetBundle the session sends
// SendMessageExpires with the flag that leaves its LeaseSet out and an
// expiration ahead; without, a plain SendMessage.
func TestNoLeaseSetBundleFlag(t *testing.T) {
	r := newRouter(t)
	seen := observeSends(r)
	bare := startSession(t, newKeys(t), i2cp.Config{Addr: r.Addr(), NoLeaseSetBundle: true})
	plain := startSession(t, newKeys(t), i2cp.Config{Addr: r.Addr()})
	waitPublished(t, r, bare)
	waitPublished(t, r, plain)
	to := newKeys(t).Destination
	if err := bare.Send(to, 18, 1, 2, []byte("x")); err != nil {
		t.Fatal(err)
	}
	s := nextSent(t, seen)
	if s.from != bare.Destination().Hash() || s.typ != i2cp.TypeSendMessageExpires ||
		s.msg.Flags&i2cp.FlagNoLeaseSet == 0 || !s.msg.Expires.After(time.Now()) {
		t.Fatalf("NoLeaseSetBundle sent type %d, flags %#x, expiring %v", s.typ, s.msg.Flags, s.msg.Expires)
	}
	if err := plain.Send(to, 18, 1, 2, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if s := nextSent(t, seen); s.typ != i2cp.TypeSendMessage {
		t.Fatalf("plain session sent type %d", s.typ)
	}
}

// TestSessionOptionsReachRouter: the options the router gets are the
// defaults with the caller's overrides.
func TestSessionOptionsReachRouter(t *testing.T) {
	r := newRouter(t)
	s := startSession(t, newKeys(t), i2cp.Config{Addr: r.Addr(), Options: i2p.Mapping{
		{Key: "inbound.quantity", Value: "5"}, {Key: "i2cp.dontPublishLeaseSet", Value: "false"},
	}})
	waitPublished(t, r, s)
	opts, ok := r.SessionOptions(s.Destination().Hash())
	if !ok {
		t.Fatal("no session")
	}
	for k, want := range map[string]string{
		"inbound.quantity": "5", "outbound.quantity": "3", "inbound.length": "3", "outbound.length": "3",
		"i2cp.fastReceive": "true", "i2cp.messageReliability": "none", "i2cp.leaseSetEncType": "4",
		"i2cp.dontPublishLeaseSet": "false",
	} {
		if v, _ := opts.Get(k); v != want {
			t.Errorf("%s=%q, want %q", k, v, want)
		}
	}
}
