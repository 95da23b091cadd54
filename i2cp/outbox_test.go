package i2cp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// countingConn counts the writes that reach the connection.
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// TestGatheredRepliesGoOutInOneWrite: replies sent while the reader
// handles frames it read ahead do not wake the writer; the reader's
// signal at the batch's end sends all of them with one write.
func TestGatheredRepliesGoOutInOneWrite(t *testing.T) {
	s, dest := newUpSession(t, Config{}, 3)
	s.gather.Store(true)
	const n = 10
	for i := range n {
		if err := s.Send(dest, 18, 1, 2, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.out.kick) != 0 {
		t.Fatal("the writer was woken while replies were gathering")
	}
	s.gather.Store(false)
	s.out.signal()

	client, router := net.Pipe()
	defer router.Close()
	cc := &countingConn{Conn: client}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		var rx atomic.Uint64
		done <- s.writeLoop(ctx, stop, newLink(cc, bufio.NewWriterSize(cc, 64<<10)), &rx)
	}()
	br := bufio.NewReader(router)
	for i := range n {
		_, m := readSendMessage(t, br)
		if m.SessionID != 3 {
			t.Fatalf("frame %d: session %d", i, m.SessionID)
		}
		_, p, err := ParseGzip(m.Payload, nil)
		if err != nil || len(p) != 1 || p[0] != byte(i) {
			t.Fatalf("frame %d carries %x (%v)", i, p, err)
		}
	}
	close(stop)
	<-done
	if w := cc.writes.Load(); w != 1 {
		t.Fatalf("%d frames took %d writes, want 1", n, w)
	}
	if st := s.Stats(); st.Sent != n {
		t.Fatalf("stats %+v", st)
	}
}

// TestOutboxBounds: a full outbox (by frames or by bytes) refuses and
// counts; a disconnect drops what is queued and counts it stale.
func TestOutboxBounds(t *testing.T) {
	s, dest := newUpSession(t, Config{SendQueue: 3}, -1)
	if err := s.Send(dest, 18, 1, 2, []byte("x")); !errors.Is(err, ErrNotReady) {
		t.Fatalf("before a session: %v", err)
	}
	s.sessionID.Store(1)
	for range 3 {
		if err := s.Send(dest, 18, 1, 2, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if q, c := s.Backlog(); q != 3 || c != 3 {
		t.Fatalf("backlog %d of %d, want 3 of 3", q, c)
	}
	if err := s.Send(dest, 18, 1, 2, []byte("x")); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("fourth frame: %v", err)
	}
	s.down(errors.New("gone"))
	if st := s.Stats(); st.DroppedQueueFull != 1 || st.DroppedNotReady != 1 || st.DroppedStale != 3 {
		t.Fatalf("stats %+v", st)
	}
	if q, _ := s.Backlog(); q != 0 {
		t.Fatalf("backlog %d after the queue was dropped", q)
	}

	s2, _ := newUpSession(t, Config{}, 1)
	s2.out.maxBytes = 2000
	big := make([]byte, 1000)
	if err := s2.Send(dest, 18, 1, 2, big); err != nil {
		t.Fatal(err)
	}
	if err := s2.Send(dest, 18, 1, 2, big); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("over the byte bound: %v", err)
	}
}

// TestReaderWriteHandsOff: the reader's own write to a router that does
// not read gives up (the reader must go on reading) and leaves the rest
// to the writer, which sends it first, in order, once the router reads.
func TestReaderWriteHandsOff(t *testing.T) {
	s, dest := newUpSession(t, Config{}, 2)
	client, router := net.Pipe()
	defer router.Close()
	l := newLink(client, bufio.NewWriter(client))
	for i := range 3 {
		if err := s.Send(dest, 18, 1, 2, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if handOff, err := s.writeOut(l, true); err != nil || !handOff {
		t.Fatalf("nobody reads: handOff %v, %v", handOff, err)
	}
	if err := s.Send(dest, 18, 1, 2, []byte{3}); err != nil {
		t.Fatal(err)
	}
	// While the rest waits for the writer, the reader does not write.
	if handOff, err := s.writeOut(l, true); err != nil || !handOff {
		t.Fatalf("with a rest pending: handOff %v, %v", handOff, err)
	}
	done := make(chan error, 1)
	go func() { _, err := s.writeOut(l, false); done <- err }()
	br := bufio.NewReader(router)
	for i := range 4 {
		_, m := readSendMessage(t, br)
		if _, p, err := ParseGzip(m.Payload, nil); err != nil || len(p) != 1 || p[0] != byte(i) {
			t.Fatalf("frame %d carries %x (%v)", i, p, err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestRateGate: the reader waits for input to gather only while it
// trickles in; the verdict of a window holds until the next.
func TestRateGate(t *testing.T) {
	var g rateGate
	g.start = time.Now().Add(-20 * time.Millisecond)
	if !g.slow(10) {
		t.Fatal("10 frames in 20 ms is a trickle")
	}
	g.start = time.Now().Add(-20 * time.Millisecond)
	if g.slow(100_000) {
		t.Fatal("100,000 frames in 20 ms is not")
	}
	if g.slow(1) {
		t.Fatal("within a window the last verdict holds")
	}
}

// BenchmarkSend measures queueing one 100-byte reply (the writer's part
// left out): as the tracker sends (reliability none), with a nonce
// followed for MessageStatus, and with Compress on a payload that
// shrinks.
func BenchmarkSend(b *testing.B) {
	text := bytes.Repeat([]byte("d8:interval"), 10)[:100]
	random := make([]byte, 100)
	rand.Read(random)
	for _, c := range []struct {
		name    string
		cfg     Config
		payload []byte
	}{
		{"none", Config{}, random},
		{"besteffort", Config{Options: i2p.Mapping{{Key: "i2cp.messageReliability", Value: "BestEffort"}}}, random},
		{"compress", Config{Compress: true}, text},
	} {
		b.Run(c.name, func(b *testing.B) {
			s, dest := newUpSession(b, c.cfg, 1)
			to := dest.Bytes()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := s.SendSerialized(to, 18, 1, 2, c.payload); err != nil {
					b.Fatal(err)
				}
				if i%1024 == 1023 {
					s.out.reset() // nobody writes: keep the queue from filling
				}
			}
		})
	}
}
