// The link and the writer: how frames reach the connection.
//
// Two goroutines write one connection: the writer (writeLoop), which
// sends control frames, keepalives and data frames when woken, and the
// reader, which at the end of each batch of input writes the replies the
// batch queued (writeOut inline). link.mu orders them.
//
// Invariants: only whole frames are written, in queue order; the reader
// never blocks on the link (TryLock, and a write deadline of
// inlineBudget), and what its write left unsent (link.rest) goes out
// before anything else, from the writer. Every data frame in the outbox
// is for the session now up (see session.go).
//
// Lock order: link.mu, then outbox.mu (writeOut takes the outbox inside
// the link's lock).

package i2cp

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// link serializes the writes of one connection: the writer goroutine's
// and the reader's own, which sends the replies of a batch it has read
// itself, saving a wake-up of the writer per batch. The reader's writes
// are bounded in time (inlineBudget): a router that stops reading must
// not stop us reading, so what does not go out in time is left, as the
// unwritten tail of its frame, for the writer goroutine to send first.
type link struct {
	mu   sync.Mutex
	conn net.Conn
	bw   *bufio.Writer // control frames; flushed before mu is released
	rest []byte        // unwritten tail of a reader's write
	// closing is set when the session ends: write deadlines then stay.
	closing atomic.Bool
}

// inlineBudget bounds one write by the reader.
const inlineBudget = 2 * time.Millisecond

func newLink(conn net.Conn, bw *bufio.Writer) *link { return &link{conn: conn, bw: bw} }

// cutOff makes writes stuck on a router that reads nothing fail within
// d, for good (the session is ending).
func (l *link) cutOff(d time.Duration) {
	l.closing.Store(true)
	_ = l.conn.SetWriteDeadline(time.Now().Add(d))
}

// flushRest sends what a reader's write left over; l.mu is held.
func (l *link) flushRest() error {
	if len(l.rest) == 0 {
		return nil
	}
	if _, err := l.conn.Write(l.rest); err != nil {
		return err
	}
	l.rest = l.rest[:0]
	return nil
}

// write sends frame f (whole frames only) and flushes.
func (l *link) write(f []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.flushRest(); err != nil {
		return err
	}
	if _, err := l.bw.Write(f); err != nil {
		return err
	}
	return l.bw.Flush()
}

// writeOut sends every frame queued in the outbox in one write. The
// reader calls it with inline set: then it never waits, for the link's
// lock or for more than inlineBudget on the connection, and reports
// that the writer must finish (handOff).
func (s *Session) writeOut(l *link, inline bool) (handOff bool, err error) {
	if !inline {
		l.mu.Lock()
	} else if !l.mu.TryLock() {
		return true, nil // the writer is writing (maybe stuck): it takes these next
	}
	defer l.mu.Unlock()
	if len(l.rest) > 0 {
		if inline {
			return true, nil // the writer is on it
		}
		if err := l.flushRest(); err != nil {
			return false, err
		}
	}
	// Every frame in the outbox is for the session now up: Send reads
	// the session id under the outbox's lock, and a disconnect empties
	// the outbox after it clears the id.
	b, frames := s.out.take()
	defer s.out.done(b)
	if frames == 0 {
		return false, nil
	}
	s.sent.Add(uint64(frames))
	if !inline || l.closing.Load() {
		_, err := l.conn.Write(b) // bw is empty: nothing to keep in order with
		return false, err
	}
	_ = l.conn.SetWriteDeadline(time.Now().Add(inlineBudget))
	n, err := l.conn.Write(b)
	_ = l.conn.SetWriteDeadline(time.Time{})
	if l.closing.Load() { // cutOff ran meanwhile: its deadline stays
		_ = l.conn.SetWriteDeadline(time.Now().Add(time.Second))
	}
	if errors.Is(err, os.ErrDeadlineExceeded) && !l.closing.Load() {
		l.rest = append(l.rest[:0], b[n:]...)
		return true, nil
	}
	return false, err
}

// writeLoop writes control frames, and data frames when told (the
// reader writes those of its own batches itself). Control frames queued
// for an earlier session are dropped. Every KeepAlive it checks the link: with
// nothing read since the last check it sends a GetDate, and if the one
// before went unanswered the router is gone; with nothing written it
// sends a GetDate as keepalive. When ctx ends it tells the router
// goodbye (DestroySession).
func (s *Session) writeLoop(ctx context.Context, stop <-chan struct{}, l *link, rx *atomic.Uint64) error {
	tick := time.NewTicker(s.cfg.KeepAlive)
	defer tick.Stop()
	var lastRx, lastSent uint64
	pinged, wroteCtrl := false, false
	for {
		select {
		case <-stop:
			return nil
		case <-ctx.Done():
			if id := s.sessionID.Load(); id >= 0 {
				l.cutOff(time.Second)
				_ = l.write(AppendDestroySession(nil, uint16(id)))
			}
			return ctx.Err()
		case f := <-s.ctrl:
			if s.current(f) {
				if err := l.write(f); err != nil {
					return err
				}
				wroteCtrl = true
			}
		case <-s.out.kick:
			if _, err := s.writeOut(l, false); err != nil {
				return err
			}
		case <-tick.C:
			n := rx.Load()
			heard := n != lastRx
			lastRx = n
			if !heard && pinged {
				s.silent.Add(1)
				return fmt.Errorf("%w: router silent for %s", ErrDisconnected, 2*s.cfg.KeepAlive)
			}
			sent := s.sent.Load()
			if !heard || (!wroteCtrl && sent == lastSent) {
				gd, _ := AppendGetDate(nil, GetDate{Version: ProtocolVersion})
				if err := l.write(gd); err != nil {
					return err
				}
			}
			pinged, wroteCtrl, lastSent = !heard, false, sent
		}
	}
}

// current reports whether a queued frame (every one carries its session
// id first in the body) belongs to the session now up; a frame encoded
// for an earlier session is counted and dropped.
func (s *Session) current(f []byte) bool {
	id := s.sessionID.Load()
	if id >= 0 && len(f) >= 7 && binary.BigEndian.Uint16(f[5:]) == uint16(id) {
		return true
	}
	s.stale.Add(1)
	return false
}
