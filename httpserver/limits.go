package httpserver

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// defaultMaxConns is the bound on held connections when MaxConns is
// unset, lowered to fit the descriptor limit (descriptorBudget).
const defaultMaxConns = 1024

// Stats counts what the Server holds and refuses.
type Stats struct {
	// Open is the connections held beyond the accept loop: kept alive,
	// waiting for the rest of a head, or served by net/http.
	Open int64
	// RefusedTotal and RefusedPeer count connections closed unserved
	// because MaxConns or MaxConnsPerPeer were reached.
	RefusedTotal, RefusedPeer uint64
	// AcceptErrors counts failed accepts (out of descriptors, say), each
	// followed by a pause.
	AcceptErrors uint64
}

// Stats returns the counters; it is safe to call at any time.
func (s *Server) Stats() Stats {
	return Stats{
		Open:         s.held.open.Load(),
		RefusedTotal: s.held.refusedTotal.Load(),
		RefusedPeer:  s.held.refusedPeer.Load(),
		AcceptErrors: s.held.acceptErrors.Load(),
	}
}

// slots bounds the connections held at once, in total and per peer.
type slots struct {
	max, perPeer int64 // set by Serve; perPeer 0 is no bound

	open                      atomic.Int64
	refusedTotal, refusedPeer atomic.Uint64
	acceptErrors              atomic.Uint64

	mu    sync.Mutex
	peers map[peerKey]int64 // held connections by peer, when perPeer > 0
}

// peerKey names a connection's peer: its IP address on TCP, else the
// address as the listener gives it (a Destination on I2P streaming).
type peerKey struct {
	ip    netip.Addr
	other string
}

func peerOf(c net.Conn) peerKey {
	switch a := c.RemoteAddr().(type) {
	case *net.TCPAddr:
		return peerKey{ip: a.AddrPort().Addr().Unmap()}
	case nil:
		return peerKey{}
	default:
		return peerKey{other: a.Network() + " " + a.String()}
	}
}

// hold takes a slot for c, or closes c and counts the refusal when the
// bounds are reached.
func (s *Server) hold(c net.Conn) (net.Conn, bool) {
	l := &s.held
	if l.open.Add(1) > l.max {
		l.open.Add(-1)
		l.refusedTotal.Add(1)
		c.Close()
		return nil, false
	}
	h := &heldConn{Conn: c, l: l}
	if l.perPeer > 0 {
		h.peer = peerOf(c)
		l.mu.Lock()
		ok := l.peers[h.peer] < l.perPeer
		if ok {
			l.peers[h.peer]++
		}
		l.mu.Unlock()
		if !ok {
			l.open.Add(-1)
			l.refusedPeer.Add(1)
			c.Close()
			return nil, false
		}
	}
	return h, true
}

// release gives back a slot hold took.
func (l *slots) release(peer peerKey) {
	if l.perPeer > 0 {
		l.mu.Lock()
		if l.peers[peer]--; l.peers[peer] <= 0 {
			delete(l.peers, peer)
		}
		l.mu.Unlock()
	}
	l.open.Add(-1)
}

// heldConn is a connection holding a slot until it is closed.
type heldConn struct {
	net.Conn
	l        *slots
	peer     peerKey
	released atomic.Bool
}

func (c *heldConn) Close() error {
	err := c.Conn.Close()
	if c.released.CompareAndSwap(false, true) {
		c.l.release(c.peer)
	}
	return err
}

// CloseWrite passes a half-close through (net/http looks for it).
func (c *heldConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// boundedListener is the listener net/http serves when there is no fast
// path: each connection it yields holds a slot, and failed accepts are
// counted.
type boundedListener struct {
	net.Listener
	s *Server
}

func (l boundedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				l.s.held.acceptErrors.Add(1) // net/http pauses before the next
			}
			return nil, err
		}
		if h, ok := l.s.hold(c); ok {
			return h, nil
		}
	}
}
