// Sends: Send and its variants encode one SendMessage frame straight
// into the outbox (outbox.go) and decide whether to wake the writer.
//
// What a Send does depends on the session, not on the goroutine calling
// it: while the reader works through a batch of input (gather set), a
// frame queued by any goroutine, the reader's handlers or another, waits
// in the outbox for the reader's write at the batch's end, and the
// writer is woken only once gatherFrames frames wait; at any other time
// every Send wakes the writer.
//
// Invariants: the session id a frame carries is read under the outbox's
// lock; Send never blocks (a full queue drops and counts the message).
// Lock order: outbox.mu, then deliveryTracker.mu.

package i2cp

import (
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// Backlog is how many frames wait for the router and how many may wait
// before sends are refused (ErrQueueFull): a congestion signal a
// transport can read on every message, to drop work early while the
// queue fills (it takes no lock).
func (s *Session) Backlog() (queued, capacity int) {
	return int(s.out.queued.Load()), s.out.maxFrame
}

// Send wraps payload in the gzip envelope (protocol, ports) and queues it
// for to. It never blocks: with the queue full the message is dropped and
// counted.
func (s *Session) Send(to i2p.Destination, protocol uint8, fromPort, toPort uint16, payload []byte) error {
	return s.SendSerialized(to.Bytes(), protocol, fromPort, toPort, payload)
}

// SendSerialized is Send to a Destination given as its serialized bytes
// (a cache's copy, say), which it copies into the message.
func (s *Session) SendSerialized(to []byte, protocol uint8, fromPort, toPort uint16, payload []byte) error {
	_, err := s.send(to, protocol, fromPort, toPort, payload)
	return err
}

// SendTracked is SendSerialized that also returns the nonce the message
// carries, under which Config.OnMessageStatus reports what became of it.
// With i2cp.messageReliability none the nonce is 0 and no report comes.
func (s *Session) SendTracked(to []byte, protocol uint8, fromPort, toPort uint16, payload []byte) (nonce uint32, err error) {
	return s.send(to, protocol, fromPort, toPort, payload)
}

func (s *Session) send(to []byte, protocol uint8, fromPort, toPort uint16, payload []byte) (uint32, error) {
	h := Header{Protocol: protocol, FromPort: fromPort, ToPort: toPort}
	if s.cfg.Compress && mayShrink(payload) {
		// The compressed envelope is made before the outbox is locked:
		// deflate takes microseconds, which other senders and the writer
		// must not wait for. Any other payload is stored, written once
		// straight into its frame.
		zbuf := envelopes.Get().(*[]byte)
		*zbuf = appendDeflated((*zbuf)[:0], h, payload)
		nonce, err := s.enqueue(to, h, payload, *zbuf)
		envelopes.Put(zbuf)
		return nonce, err
	}
	return s.enqueue(to, h, payload, nil)
}

// enqueue queues a SendMessage of payload in the envelope env, or, with
// env nil, in the stored-block envelope it writes itself.
func (s *Session) enqueue(to []byte, h Header, payload, env []byte) (uint32, error) {
	glen := GzipLen(len(payload))
	if env != nil {
		glen = len(env)
	}
	typ := byte(TypeSendMessage)
	extra := 0
	if s.cfg.NoLeaseSetBundle {
		typ, extra = TypeSendMessageExpires, 8
	}
	body := 2 + len(to) + 4 + glen + 4 + extra
	if body > MaxRouterFrame {
		s.tooLarge.Add(1)
		return 0, fmt.Errorf("%w: a %d-byte payload makes a %d-byte SendMessage (routers take %d)", ErrPayloadTooLarge, len(payload), body, MaxRouterFrame)
	}
	b, ok := s.out.reserve(frameHeaderLen + body)
	if !ok {
		s.queueFull.Add(1)
		return 0, ErrQueueFull
	}
	// The session id is read under the outbox's lock: a disconnect
	// clears the outbox after it clears the id, so no frame for an
	// earlier session stays queued.
	id := s.sessionID.Load()
	if id < 0 {
		s.out.cancel()
		s.notReady.Add(1)
		return 0, ErrNotReady
	}
	// Nonce 0 asks for no MessageStatus; with reliability requested
	// every message gets its own, followed until its final status.
	var nonce uint32
	if s.track != nil {
		var evicted bool
		if nonce, evicted = s.track.add(); evicted {
			s.statusLost.Add(1)
		}
	}
	b = AppendFrameHeader(b, typ, body)
	b = binary.BigEndian.AppendUint16(b, uint16(id))
	b = append(b, to...)
	b = binary.BigEndian.AppendUint32(b, uint32(glen))
	if env != nil {
		b = append(b, env...)
	} else {
		b = AppendGzip(b, h, payload)
	}
	b = binary.BigEndian.AppendUint32(b, nonce)
	if extra > 0 {
		b = binary.BigEndian.AppendUint16(b, FlagNoLeaseSet)
		ms := uint64(time.Now().Add(2 * time.Minute).UnixMilli())
		b = append(b, byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms))
	}
	// While the reader works through a batch (whoever calls), the frame
	// waits for the reader's write at the batch's end; the writer is
	// woken only every gatherFrames frames, so that writing overlaps
	// reading in long batches.
	if n := s.out.commit(b); !s.gather.Load() || n >= gatherFrames {
		s.out.signal()
	}
	return nonce, nil
}

// envelopes holds scratch buffers for compressed envelopes.
var envelopes = sync.Pool{New: func() any { return new([]byte) }}

// gatherFrames is how many replies the reader lets gather before the
// writer starts on them, so that reading and writing overlap.
const gatherFrames = 64
