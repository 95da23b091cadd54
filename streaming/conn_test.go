package streaming

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

const (
	testRequest  = "GET /a?info_hash=x HTTP/1.1\r\nHost: t.b32.i2p\r\nConnection: close\r\n\r\n"
	testResponse = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: close\r\n\r\nd8:intervali1ee"
)

// serveOnce answers one request per accepted stream: read the header,
// write the response, Close.
func serveOnce(t *testing.T, l *Listener, remotes chan<- net.Addr) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			if remotes != nil {
				remotes <- c.RemoteAddr()
			}
			c.SetDeadline(time.Now().Add(20 * time.Second))
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					t.Errorf("server read: %v", err)
					c.Close()
					return
				}
				if line == "\r\n" {
					break
				}
			}
			c.Write([]byte(testResponse))
			c.Close()
		}()
	}
}

// TestHTTPOneRoundTrip: an early dial puts the request in the SYN, and
// the server's reply is one packet, SYN+CLOSE+response; the handler sees
// the client's Destination as RemoteAddr.
func TestHTTPOneRoundTrip(t *testing.T) {
	n := newMemNet(1, 0, 0, 0)
	cfg := fastConfig()
	cfg.FlushDelay = time.Second // the test's Close comes long before
	srv, cli := n.node(t, cfg), n.node(t, cfg)
	var mu sync.Mutex
	var sent []struct {
		from i2p.Hash
		p    Packet
	}
	n.setObserver(func(from i2p.Hash, p *Packet) {
		mu.Lock()
		sent = append(sent, struct {
			from i2p.Hash
			p    Packet
		}{from, *p})
		mu.Unlock()
	})
	l, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	remotes := make(chan net.Addr, 1)
	go serveOnce(t, l, remotes)

	c, err := Dialer{Manager: cli, Port: 80, Early: true}.Dial(context.Background(), srv.Destination())
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write([]byte(testRequest)); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil || string(got) != testResponse {
		t.Fatalf("response %q, %v", got, err)
	}
	if a := (<-remotes).(Addr); !a.Destination.Equal(cli.Destination()) {
		t.Fatalf("RemoteAddr %v, want %v", a, cli.Destination())
	}
	c.Close()
	waitFor(t, 10*time.Second, "streams to end", func() bool { return srv.Stats().Open == 0 && cli.Stats().Open == 0 })

	mu.Lock()
	defer mu.Unlock()
	first := map[i2p.Hash]Packet{}
	for _, s := range sent {
		if _, ok := first[s.from]; !ok {
			first[s.from] = s.p
		}
	}
	syn, reply := first[cli.Destination().Hash()], first[srv.Destination().Hash()]
	if !syn.Has(FlagSYN|FlagClose|FlagSignature|FlagFrom) || string(syn.Payload) != testRequest {
		t.Errorf("client's first packet: flags %#x payload %q", syn.Flags, syn.Payload)
	}
	if h, ok := syn.TargetHash(); !ok || h != srv.Destination().Hash() {
		t.Errorf("SYN target hash missing")
	}
	if !reply.Has(FlagSYN|FlagClose|FlagSignature|FlagFrom) || string(reply.Payload) != testResponse {
		t.Errorf("server's first packet: flags %#x payload %q", reply.Flags, reply.Payload)
	}
	// One signature checked: the SYN's, which also carries the CLOSE.
	if st := srv.Stats(); st.Accepted != 1 || st.Retransmits != 0 || st.Verified != 1 {
		t.Errorf("server stats %+v", st)
	}
}

// TestLossyTransfer: over links that drop, duplicate, delay and reorder
// (seeded), every byte written arrives once and in order both ways, and
// no stream outlives the exchange.
func TestLossyTransfer(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			n := newMemNet(seed, 0.1, 0.05, 30*time.Millisecond)
			cfg := fastConfig()
			cfg.SendBuffer, cfg.RecvBuffer = 16<<10, 16<<10
			srv, cli := n.node(t, cfg), n.node(t, cfg)
			l, err := srv.Listen()
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			// The server echoes everything, then closes.
			go func() {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.SetDeadline(time.Now().Add(60 * time.Second))
				io.Copy(c, c)
				c.Close()
			}()
			data := make([]byte, 100<<10)
			rand.Read(data)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := Dialer{Manager: cli}.Dial(ctx, srv.Destination())
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(60 * time.Second))
			errc := make(chan error, 1)
			go func() {
				_, err := c.Write(data)
				if err == nil {
					err = c.CloseWrite()
				}
				errc <- err
			}()
			got, err := io.ReadAll(c)
			if err != nil {
				t.Fatalf("read after %d bytes: %v", len(got), err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("echo differs: %d bytes, want %d", len(got), len(data))
			}
			c.Close()
			waitFor(t, 60*time.Second, "streams to end", func() bool { return srv.Stats().Open == 0 && cli.Stats().Open == 0 })
			if st := cli.Stats(); st.Retransmits == 0 {
				t.Errorf("a lossy link caused no retransmission: %+v", st)
			}
		})
	}
}

