package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/loadgen"
	"github.com/go-i2p/go-opentracker/streaming"
)

// streamNet plays the router for HTTP over I2P streaming: each virtual
// client is a streaming Manager with an identity of its own, whose
// packets otload injects into the tracker's session as gzip envelopes
// (protocol 6) and to which the tracker's packets, caught by the router's
// OnSend hook, are handed back. The tracker does the whole path: I2CP
// framing, gzip, the SYN's signature check, the stream, net/http, the
// announce and the reply.
type streamNet struct {
	router  *i2cptest.Router
	tracker i2p.Destination
	seed    uint64
	cfg     streaming.Config

	mu      sync.Mutex
	clients []*streamClient // by client number, made on first use
	byHash  map[i2p.Hash]*streaming.Manager
	scratch sync.Pool
	bad     atomic.Uint64 // envelopes from the tracker that were not streaming packets
	unknown atomic.Uint64 // packets for no client
}

// streamClient is one virtual client: its Manager and its Destination
// in Base64 (the ip it announces, as libtorrent does).
type streamClient struct {
	m   *streaming.Manager
	b64 string
}

func newStreamNet(r *i2cptest.Router, tracker i2p.Destination, w *loadgen.Workload) *streamNet {
	n := &streamNet{router: r, tracker: tracker, seed: w.Config().Seed, clients: make([]*streamClient, w.Clients()),
		byHash: map[i2p.Hash]*streaming.Manager{},
		// The client sends its request at once (no wait for more data)
		// and acknowledges the reply soon: latency, not tracker work.
		cfg: streaming.Config{FlushDelay: time.Millisecond, AckDelay: 5 * time.Millisecond, MaxStreams: 64, Linger: 5 * time.Second}}
	n.scratch.New = func() any { b := make([]byte, 0, 4096); return &b }
	r.OnSend(n.onSend)
	return n
}

// onSend hands a packet from the tracker to the client it is for.
func (n *streamNet) onSend(_ i2p.Hash, to i2p.Destination, env []byte) {
	sp := n.scratch.Get().(*[]byte)
	defer n.scratch.Put(sp)
	h, data, err := i2cp.ParseGzip(env, sp)
	if err != nil || h.Protocol != streaming.ProtocolStreaming {
		n.bad.Add(1)
		return
	}
	n.mu.Lock()
	m := n.byHash[to.Hash()]
	n.mu.Unlock()
	if m == nil {
		n.unknown.Add(1)
		return
	}
	m.HandlePacket(h.FromPort, h.ToPort, data)
}

// client returns client c, making its identity (the same for a seed in
// every run) and Manager the first time.
func (n *streamNet) client(c int32) (*streamClient, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if sc := n.clients[c]; sc != nil {
		return sc, nil
	}
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], n.seed)
	binary.LittleEndian.PutUint32(s[8:], uint32(c))
	copy(s[12:], "otload stream client")
	k, err := i2p.NewIdentity(rand.NewChaCha8(s))
	if err != nil {
		return nil, err
	}
	m, err := streaming.NewManager(injectLink{n}, streaming.IdentityOf(k), n.cfg)
	if err != nil {
		return nil, err
	}
	sc := &streamClient{m: m, b64: k.Destination.Base64()}
	n.clients[c], n.byHash[k.Destination.Hash()] = sc, m
	return sc, nil
}

func (n *streamNet) close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, sc := range n.clients {
		if sc != nil {
			sc.m.Close()
		}
	}
}

// injectLink sends a client's packets into the tracker's session.
type injectLink struct{ n *streamNet }

func (l injectLink) Send(to i2p.Destination, fromPort, toPort uint16, packet []byte) error {
	env := i2cp.AppendGzip(nil, i2cp.Header{Protocol: streaming.ProtocolStreaming, FromPort: fromPort, ToPort: toPort}, packet)
	return l.n.router.Inject(to.Hash(), env)
}

func (n *streamNet) syncConns(conns int, w *loadgen.Workload, path string) []loadgen.SyncConn {
	out := make([]loadgen.SyncConn, conns)
	for i := range out {
		out[i] = &streamConn{n: n, w: w, path: path, host: n.tracker.B32(), buf: make([]byte, 0, 8192)}
	}
	return out
}

// streamConn is one worker: a stream per announce, as I2P clients open
// one per request (Connection: close).
type streamConn struct {
	n    *streamNet
	w    *loadgen.Workload
	path string
	host string
	req  []byte
	buf  []byte
}

func (s *streamConn) Do(ctx context.Context, r *loadgen.Request) (loadgen.Outcome, error) {
	if r.Kind != loadgen.KindAnnounce {
		return loadgen.Outcome{}, fmt.Errorf("stream: %s not supported", r.Kind)
	}
	sc, err := s.n.client(r.Client)
	if err != nil {
		return loadgen.Outcome{}, err
	}
	a := loadgen.HTTPAnnounce{Path: s.path, InfoHash: s.w.InfoHash(r.Torrent), PeerID: s.w.PeerID(r.Client),
		Port: 1, Left: r.Left, Event: r.Event, NumWant: r.NumWant, Compact: true, IP: sc.b64 + ".i2p"}
	s.req = loadgen.AppendHTTPAnnounce(s.req[:0], s.host, &a, false)
	c, err := streaming.Dialer{Manager: sc.m, Port: 80, Early: true}.Dial(ctx, s.n.tracker)
	if err != nil {
		return loadgen.Outcome{}, err
	}
	defer c.Close()
	if deadline, ok := ctx.Deadline(); ok {
		c.SetDeadline(deadline)
	}
	if _, err := c.Write(s.req); err != nil {
		return loadgen.Outcome{}, err
	}
	head, body, buf, err := loadgen.ReadHTTPResponse(c, s.buf)
	s.buf = buf
	if err != nil {
		return loadgen.Outcome{}, err
	}
	if head.Status != 200 {
		return loadgen.Outcome{Refused: true}, nil
	}
	return loadgen.ParseAnnounceBody(body, i2p.HashLen)
}

// holdStreams opens n streams from n clients (the per-peer bound holds
// no more than a few from one) whose requests never end, and returns a
// function that closes them; the tracker keeps each open until its head
// timeout.
func (n *streamNet) holdStreams(ctx context.Context, count int) (func(), error) {
	var conns []io.Closer
	release := func() {
		for _, c := range conns {
			c.Close()
		}
	}
	for i := range count {
		sc, err := n.client(int32(i % len(n.clients)))
		if err != nil {
			release()
			return nil, err
		}
		dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		c, err := streaming.Dialer{Manager: sc.m, Port: 80}.Dial(dctx, n.tracker)
		cancel()
		if err != nil {
			release()
			return nil, fmt.Errorf("stream %d: %w", i, err)
		}
		conns = append(conns, c)
		if _, err := io.WriteString(c, "GET /a HTTP/1.1\r\nHost: "+n.tracker.B32()+"\r\n"); err != nil {
			release()
			return nil, err
		}
	}
	return release, nil
}

// trackerDestination is the published session whose hash is h.
func trackerDestination(r *i2cptest.Router, h i2p.Hash) (i2p.Destination, error) {
	for _, d := range r.Sessions() {
		if d.Hash() == h {
			return d, nil
		}
	}
	return i2p.Destination{}, fmt.Errorf("no published session for %s", h.B32())
}
