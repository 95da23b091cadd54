package streaming

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// Errors a stream ends with.
var (
	ErrReset   = errors.New("streaming: stream reset by peer")
	ErrTimeout = errors.New("streaming: stream timed out")
)

// Addr is an I2P streaming address: a Destination and an I2P port.
// String is the Base32 address, as a Host header would name it.
type Addr struct {
	Destination i2p.Destination
	Port        uint16
}

// Network returns "i2p".
func (a Addr) Network() string { return "i2p" }

// String returns "<b32>.b32.i2p".
func (a Addr) String() string { return a.Destination.B32() }

// Conn is one stream, a net.Conn. Its RemoteAddr is an Addr whose
// Destination signed the stream's SYN (or SYN reply). Close is graceful:
// it returns at once, and the stream flushes, closes and is acknowledged
// in the background.
type Conn struct {
	m        *Manager
	localID  uint32
	peer     Signer
	peerHash i2p.Hash
	inbound  bool

	mu                    sync.Mutex
	changed               chan struct{} // closed on a change waiters care about; nil while none waits
	remoteID              uint32
	localPort, remotePort uint16
	err                   error // set once the stream is over
	finished              bool

	// receiving
	recvAny     bool
	recvNext    uint32 // next in-order sequence number expected
	highest     uint32 // highest sequence number received
	ooo         map[uint32]oooPacket
	oooBytes    int
	rbuf        []byte
	peerClosed  bool // the peer's CLOSE arrived in order
	readClosed  bool // Close was called: received data is discarded
	choking     bool // we told the peer to stop sending
	peerDelay   int  // the peer's requested ACK delay, -1 if none
	ackDue      bool
	ackTimer    *time.Timer
	lastHeard   time.Time
	idleTimer   *time.Timer
	readDL      time.Time
	lingerTimer *time.Timer

	// sending
	sendNext    uint32 // next sequence number to assign
	wbuf        []byte // written, not yet in a packet
	unacked     []*outPacket
	unackedSize int
	window      float64
	ssthresh    float64
	choked      bool
	peerMTU     int
	srtt        time.Duration
	rttvar      time.Duration
	rto         time.Duration
	rtxTimer    *time.Timer
	flushDue    bool
	flushTimer  *time.Timer
	released    bool // an early outbound SYN may go
	writeClosed bool // CloseWrite or Close was called
	closeSent   bool // the CLOSE packet is made
	closeAcked  bool
	writeDL     time.Time
	replied     chan struct{} // closed when an outbound stream hears its SYN reply, or ends
}

type oooPacket struct {
	payload []byte
	close   bool
}

type outPacket struct {
	seq     uint32
	flags   Flags
	payload []byte
	sent    time.Time
	sends   int
	nacks   int
}

func newConn(m *Manager, id uint32, peer Signer, inbound bool) *Conn {
	c := &Conn{
		m: m, localID: id, peer: peer, inbound: inbound,
		ooo: map[uint32]oooPacket{}, peerDelay: -1, lastHeard: time.Now(),
		window: float64(m.cfg.InitialWindow), ssthresh: float64(m.cfg.MaxWindow),
		peerMTU: m.cfg.MTU, rto: m.cfg.InitialRTO, replied: make(chan struct{}),
	}
	c.idleTimer = time.AfterFunc(m.cfg.Inactivity, c.onIdle)
	return c
}

// broadcast wakes every waiter. Called with c.mu held.
func (c *Conn) broadcast() {
	if c.changed != nil {
		close(c.changed)
		c.changed = nil // the next waiter makes another
	}
}

// wait releases c.mu until something changes or the deadline passes.
// Called with c.mu held; returns with it held.
func (c *Conn) wait(deadline time.Time) error {
	if c.changed == nil {
		c.changed = make(chan struct{})
	}
	ch := c.changed
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return os.ErrDeadlineExceeded
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	c.mu.Unlock()
	defer c.mu.Lock()
	select {
	case <-ch:
		return nil
	case <-timeout:
		return os.ErrDeadlineExceeded
	}
}

// Read reads received data; io.EOF after the peer's CLOSE.
func (c *Conn) Read(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		switch {
		case c.readClosed:
			return 0, net.ErrClosed
		case len(c.rbuf) > 0:
			n := copy(b, c.rbuf)
			c.consumed(n)
			return n, nil
		case c.peerClosed:
			return 0, io.EOF
		case c.err != nil:
			return 0, c.err
		case len(b) == 0:
			return 0, nil
		}
		if err := c.wait(c.readDL); err != nil {
			return 0, err
		}
	}
}

