// The outbox: the bounded queue of encoded SendMessage frames between
// the senders and whoever writes the link (writer.go).
//
// Invariants: frames are whole and in the order they were committed; at
// most maxFrame frames and maxBytes bytes wait. Lock order: outbox.mu is
// taken inside link.mu by the writer and before deliveryTracker.mu by a
// sender (reserve to commit).

package i2cp

import (
	"sync"
	"sync/atomic"
)

// outbox queues encoded SendMessage frames for the writer. Senders append
// frames to one buffer under a mutex; the writer takes the whole buffer
// at once and writes it with one call, so a burst of replies costs one
// system call instead of one per frame, and no frame is copied twice.
// Two buffers alternate: the writer writes one while senders fill the
// other.
type outbox struct {
	mu       sync.Mutex
	buf      []byte
	frames   int
	spare    []byte
	maxFrame int // frames queued at most
	maxBytes int // bytes queued at most
	// kick holds a token while frames wait for a writer that was told.
	kick chan struct{}
	// queued mirrors frames for readers that take no lock (Backlog).
	queued atomic.Int32
}

// frameHeaderLen is the length prefix and type byte of every frame.
const frameHeaderLen = 5

// outboxBytes bounds the bytes queued, whatever the frame count.
const outboxBytes = 16 << 20

func newOutbox(frames int) *outbox {
	return &outbox{maxFrame: frames, maxBytes: outboxBytes, kick: make(chan struct{}, 1)}
}

// reserve makes room for an n-byte frame and returns the buffer to
// append it to, with the lock held; ok is false (and the lock released)
// when the queue is full. The caller appends exactly the frame and
// calls commit.
func (o *outbox) reserve(n int) (b []byte, ok bool) {
	o.mu.Lock()
	if o.frames >= o.maxFrame || len(o.buf)+n > o.maxBytes {
		o.mu.Unlock()
		return nil, false
	}
	return o.buf, true
}

// commit stores the buffer the frame was appended to and releases the
// lock. It returns the number of frames now waiting.
func (o *outbox) commit(b []byte) int {
	o.buf = b
	o.frames++
	n := o.frames
	o.queued.Store(int32(n))
	o.mu.Unlock()
	return n
}

// cancel releases the lock reserve took, queueing nothing.
func (o *outbox) cancel() { o.mu.Unlock() }

// signal tells the writer that frames wait (it never blocks).
func (o *outbox) signal() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// take hands the writer every queued frame; it gives the buffer back
// with done once written.
func (o *outbox) take() (b []byte, frames int) {
	o.mu.Lock()
	b, frames = o.buf, o.frames
	o.buf, o.frames, o.spare = o.spare[:0], 0, nil
	o.queued.Store(0)
	o.mu.Unlock()
	return b, frames
}

// done returns a buffer that take handed out, for reuse. A buffer grown
// far beyond the usual burst is let go.
func (o *outbox) done(b []byte) {
	if cap(b) > 4<<20 {
		return
	}
	o.mu.Lock()
	if o.spare == nil {
		o.spare = b[:0]
	}
	o.mu.Unlock()
}

// reset drops every queued frame and returns how many there were.
func (o *outbox) reset() int {
	o.mu.Lock()
	n := o.frames
	o.buf, o.frames = o.buf[:0], 0
	o.queued.Store(0)
	o.mu.Unlock()
	select {
	case <-o.kick:
	default:
	}
	return n
}