// listen opens m's Listener until the test ends.
func listen(t *testing.T, m *Manager) *Listener {
	t.Helper()
	l, err := m.Listen()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// signedSYN makes a SYN from a fresh identity to target.
func signedSYN(t *testing.T, target i2p.Destination, id uint32) (*Packet, []byte, i2p.SigningKey) {
	t.Helper()
	d, k := newTestIdentity(t, i2p.SigEd25519)
	p := testSYN(d, target)
	p.ReceiveStreamID = id
	raw, err := p.AppendSigned(nil, k)
	if err != nil {
		t.Fatal(err)
	}
	return p, raw, k
}

// TestSYNChecks: unsigned SYNs, forged ones, ones for another target and
// ones from RSA keys open no stream and are counted; a duplicate SYN maps
// to the stream the first one opened.
func TestSYNChecks(t *testing.T) {
	n := newMemNet(1, 0, 0, 0)
	srv := n.node(t, fastConfig())
	listen(t, srv)
	me := srv.Destination()

	p, _, _ := signedSYN(t, me, 7)
	p.Flags &^= FlagSignature
	p.Signature = nil
	unsigned, _ := p.AppendTo(nil)
	srv.HandlePacket(0, 80, unsigned)

	_, forged, _ := signedSYN(t, me, 8)
	forged[len(forged)-1] ^= 1
	srv.HandlePacket(0, 80, forged)

	other, _ := newTestIdentity(t, i2p.SigEd25519)
	_, elsewhere, _ := signedSYN(t, other, 9)
	srv.HandlePacket(0, 80, elsewhere)

	srv.HandlePacket(0, 80, []byte("not a packet"))
	st := srv.Stats()
	if d := st.Dropped; d[DropUnsignedSYN.String()] != 1 || d[DropBadSignature.String()] != 1 ||
		d[DropWrongTarget.String()] != 1 || d[DropMalformed.String()] != 1 || st.Open != 0 {
		t.Fatalf("stats after bad SYNs: %+v", st)
	}

	var replies []Packet
	var mu sync.Mutex
	n.setObserver(func(from i2p.Hash, p *Packet) {
		mu.Lock()
		replies = append(replies, *p)
		mu.Unlock()
	})
	_, good, _ := signedSYN(t, me, 10)
	srv.HandlePacket(0, 80, good)
	srv.HandlePacket(0, 80, good)
	st = srv.Stats()
	if st.Open != 1 || st.Accepted != 1 || st.DuplicateSYNs != 1 {
		t.Fatalf("stats after a duplicated SYN: %+v", st)
	}
	waitFor(t, 5*time.Second, "two SYN replies", func() bool { mu.Lock(); defer mu.Unlock(); return len(replies) >= 2 })
	mu.Lock()
	defer mu.Unlock()
	for _, r := range replies {
		if !r.Has(FlagSYN) || r.ReceiveStreamID != replies[0].ReceiveStreamID || r.SendStreamID != 10 {
			t.Fatalf("replies differ: %+v", replies)
		}
	}
}

// TestLimits: SYNs over the per-peer and total limits (under LimitReset),
// and with no Listener, are refused with a signed RESET carrying FROM,
// and counted.
func TestLimits(t *testing.T) {
	n := newMemNet(1, 0, 0, 0)
	cfg := fastConfig()
	cfg.MaxStreamsPerPeer, cfg.MaxStreams, cfg.LimitAction = 1, 2, LimitReset
	srv := n.node(t, cfg)
	var mu sync.Mutex
	var resets []Packet
	n.setObserver(func(from i2p.Hash, p *Packet) {
		if p.Has(FlagReset) {
			mu.Lock()
			resets = append(resets, *p)
			mu.Unlock()
		}
	})
	me := srv.Destination()
	_, noListener, _ := signedSYN(t, me, 1)
	srv.HandlePacket(0, 80, noListener)
	l, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	d, k := newTestIdentity(t, i2p.SigEd25519)
	for id := uint32(2); id <= 3; id++ {
		p := testSYN(d, me)
		p.ReceiveStreamID = id
		raw, _ := p.AppendSigned(nil, k)
		srv.HandlePacket(0, 80, raw)
	}
	for id := uint32(4); id <= 5; id++ {
		_, raw, _ := signedSYN(t, me, id)
		srv.HandlePacket(0, 80, raw)
	}
	st := srv.Stats()
	if r := st.Refused; r[RefusedNotListening.String()] != 1 || r[RefusedMaxStreamsPerPeer.String()] != 1 ||
		r[RefusedMaxStreams.String()] != 1 || st.Open != 2 {
		t.Fatalf("stats %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(resets) != 3 {
		t.Fatalf("%d RESETs, want 3", len(resets))
	}
	for _, r := range resets {
		if !r.Has(FlagReset|FlagSignature|FlagFrom) || r.Verify(Signer{}, time.Now(), nil) != nil {
			t.Fatalf("RESET %+v does not verify", r)
		}
	}
}

// dialAccept listens on srv, dials it from cli and returns the dialed
// stream and a channel that yields the accepted one.
func dialAccept(t *testing.T, srv, cli *Manager) (*Conn, <-chan net.Conn) {
	t.Helper()
	l, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	c, err := Dialer{Manager: cli}.Dial(context.Background(), srv.Destination())
	if err != nil {
		t.Fatal(err)
	}
	return c, accepted
}

// TestDeadlinesAndReset: a Read past its deadline fails with
// os.ErrDeadlineExceeded and the stream lives on; a peer that vanishes
// makes the stream fail after the resend limit.
func TestDeadlinesAndReset(t *testing.T) {
	n := newMemNet(1, 0, 0, 0)
	cfg := fastConfig()
	cfg.MaxResends, cfg.InitialRTO, cfg.MaxRTO = 3, 50*time.Millisecond, 100*time.Millisecond
	srv, cli := n.node(t, cfg), n.node(t, cfg)
	c, accepted := dialAccept(t, srv, cli)
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past deadline: %v", err)
	}
	c.SetReadDeadline(time.Time{})
	sc := <-accepted
	sc.Write([]byte("still here"))
	buf := make([]byte, 10)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "still here" {
		t.Fatalf("after a deadline: %q %v", buf, err)
	}
	n.mu.Lock()
	n.block[srv.Destination().Hash()] = true
	n.mu.Unlock()
	c.Write([]byte("anyone?"))
	_, err := c.Read(buf)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("read from a vanished peer: %v", err)
	}
	if st := cli.Stats(); st.Timeouts != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestChoke: a reader that does not read makes the writer stop at the
// receive buffer, then resume when it reads.
func TestChoke(t *testing.T) {
	n := newMemNet(1, 0, 0, 0)
	cfg := fastConfig()
	cfg.RecvBuffer, cfg.SendBuffer = 8<<10, 64<<10
	srv, cli := n.node(t, cfg), n.node(t, cfg)
	c, accepted := dialAccept(t, srv, cli)
	data := bytes.Repeat([]byte("0123456789abcdef"), 4<<10)
	go func() { c.Write(data); c.CloseWrite() }()
	sc := <-accepted
	waitFor(t, 10*time.Second, "the receive buffer to fill", func() bool { return srv.Stats().Dropped[DropReceiveBufferFull.String()] > 0 })
	sc.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.ReadAll(sc)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	if !strings.HasSuffix(sc.RemoteAddr().String(), i2p.B32Suffix) {
		t.Fatalf("RemoteAddr %q", sc.RemoteAddr())
	}
}

// TestCloseAfterReset: closing a stream the peer reset leaves no timer
// behind it: the stream is over, with nothing to linger for.
func TestCloseAfterReset(t *testing.T) {
	n := newMemNet(1, 0, 0, 0)
	srv, cli := n.node(t, fastConfig()), n.node(t, fastConfig())
	_, accepted := dialAccept(t, srv, cli)
	sc := (<-accepted).(*Conn)
	cli.Close()
	if _, err := sc.Read(make([]byte, 1)); !errors.Is(err, ErrReset) {
		t.Fatalf("read after the peer's RESET: %v", err)
	}
	if err := sc.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.lingerTimer != nil {
		t.Fatal("Close armed the linger timer of a finished stream")
	}
}

// TestWriteDeadline: a Write blocked on a full send buffer (the peer
// acknowledges nothing) returns os.ErrDeadlineExceeded with what it
// queued once a deadline set while it waits passes.
func TestWriteDeadline(t *testing.T) {
	n := newMemNet(1, 0, 0, 0)
	cfg := fastConfig()
	cfg.SendBuffer = 4096
	srv, cli := n.node(t, cfg), n.node(t, cfg)
	c, _ := dialAccept(t, srv, cli)
	n.mu.Lock()
	n.block[srv.Destination().Hash()] = true
	n.mu.Unlock()
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := c.Write(make([]byte, 2*cfg.SendBuffer))
		done <- result{n, err}
	}()
	waitFor(t, 5*time.Second, "the send buffer to fill", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.wbuf)+c.unackedSize >= cfg.SendBuffer
	})
	c.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
	select {
	case r := <-done:
		if r.n != cfg.SendBuffer || !errors.Is(r.err, os.ErrDeadlineExceeded) {
			t.Fatalf("write: %d %v", r.n, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the write deadline did not end the Write")
	}
}

// TestEarlyPacketCountedOnce: a data packet that comes before its SYN is
// kept, then delivered once the SYN opens the stream, and counted among
// the packets received once, when it came.
func TestEarlyPacketCountedOnce(t *testing.T) {
	n := newMemNet(1, 0, 0, 0)
	srv := n.node(t, fastConfig())
	l := listen(t, srv)
	syn, rawSYN, _ := signedSYN(t, srv.Destination(), 11)
	data := &Packet{ReceiveStreamID: 11, Seq: 1, Payload: []byte("more\r\n")}
	rawData, err := data.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.HandlePacket(0, 80, rawData)
	srv.HandlePacket(0, 80, rawSYN)
	if got := srv.Stats().PacketsIn; got != 2 {
		t.Fatalf("%d packets counted in, 2 came", got)
	}
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	want := string(syn.Payload) + string(data.Payload)
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
		t.Fatalf("read %q, %v; want %q", got, err, want)
	}
}

