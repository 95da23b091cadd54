package i2cp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/i2p"
)

// inbox collects received messages for a test.
type inbox struct {
	mu   sync.Mutex
	msgs []i2cp.Message
	got  chan struct{}
}

func newInbox() *inbox { return &inbox{got: make(chan struct{}, 1024)} }

func (b *inbox) handle(m *i2cp.Message) {
	b.mu.Lock()
	cp := *m
	cp.Payload = append([]byte(nil), m.Payload...)
	b.msgs = append(b.msgs, cp)
	b.mu.Unlock()
	b.got <- struct{}{}
}

func (b *inbox) next(t *testing.T) i2cp.Message {
	t.Helper()
	select {
	case <-b.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no message received")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.msgs[0]
	b.msgs = b.msgs[1:]
	return m
}

// sendUntilDelivered sends m from a to dest until in receives a message
// equal to it (the sessions may be reconnecting, the router may drop
// what it gets meanwhile): it sends, waits up to retry for the message,
// and sends again, for up to within. It returns how many sends it took.
func sendUntilDelivered(a *i2cp.Session, dest i2p.Destination, in *inbox, m i2cp.Message, retry, within time.Duration) (sends int, err error) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		err := a.WaitReady(ctx)
		cancel()
		if err != nil {
			break
		}
		if a.Send(dest, m.Protocol, m.FromPort, m.ToPort, m.Payload) != nil {
			time.Sleep(10 * time.Millisecond) // the link went down meanwhile
			continue
		}
		sends++
		if in.waitFor(m, min(retry, time.Until(deadline))) {
			return sends, nil
		}
	}
	return sends, fmt.Errorf("%q not delivered after %d sends in %s (sender %+v)", m.Payload, sends, within, a.State())
}

// waitFor waits up to d for a message equal to m, dropping the others.
func (b *inbox) waitFor(m i2cp.Message, d time.Duration) bool {
	timeout := time.After(d)
	for {
		select {
		case <-b.got:
		case <-timeout:
			return false
		}
		b.mu.Lock()
		msgs := b.msgs
		b.msgs = nil
		b.mu.Unlock()
		for _, got := range msgs {
			if got.Protocol == m.Protocol && got.FromPort == m.FromPort && got.ToPort == m.ToPort && bytes.Equal(got.Payload, m.Payload) {
				return true
			}
		}
	}
}

