package udptracker

import (
	"bytes"
	"context"
	"crypto/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/testkeys"
	"github.com/go-i2p/go-opentracker/tracker"
)

// countingSession counts the replies it is handed by kind, and notes how
// many connects had been answered when each announce was.
type countingSession struct {
	connects, announces, errors atomic.Int64
	watched                     atomic.Pointer[[]byte] // a Destination whose connect replies are counted apart
	watchedConnects             atomic.Int64
	connectsAtAnnounce          atomic.Int64
	announced                   chan struct{}
}

func (c *countingSession) SendSerialized(to []byte, _ uint8, _, _ uint16, payload []byte) error {
	switch action(payload) {
	case ActionConnect:
		c.connects.Add(1)
		if w := c.watched.Load(); w != nil && bytes.Equal(*w, to) {
			c.watchedConnects.Add(1)
		}
	case ActionAnnounce:
		c.connectsAtAnnounce.Store(c.connects.Load())
		c.announces.Add(1)
		if c.announced != nil {
			c.announced <- struct{}{}
		}
	default:
		c.errors.Add(1)
	}
	return nil
}

func (c *countingSession) Lookup(context.Context, i2p.Hash) (i2p.Destination, error) {
	return i2p.Destination{}, context.Canceled
}

// floodRig is a transport on a countingSession with one Ed25519 client
// connected and a P-521 flooder's connect ready to send.
type floodRig struct {
	srv      *Server
	sess     *countingSession
	announce []byte // a Datagram3 announce of the connected client
	flood    []byte // a Datagram2 connect signed with ECDSA-P521
	self     i2p.Hash
	cancel   context.CancelFunc
}

func newFloodRig(t testing.TB) *floodRig {
	keys, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	swarms := tracker.New(tracker.Config{Now: func() time.Time { return now }}, nil)
	sess := &countingSession{}
	srv, err := NewServer(Config{Now: func() time.Time { return now }}, keys.Destination.Hash(),
		[]byte("0123456789abcdef0123456789abcdef"), swarms, sess)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv.SetContext(ctx)
	alice, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	swarms.RememberDestination(alice.Destination)
	ah := alice.Destination.Hash()
	a := Announce{Header: Header{ConnectionID: srv.ConnIDs().Issue(&ah, now)}, InfoHash: [20]byte{1}, NumWant: -1}
	announce, err := datagram.AppendDatagram3(nil, ah, nil, AppendAnnounceRequest(nil, &a))
	if err != nil {
		t.Fatal(err)
	}
	flood, err := datagram.AppendDatagram2(nil, testkeys.New(t, i2p.SigECDSASHA512P521), keys.Destination.Hash(), nil, AppendConnectRequest(nil, 1))
	if err != nil {
		t.Fatal(err)
	}
	return &floodRig{srv: srv, sess: sess, announce: announce, flood: flood, self: keys.Destination.Hash(), cancel: cancel}
}

// TestP521FloodDoesNotStarveAnnounces: the receive goroutine gets 200
// ECDSA-P521 connects with an announce after every tenth, in order, as
// the I2CP reader hands them over. The announces must be answered
// without waiting for the connects' signatures to be checked: when the
// last announce is answered, fewer than half the connects may have
// been verified (checking them on the receive goroutine verifies all
// 200 first).
func TestP521FloodDoesNotStarveAnnounces(t *testing.T) {
	r := newFloodRig(t)
	defer r.cancel()
	// Ed25519 connects in the flood: cheap work, queued apart.
	bob, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cheap, err := datagram.AppendDatagram2(nil, bob, r.self, nil, AppendConnectRequest(nil, 2))
	if err != nil {
		t.Fatal(err)
	}
	bobBytes := bob.Destination.Bytes()
	r.sess.watched.Store(&bobBytes)
	const floods, every = 200, 10
	for i := range floods {
		r.srv.HandleMessage(datagram.ProtocolDatagram2, 7000, DefaultPort, r.flood)
		if i%every == every-1 {
			r.srv.HandleMessage(datagram.ProtocolDatagram3, 6880, DefaultPort, r.announce)
			r.srv.HandleMessage(datagram.ProtocolDatagram2, 6881, DefaultPort, cheap)
		}
	}
	if got := r.sess.announces.Load(); got != floods/every {
		t.Fatalf("%d of %d announces answered", got, floods/every)
	}
	if at := r.sess.connectsAtAnnounce.Load(); at >= floods/2 {
		t.Fatalf("the last announce was answered after %d of %d P-521 connects were verified: announces wait for signatures", at, floods)
	}
	// Every connect is either answered or dropped, and counted; the
	// Ed25519 ones are all answered.
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := r.srv.Stats().Snapshot()
		cheapDone := r.sess.watchedConnects.Load()
		if s.Connects+s.Drops["verify_queue_full"] == floods+floods/every && cheapDone == floods/every {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d Ed25519 connects answered; stats %+v", cheapDone, floods/every, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkAnnouncesDuringP521Flood: one goroutine keeps the receive
// queue (64 messages, like a socket buffer) full of ECDSA-P521 connects
// while a client sends announces one after another; the receive
// goroutine handles the queue in order. It reports announces answered a
// second while the flood runs.
func BenchmarkAnnouncesDuringP521Flood(b *testing.B) {
	r := newFloodRig(b)
	defer r.cancel()
	r.sess.announced = make(chan struct{}, 1)
	type msg struct {
		protocol uint8
		payload  []byte
	}
	inbound := make(chan msg, 64)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the receive goroutine
		defer wg.Done()
		for {
			select {
			case m := <-inbound:
				r.srv.HandleMessage(m.protocol, 7000, DefaultPort, m.payload)
			case <-stop:
				return
			}
		}
	}()
	go func() { // the flooder
		defer wg.Done()
		for {
			select {
			case inbound <- msg{datagram.ProtocolDatagram2, r.flood}:
			case <-stop:
				return
			}
		}
	}()
	start := time.Now()
	for b.Loop() {
		inbound <- msg{datagram.ProtocolDatagram3, r.announce}
		<-r.sess.announced
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "announces/s")
	close(stop)
	wg.Wait()
}
