package streaming

import (
	"context"
	"errors"
	"net"
	"sync"

	"github.com/go-i2p/go-opentracker/i2p"
)

// Listener accepts the streams peers open to the Manager's Destination, on
// any I2P port; replies go back with the ports swapped. It is a
// net.Listener, so http.Serve can use it; each accepted net.Conn is a
// *Conn whose RemoteAddr is an Addr carrying the verified peer.
type Listener struct {
	m       *Manager
	backlog chan *Conn
	done    chan struct{}
	once    sync.Once
}

// Listen opens the Manager's Listener. Until it is open, and after it is
// closed, SYNs are refused with a RESET and counted. A Manager has at most
// one Listener at a time.
func (m *Manager) Listen() (*Listener, error) {
	ch, err := m.listen()
	if err != nil {
		return nil, err
	}
	return &Listener{m: m, backlog: ch, done: make(chan struct{})}, nil
}

// Accept waits for the next stream.
func (l *Listener) Accept() (net.Conn, error) {
	return l.AcceptContext(context.Background())
}

// AcceptContext waits for the next stream or for ctx.
func (l *Listener) AcceptContext(ctx context.Context) (*Conn, error) {
	select {
	case c := <-l.backlog:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops accepting; streams waiting in the backlog are reset, the
// accepted ones go on.
func (l *Listener) Close() error {
	err := net.ErrClosed
	l.once.Do(func() {
		close(l.done)
		l.m.unlisten(l.backlog)
		err = nil
	})
	return err
}

// Addr is the Manager's Destination.
func (l *Listener) Addr() net.Addr { return Addr{Destination: l.m.id.Destination} }

// Dialer opens streams from a Manager.
type Dialer struct {
	Manager *Manager
	// Port is the I2P port dialled (toPort); ours is 0.
	Port uint16
	// Early returns the stream at once, before the SYN leaves: the SYN
	// goes with the first Write (after Config.FlushDelay, or at Close), so
	// that a short request rides in it, as Java's connect delay and i2pd's
	// HTTP proxy do. Without Early, Dial sends an empty SYN and waits for
	// the reply.
	Early bool
}

// ErrNoReply is returned by Dial when the stream ended before its SYN
// reply.
var ErrNoReply = errors.New("streaming: no SYN reply")

// Dial opens a stream to to.
func (d Dialer) Dial(ctx context.Context, to i2p.Destination) (*Conn, error) {
	m := d.Manager
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, net.ErrClosed
	}
	c := newConn(m, m.newID(), Signer{Destination: to}, false)
	c.remotePort = d.Port
	m.streams[c.localID] = c
	m.mu.Unlock()
	m.c.dialed.Add(1)
	if d.Early {
		return c, nil
	}
	c.mu.Lock()
	c.released, c.flushDue = true, true
	c.pump()
	c.mu.Unlock()
	select {
	case <-c.replied:
	case <-ctx.Done():
		c.abort(ctx.Err())
		return nil, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.remoteID == 0 {
		if c.err != nil {
			return nil, c.err
		}
		return nil, ErrNoReply
	}
	return c, nil
}