// deliver sends what from a to dest (protocol 18, port 1 to 6969) until
// it arrives, for up to 10 s.
func deliver(t *testing.T, a *i2cp.Session, dest i2p.Destination, in *inbox, what string) {
	t.Helper()
	m := i2cp.Message{Protocol: 18, FromPort: 1, ToPort: 6969, Payload: []byte(what)}
	if _, err := sendUntilDelivered(a, dest, in, m, 100*time.Millisecond, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}

func newKeys(t testing.TB) *i2p.PrivateKeys {
	t.Helper()
	k, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// startSession runs a session against addr until the test ends.
func startSession(t testing.TB, keys *i2p.PrivateKeys, cfg i2cp.Config) *i2cp.Session {
	t.Helper()
	cfg.MinBackoff, cfg.MaxBackoff = 20*time.Millisecond, 200*time.Millisecond
	s, err := i2cp.NewSession(keys, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

func waitReady(t testing.TB, s *i2cp.Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitReady(ctx); err != nil {
		t.Fatalf("session not ready: %v (state %+v)", err, s.State())
	}
}

// waitPublished waits until the router itself holds the session's LeaseSet
// (the client's Ready only says it sent one).
func waitPublished(t testing.TB, r *i2cptest.Router, s *i2cp.Session) {
	t.Helper()
	waitReady(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.WaitPublished(ctx, s.Destination().Hash()); err != nil {
		t.Fatal(err)
	}
}

// publishedPair starts two sessions with default settings on r and waits
// until both are published; it returns them and the second one's keys.
func publishedPair(t testing.TB, r *i2cptest.Router) (a, b *i2cp.Session, bob *i2p.PrivateKeys) {
	t.Helper()
	bob = newKeys(t)
	a = startSession(t, newKeys(t), i2cp.Config{Addr: r.Addr()})
	b = startSession(t, bob, i2cp.Config{Addr: r.Addr()})
	waitPublished(t, r, a)
	waitPublished(t, r, b)
	return a, b, bob
}

func newRouter(t testing.TB) *i2cptest.Router {
	t.Helper()
	r, err := i2cptest.NewRouter("127.0.0.1:0", i2cptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestTwoSessionsExchangeDatagrams: raw, Datagram2 and Datagram3 payloads
// travel between two sessions through the simulator over TCP, with their
// protocols and ports, in both LeaseSet modes.
func TestTwoSessionsExchangeDatagrams(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		r := newRouter(t)
		alice, bob := newKeys(t), newKeys(t)
		a := startSession(t, alice, i2cp.Config{Addr: r.Addr(), LegacyLeaseSet: legacy})
		b := startSession(t, bob, i2cp.Config{Addr: r.Addr(), LegacyLeaseSet: legacy})
		in := newInbox()
		b.Handle(datagram.ProtocolRaw, 6969, in.handle)
		b.Handle(datagram.ProtocolDatagram2, 6969, in.handle)
		b.Handle(datagram.ProtocolDatagram3, 0, in.handle)
		waitPublished(t, r, a)
		waitPublished(t, r, b)

		dg2, err := datagram.AppendDatagram2(nil, alice, bob.Destination.Hash(), nil, []byte("connect"))
		if err != nil {
			t.Fatal(err)
		}
		dg3, _ := datagram.AppendDatagram3(nil, alice.Destination.Hash(), nil, []byte("announce"))
		sends := []struct {
			proto   uint8
			payload []byte
		}{{datagram.ProtocolRaw, []byte("raw bytes")}, {datagram.ProtocolDatagram2, dg2}, {datagram.ProtocolDatagram3, dg3}}
		for _, s := range sends {
			if err := a.Send(bob.Destination, s.proto, 12345, 6969, s.payload); err != nil {
				t.Fatal(err)
			}
			m := in.next(t)
			if m.Protocol != s.proto || m.FromPort != 12345 || m.ToPort != 6969 || !bytes.Equal(m.Payload, s.payload) {
				t.Fatalf("legacy=%v: got proto %d ports %d→%d", legacy, m.Protocol, m.FromPort, m.ToPort)
			}
		}
		var d datagram.Datagram2
		if err := datagram.ParseDatagram2(dg2, bob.Destination.Hash(), time.Now(), &d); err != nil {
			t.Fatal(err)
		}
		// Unclaimed traffic is counted and dropped.
		a.Send(bob.Destination, 17, 1, 6969, []byte("x"))
		deadline := time.Now().Add(5 * time.Second)
		for b.Stats().DroppedUnclaimed == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if b.Stats().DroppedUnclaimed != 1 {
			t.Fatal("unclaimed message not counted")
		}
		// Lookups: a session's hash resolves; an unknown one fails.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		got, err := a.Lookup(ctx, bob.Destination.Hash())
		if err != nil || got.Hash() != bob.Destination.Hash() {
			t.Fatalf("lookup: %v", err)
		}
		if _, err := a.Lookup(ctx, i2p.HashOf([]byte("nobody"))); !errors.Is(err, i2cp.ErrLookupFailed) {
			t.Fatalf("unknown lookup: %v", err)
		}
		cancel()
	}
}

// TestSpecificHandlerWins: a handler for the exact port beats one for any.
func TestSpecificHandlerWins(t *testing.T) {
	a, b, bob := publishedPair(t, newRouter(t))
	exact, any := newInbox(), newInbox()
	b.Handle(18, 0, any.handle)
	b.Handle(18, 7000, exact.handle)
	a.Send(bob.Destination, 18, 1, 7000, []byte("exact"))
	a.Send(bob.Destination, 18, 1, 7001, []byte("other"))
	if m := exact.next(t); string(m.Payload) != "exact" {
		t.Fatal(string(m.Payload))
	}
	if m := any.next(t); string(m.Payload) != "other" {
		t.Fatal(string(m.Payload))
	}
}

// TestStreamingAnyPort: a handler for protocol 6 (streaming) on any port
// gets messages to every to-port, one for a specific port still wins,
// and other protocols stay unclaimed.
func TestStreamingAnyPort(t *testing.T) {
	a, b, bob := publishedPair(t, newRouter(t))
	streams, web := newInbox(), newInbox()
	b.Handle(6, i2cp.AnyPort, streams.handle)
	b.Handle(6, 80, web.handle)
	for _, port := range []uint16{0, 1, 6969, 65535} {
		if err := a.Send(bob.Destination, 6, 4242, port, []byte("syn")); err != nil {
			t.Fatal(err)
		}
		if m := streams.next(t); m.Protocol != 6 || m.ToPort != port || m.FromPort != 4242 {
			t.Fatalf("to port %d: got protocol %d, ports %d→%d", port, m.Protocol, m.FromPort, m.ToPort)
		}
	}
	a.Send(bob.Destination, 6, 4242, 80, []byte("web"))
	if m := web.next(t); string(m.Payload) != "web" {
		t.Fatal(string(m.Payload))
	}
	a.Send(bob.Destination, 18, 4242, 80, []byte("no handler"))
	eventually(t, "an unclaimed message", func() bool { return b.Stats().DroppedUnclaimed == 1 })
	if len(streams.got)+len(web.got) != 0 {
		t.Fatal("a message for another protocol reached a protocol 6 handler")
	}
}

// TestSurvivesRouterRestart: the session comes back with the same
// Destination and its handlers after the router drops it and after the
// router goes away and returns.
func TestSurvivesRouterRestart(t *testing.T) {
	r := newRouter(t)
	alice, bob := newKeys(t), newKeys(t)
	var states []i2cp.Phase
	var mu sync.Mutex
	a := startSession(t, alice, i2cp.Config{Addr: r.Addr()})
	b := startSession(t, bob, i2cp.Config{Addr: r.Addr(), OnState: func(s i2cp.State) {
		mu.Lock()
		states = append(states, s.Phase)
		mu.Unlock()
	}})
	in := newInbox()
	b.Handle(18, 6969, in.handle)
	waitReady(t, a)
	waitReady(t, b)
	deliver(t, a, bob.Destination, in, "before")
	r.DropConnections()
	deliver(t, a, bob.Destination, in, "after drop")
	r.Stop()
	time.Sleep(100 * time.Millisecond)
	if err := r.Restart(); err != nil {
		t.Fatal(err)
	}
	deliver(t, a, bob.Destination, in, "after restart")
	if b.Destination().Hash() != bob.Destination.Hash() {
		t.Fatal("destination changed")
	}
	if b.Stats().Reconnects < 2 {
		t.Fatalf("reconnects %d", b.Stats().Reconnects)
	}
	mu.Lock()
	defer mu.Unlock()
	sawDown := false
	for _, p := range states {
		if p == i2cp.PhaseDisconnected {
			sawDown = true
		}
	}
	if !sawDown {
		t.Fatalf("state changes %v lack a disconnect", states)
	}
}

func TestRefusedSessionRetries(t *testing.T) {
	r := newRouter(t)
	r.SetRefuseSessions(true)
	s := startSession(t, newKeys(t), i2cp.Config{Addr: r.Addr()})
	deadline := time.Now().Add(5 * time.Second)
	for s.State().Phase != i2cp.PhaseDisconnected && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := s.State(); st.Phase != i2cp.PhaseDisconnected || !errors.Is(st.Err, i2cp.ErrRefused) {
		t.Fatalf("state %+v", st)
	}
	if err := s.Send(s.Destination(), 18, 1, 1, nil); !errors.Is(err, i2cp.ErrNotReady) {
		t.Fatalf("send while refused: %v", err)
	}
	r.SetRefuseSessions(false)
	waitReady(t, s)
	if st := s.State(); st.Err != nil {
		t.Fatalf("published, with the error %v", st.Err)
	}
}

func TestNoRouter(t *testing.T) {
	s := startSession(t, newKeys(t), i2cp.Config{Addr: "127.0.0.1:1"})
	deadline := time.Now().Add(5 * time.Second)
	for s.State().Phase != i2cp.PhaseDisconnected && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := s.State(); st.Phase != i2cp.PhaseDisconnected || st.Detail == "" || st.Err == nil || errors.Is(st.Err, i2cp.ErrRefused) {
		t.Fatalf("state %+v", st)
	}
}

// BenchmarkEcho measures messages per second that one session receives
// and answers through the simulator over loopback TCP: a virtual client
// injects requests, the session's handler replies, the OnSend hook counts
// replies.
func BenchmarkEcho(b *testing.B) {
	r := newRouter(b)
	tracker := newKeys(b)
	s := startSession(b, tracker, i2cp.Config{Addr: r.Addr()})
	client := newKeys(b).Destination
	r.Register(client)
	s.Handle(18, 6969, func(m *i2cp.Message) {
		s.Send(client, 18, 6969, m.FromPort, m.Payload)
	})
	waitPublished(b, r, s)
	replies := make(chan struct{}, 1<<16)
	r.OnSend(func(from i2p.Hash, to i2p.Destination, payload []byte) { replies <- struct{}{} })
	env := i2cp.AppendGzip(nil, i2cp.Header{Protocol: 18, FromPort: 1234, ToPort: 6969}, make([]byte, 150))
	const window = 256
	b.ReportAllocs()
	b.ResetTimer()
	inflight := 0
	for i := 0; i < b.N; i++ {
		if err := r.Inject(tracker.Destination.Hash(), env); err != nil {
			b.Fatal(err)
		}
		inflight++
		if inflight >= window {
			<-replies
			inflight--
		}
	}
	for ; inflight > 0; inflight-- {
		select {
		case <-replies:
		case <-time.After(10 * time.Second):
			b.Fatalf("%d replies missing (stats %+v / %+v)", inflight, s.Stats(), r.Stats())
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
}
