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
// would only hold back a client that waits for its replies (measured:
// a gate at 100,000 with a 2 ms wait kept a client with 128 requests in
// flight below it, at half its rate).
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

func (s *Session) readLoop(br *bufio.Reader, l *link, published *atomic.Bool, rx *atomic.Uint64, writerDone <-chan struct{}) error {
	buf := make([]byte, 0, 64<<10)
	var scratch []byte
	var m Message
	// While it handles frames, the replies they cause gather in the
	// outbox (Send does not wake the writer); before the reader waits
	// for more input it writes them itself, in one write.
	defer s.gather.Store(false)
	batch := 0 // frames read since the reader last waited
	var trickle rateGate
	for {
		if br.Buffered() == 0 {
			s.gather.Store(false) // from here a Send wakes the writer
			handOff, err := s.writeOut(l, true)
			if err != nil {
				return err
			}
			if handOff {
				s.out.signal()
			}
			if s.cfg.Coalesce > 0 && trickle.slow(batch) && batch < coalesceBelow {
				time.Sleep(s.cfg.Coalesce)
			}
			batch = 0
		}
		batch++
		typ, body, err := ReadFrame(br, buf)
		if err != nil {
			return err
		}
		if batch == 1 {
			s.gather.Store(true) // until the reader next waits
		}
		rx.Add(1)
		switch typ {
		case TypeMessagePayload:
			_, _, env, err := ParseMessagePayload(body)
			if err != nil {
				s.malformed.Add(1)
				continue
			}
			h, data, err := ParseGzip(env, &scratch)
			if err != nil {
				s.malformed.Add(1)
				continue
			}
			s.received.Add(1)
			m = Message{Protocol: h.Protocol, FromPort: h.FromPort, ToPort: h.ToPort, Payload: data}
			s.dispatch(&m)
		case TypeSessionStatus:
			id, status, err := ParseSessionStatus(body)
			if err != nil {
				return err
			}
			switch status {
			case StatusCreated:
				s.sessionID.Store(int32(id))
				s.setState(PhaseSessionUp, fmt.Sprintf("session %d", id))
			case StatusUpdated, StatusHost:
			case StatusDestroyed:
				return fmt.Errorf("%w: session destroyed by the router", ErrDisconnected)
			case StatusInvalid:
				return fmt.Errorf("%w: session configuration invalid", ErrRefused)
			case StatusRefused:
				return fmt.Errorf("%w (is the destination already in use by another client?)", ErrRefused)
			default:
				return fmt.Errorf("%w: unknown session status %d", ErrMalformed, status)
			}
		case TypeRequestVariableLeaseSet, TypeRequestLeaseSet:
			parse := ParseRequestVariableLeaseSet
			if typ == TypeRequestLeaseSet {
				parse = ParseRequestLeaseSet
			}
			id, leases, err := parse(body)
			if err != nil {
				return err
			}
			frame, err := s.leaseSetFrame(id, leases)
			if err != nil {
				return err
			}
			select {
			case s.ctrl <- frame:
			case <-writerDone:
				return ErrDisconnected
			}
			if !published.Swap(true) {
				s.setState(PhasePublished, fmt.Sprintf("%d leases", len(leases)))
				s.readyMu.Lock()
				select {
				case <-s.ready:
				default:
					close(s.ready)
				}
				s.readyMu.Unlock()
			}
		case TypeHostReply:
			_, reqID, code, d, err := ParseHostReply(body)
			if err != nil {
				s.malformed.Add(1)
				continue
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
		case TypeMessageStatus:
			ms, err := ParseMessageStatus(body)
			if err != nil {
				s.malformed.Add(1)
				continue
			}
			s.messageStatus(ms)
		case TypeSetDate:
			// keepalive answer
		case TypeDisconnect:
			reason, _ := ParseDisconnect(body)
			return fmt.Errorf("%w: router says %q", ErrDisconnected, reason)
		default:
			s.cfg.Logger.Debug("i2cp: ignoring message", "type", typ)
		}
	}
}

// leaseSetFrame builds the LeaseSet the router asked for.
func (s *Session) leaseSetFrame(sessionID uint16, leases []Lease) ([]byte, error) {
	signer := s.keys.Signer()
	if s.cfg.LegacyLeaseSet {
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