// consumed drops n read bytes and unchokes the peer once half the buffer
// is free.
func (c *Conn) consumed(n int) {
	c.rbuf = c.rbuf[n:]
	if len(c.rbuf) == 0 {
		c.rbuf = nil
	}
	if c.choking && len(c.rbuf)+c.oooBytes < c.m.cfg.RecvBuffer/2 {
		c.choking = false
		c.sendAck()
	}
}

// Write queues b for sending; it blocks while the send buffer is full.
func (c *Conn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	done := 0
	for len(b) > 0 {
		switch {
		case c.writeClosed:
			return done, net.ErrClosed
		case c.err != nil:
			return done, c.err
		}
		space := c.m.cfg.SendBuffer - len(c.wbuf) - c.unackedSize
		if space <= 0 {
			if err := c.wait(c.writeDL); err != nil {
				return done, err
			}
			continue
		}
		n := min(space, len(b))
		c.wbuf = append(c.wbuf, b[:n]...)
		b, done = b[n:], done+n
		c.released = true
		if len(c.wbuf) >= c.mtu() {
			c.pump()
		}
		c.armFlush(c.m.cfg.FlushDelay)
	}
	return done, nil
}

// CloseWrite sends CLOSE after the data written so far; the stream can
// still read.
func (c *Conn) CloseWrite() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil && !c.finished {
		return c.err
	}
	c.closeWrite()
	return nil
}

func (c *Conn) closeWrite() {
	if c.writeClosed || c.finished {
		return
	}
	c.writeClosed, c.released, c.flushDue = true, true, true
	c.pump()
	c.broadcast()
}

// Close closes both directions: it sends CLOSE after the data written so
// far and returns; retransmission goes on in the background, and the
// peer's CLOSE is awaited at most Config.Linger once all is acknowledged.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readClosed {
		return net.ErrClosed
	}
	c.readClosed = true
	c.rbuf, c.ooo, c.oooBytes = nil, map[uint32]oooPacket{}, 0
	c.closeWrite()
	c.maybeFinish()
	if !c.finished {
		c.lingerTimer = time.AfterFunc(c.m.cfg.Linger, c.onLinger)
	}
	c.broadcast()
	return nil
}

// LocalAddr is our Destination and port.
func (c *Conn) LocalAddr() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Addr{Destination: c.m.id.Destination, Port: c.localPort}
}

// RemoteAddr is an Addr with the peer's verified Destination.
func (c *Conn) RemoteAddr() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Addr{Destination: c.peer.Destination, Port: c.remotePort}
}

// SetDeadline sets both deadlines.
func (c *Conn) SetDeadline(t time.Time) error { return c.setDeadlines(&t, &t) }

// SetReadDeadline sets the read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.setDeadlines(&t, nil) }

// SetWriteDeadline sets the write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.setDeadlines(nil, &t) }

// setDeadlines sets the deadlines given (nil: unchanged) and wakes the
// waiters, so that they wait for the new ones.
func (c *Conn) setDeadlines(read, write *time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if read != nil {
		c.readDL = *read
	}
	if write != nil {
		c.writeDL = *write
	}
	c.broadcast()
	return nil
}

// abort resets the stream: a signed RESET goes to the peer if it knows
// the stream, and the stream ends with err.
func (c *Conn) abort(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished {
		return
	}
	c.sendReset()
	c.finish(err)
}

// onLinger ends a closed stream that still waits for the peer's CLOSE,
// once everything we sent is acknowledged (the resend limit ends it
// otherwise).
func (c *Conn) onLinger() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.unacked) > 0 {
		c.lingerTimer.Reset(c.m.cfg.Linger)
		return
	}
	c.finish(nil)
}

// finish ends the stream: timers stop, waiters wake, the Manager forgets
// it. Called with c.mu held.
func (c *Conn) finish(err error) {
	if c.finished {
		return
	}
	c.finished = true
	if err == nil {
		err = net.ErrClosed
	}
	if c.err == nil {
		c.err = err
	}
	for _, t := range []*time.Timer{c.ackTimer, c.idleTimer, c.rtxTimer, c.flushTimer, c.lingerTimer} {
		if t != nil {
			t.Stop()
		}
	}
	c.unacked, c.unackedSize, c.wbuf, c.ooo = nil, 0, nil, nil
	select {
	case <-c.replied:
	default:
		close(c.replied)
	}
	c.broadcast()
	c.m.remove(c)
}