// TestRefusalsKeepClosedStreams: a flood of SYNs answered with a 429
// does not push a stream that ran out of the recently closed ones (its
// peer's retransmitted CLOSE is still acknowledged, its ID not reused),
// and the latest refusal is remembered too.
func TestRefusalsKeepClosedStreams(t *testing.T) {
	n := newMemNet(1, 0, 0, 0)
	m := n.node(t, fastConfig())
	var lastRefusal atomic.Uint32
	n.setObserver(func(_ i2p.Hash, p *Packet) { lastRefusal.Store(p.ReceiveStreamID) })
	m.mu.Lock()
	m.rememberClosed(closedStream{localID: 42, remoteID: 7, ackThrough: 3})
	m.mu.Unlock()
	syn, _, _ := signedSYN(t, m.Destination(), 9)
	for range 2 * recentlyClosedLen {
		m.reply429(syn, 0, 80, concurrencyRetryAfter)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if got, ok := m.findClosed(42); !ok || got.remoteID != 7 || got.ackThrough != 3 || got.refused {
		t.Fatalf("the stream that ran is forgotten after %d refusals (%+v, %v)", 2*recentlyClosedLen, got, ok)
	}
	if got, ok := m.findClosed(lastRefusal.Load()); !ok || !got.refused || got.remoteID != 9 {
		t.Fatalf("the latest refusal is not remembered: %+v, %v", got, ok)
	}
}

// TestUnansweredDialNoReset: a dial whose SYN never reaches the peer
// fails after the resend limit without a RESET, which the peer could not
// match to any stream.
func TestUnansweredDialNoReset(t *testing.T) {
	n := newMemNet(1, 0, 0, 0)
	cfg := fastConfig()
	cfg.MaxResends, cfg.InitialRTO, cfg.MaxRTO = 2, 20*time.Millisecond, 40*time.Millisecond
	srv, cli := n.node(t, cfg), n.node(t, cfg)
	listen(t, srv)
	n.mu.Lock()
	n.block[cli.Destination().Hash()] = true
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c, err := (Dialer{Manager: cli}).Dial(ctx, srv.Destination()); err == nil {
		c.Close()
		t.Fatal("a dial to a peer that never heard the SYN succeeded")
	}
	if st := cli.Stats(); st.ResetsSent != 0 || st.Timeouts != 1 {
		t.Fatalf("after an unanswered dial: %d RESETs sent, %d timeouts; want 0 and 1", st.ResetsSent, st.Timeouts)
	}
}

// TestBroadcastWithoutWaiters: a change no one waits for (most packets
// of a stream nobody is blocked on) allocates nothing.
func TestBroadcastWithoutWaiters(t *testing.T) {
	n := newMemNet(1, 0, 0, 0)
	srv, cli := n.node(t, fastConfig()), n.node(t, fastConfig())
	c, _ := dialAccept(t, srv, cli)
	defer c.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := testing.AllocsPerRun(100, c.broadcast); a != 0 {
		t.Fatalf("broadcast with no waiter: %v allocations", a)
	}
}
