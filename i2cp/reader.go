// The reader: one goroutine per connection reads the router's frames and
// handles each (handleFrame), delivering payloads to the handlers on its
// own goroutine.
//
// Invariants: only the reader sets gather, and the session id when the
// router created the session (down clears it); a frame's body is valid
// only until the next read, and so is a Message handed to a handler. Before it waits
// for more input, and at a refill of its buffer once flushEvery frames
// were read, the reader writes the replies queued since it last wrote
// (flush: writeOut inline, which never blocks; see writer.go).
//
// Locks: the reader takes link.mu only with TryLock (inside writeOut),
// readyMu and lookupMu briefly, and holds none of them while a handler
// runs.

package i2cp

import (
	"bufio"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// coalesceBelow: a batch this small means input trickles in; with
// Config.Coalesce set the reader then waits before it reads again, as
// long as the input rate stays below coalesceRate: above it a wait
// would only hold back a client that waits for its replies.
const (
	coalesceBelow = 64
	coalesceRate  = 50_000 // frames a second
)

// rateGate measures the reader's input rate over windows of 10 ms.
type rateGate struct {
	start  time.Time
	frames int
	isSlow bool
}

// slow counts n more frames and reports whether the rate of the last
// full window was below coalesceRate.
func (g *rateGate) slow(n int) bool {
	g.frames += n
	now := time.Now()
	if d := now.Sub(g.start); d >= 10*time.Millisecond {
		g.isSlow = float64(g.frames) < coalesceRate*d.Seconds()
		g.start, g.frames = now, 0
	}
	return g.isSlow
}

// frameReader is the read side of one connection.
type frameReader struct {
	s      *Session
	br     *bufio.Reader
	src    *drainReader // br's source
	l      *link
	legacy bool // this connection publishes the older LeaseSet
	// published is set once the first LeaseSet went out on this
	// connection; connectOnce reads it when the connection ends.
	published *atomic.Bool
	rx        *atomic.Uint64 // frames read: the writer's liveness check
	// writerDone is closed when the writer stops: control frames can
	// then no longer be queued.
	writerDone <-chan struct{}
	buf        []byte // frame bodies
	scratch    []byte // inflated payloads
	m          Message
	unflushed  int // frames read since the last flush
}

// readLoop reads and handles frames until the connection fails or the
// router ends the session. Replies the handlers send while it works
// through the input gather in the outbox; the reader writes them itself,
// in one write, when the input is used up and it would wait for more
// (flush, run by src), or at a refill once flushEvery frames wait.
func (r *frameReader) readLoop() error {
	s := r.s
	r.buf = make([]byte, 0, 64<<10)
	r.src.beforeWait = r.flush
	defer s.gather.Store(false)
	batch := 0 // frames read since the input buffer was last refilled
	var trickle rateGate
	for {
		if r.br.Buffered() == 0 {
			slow := s.cfg.Coalesce > 0 && trickle.slow(batch) && batch < coalesceBelow
			if slow || r.unflushed >= flushEvery {
				if err := r.flush(); err != nil {
					return err
				}
			}
			if slow {
				time.Sleep(s.cfg.Coalesce)
			}
			batch = 0
		}
		batch++
		typ, body, err := ReadFrame(r.br, r.buf)
		if err != nil {
			return err
		}
		if r.unflushed == 0 {
			s.gather.Store(true) // until the reader next writes
		}
		r.unflushed++
		r.rx.Add(1)
		if err := r.handleFrame(typ, body); err != nil {
			return err
		}
	}
}

// flushEvery bounds the frames the reader handles between its writes
// while input keeps coming, and so how long a reply waits for it.
const flushEvery = 32

// flush writes the replies gathered since the last flush; from here
// until the next frame is read a Send wakes the writer.
func (r *frameReader) flush() error {
	s := r.s
	s.gather.Store(false)
	r.unflushed = 0
	handOff, err := s.writeOut(r.l, true)
	if err != nil {
		return err
	}
	if handOff {
		s.out.signal()
	}
	return nil
}

// handleFrame handles one frame from the router. An error ends the
// connection; a malformed payload, host reply or status is counted and
// skipped.
func (r *frameReader) handleFrame(typ byte, body []byte) error {
	switch typ {
	case TypeMessagePayload:
		r.payload(body)
	case TypeSessionStatus:
		return r.sessionStatus(body)
	case TypeRequestVariableLeaseSet:
		return r.leaseSetRequest(ParseRequestVariableLeaseSet, body)
	case TypeRequestLeaseSet:
		return r.leaseSetRequest(ParseRequestLeaseSet, body)
	case TypeHostReply:
		r.hostReply(body)
	case TypeMessageStatus:
		ms, err := ParseMessageStatus(body)
		if err != nil {
			r.s.malformed.Add(1)
			return nil
		}
		r.s.messageStatus(ms)
	case TypeSetDate:
		// keepalive answer
	case TypeDisconnect:
		reason, _ := ParseDisconnect(body)
		return fmt.Errorf("%w: router says %q", ErrDisconnected, reason)
	default:
		r.s.cfg.Logger.Debug("i2cp: ignoring message", "type", typ)
	}
	return nil
}

// payload unwraps a MessagePayload and hands it to its handler.
func (r *frameReader) payload(body []byte) {
	s := r.s
	_, _, env, err := ParseMessagePayload(body)
	if err != nil {
		s.malformed.Add(1)
		return
	}
	h, data, err := ParseGzip(env, &r.scratch)
	if err != nil {
		s.malformed.Add(1)
		return
	}
	s.received.Add(1)
	r.m = Message{Protocol: h.Protocol, FromPort: h.FromPort, ToPort: h.ToPort, Payload: data}
	s.dispatch(&r.m)
}

// sessionStatus brings the session up (Created) or ends the link
// (Destroyed, Invalid, Refused, any unknown status).
func (r *frameReader) sessionStatus(body []byte) error {
	id, status, err := ParseSessionStatus(body)
	if err != nil {
		return err
	}
	switch status {
	case StatusCreated:
		r.s.sessionID.Store(int32(id))
		r.s.logUp(id)
		r.s.setState(PhaseSessionUp, fmt.Sprintf("session %d", id))
		return nil
	case StatusUpdated, StatusHost:
		return nil
	case StatusDestroyed:
		return fmt.Errorf("%w: session destroyed by the router", ErrDisconnected)
	case StatusInvalid:
		return fmt.Errorf("%w: session configuration invalid", ErrRefused)
	case StatusRefused:
		return fmt.Errorf("%w (is the destination already in use by another client?)", ErrRefused)
	}
	return fmt.Errorf("%w: unknown session status %d", ErrMalformed, status)
}

// leaseSetRequest answers a RequestLeaseSet or RequestVariableLeaseSet
// (parsed by parse) with a signed LeaseSet, queued as a control frame,
// and marks the session published on the first.
func (r *frameReader) leaseSetRequest(parse func([]byte) (uint16, []Lease, error), body []byte) error {
	s := r.s
	id, leases, err := parse(body)
	if err != nil {
		return err
	}
	frame, err := s.leaseSetFrame(id, leases, r.legacy)
	if err != nil {
		return err
	}
	select {
	case s.ctrl <- frame:
	case <-r.writerDone:
		return ErrDisconnected
	}
	if !r.published.Swap(true) {
		form := "LeaseSet2"
		if r.legacy {
			form = "older LeaseSet"
		}
		s.cfg.Logger.Info("i2cp: LeaseSet published", "addr", s.addrText(), "form", form, "leases", len(leases))
		s.setState(PhasePublished, fmt.Sprintf("%d leases", len(leases)))
		s.readyMu.Lock()
		select {
		case <-s.ready:
		default:
			close(s.ready)
		}
		s.readyMu.Unlock()
	}
	return nil
}

// hostReply hands a HostReply to the lookup waiting for it, if any.
func (r *frameReader) hostReply(body []byte) {
	s := r.s
	_, reqID, code, d, err := ParseHostReply(body)
	if err != nil {
		s.malformed.Add(1)
		return
	}
	res := lookupResult{d: d}
	if code != 0 {
		res.err = fmt.Errorf("%w (code %d)", ErrLookupFailed, code)
	}
	s.lookupMu.Lock()
	if ch, ok := s.lookups[reqID]; ok {
		ch <- res
		delete(s.lookups, reqID)
	}
	s.lookupMu.Unlock()
}

// leaseSetFrame builds the LeaseSet the router asked for.
func (s *Session) leaseSetFrame(sessionID uint16, leases []Lease, legacy bool) ([]byte, error) {
	signer := s.keys.Signer()
	if legacy {
		ls := &LeaseSet{Destination: s.keys.Destination, EncryptionKey: s.lsKeys.ElGamalPublic, Leases: leases}
		if err := ls.Sign(signer); err != nil {
			return nil, err
		}
		return AppendCreateLeaseSet(nil, sessionID, ls, s.lsKeys.ElGamalPrivate), nil
	}
	now := time.Now()
	expires := now.Add(10 * time.Minute) // no leases: a short-lived, empty LeaseSet
	for i, l := range leases {
		if i == 0 || l.End.After(expires) {
			expires = l.End
		}
	}
	ls := &LeaseSet2{
		Destination: s.keys.Destination,
		Published:   now,
		Expires:     expires,
		Offline:     s.keys.Offline,
		Keys:        []EncryptionKey{{Type: i2p.CryptoX25519, Key: s.lsKeys.X25519Public}},
		Leases:      leases,
	}
	if ls.Expires.Sub(ls.Published) > 0xffff*time.Second {
		ls.Expires = ls.Published.Add(0xffff * time.Second)
	}
	if o := ls.Offline; o != nil && ls.Expires.Unix() > int64(o.Expires) {
		ls.Expires = time.Unix(int64(o.Expires), 0)
	}
	if ls.Expires.Before(ls.Published) {
		ls.Expires = ls.Published
	}
	if err := ls.Sign(signer); err != nil {
		return nil, err
	}
	return AppendCreateLeaseSet2(nil, sessionID, ls, []PrivateKey{{Type: i2p.CryptoX25519, Key: s.lsKeys.X25519Private}})
}
