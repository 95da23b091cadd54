// Message status: the MessageStatus codes, and the delivery tracker that
// follows messages sent with a nonce until the router's final status.
//
// Invariants: nonce 0 is never handed out (it asks for no status); the
// tracker's memory is a fixed ring. Lock order: deliveryTracker.mu is
// taken last, inside outbox.mu when a Send takes a nonce.

package i2cp

import (
	"strings"
	"sync"

	"github.com/go-i2p/go-opentracker/i2p"
)

// MessageStatus codes: what the router reports of a message sent with a
// non-zero nonce (SendMessage) while the session's
// i2cp.messageReliability is not "none". The router first reports
// MsgAccepted, then one success or failure code. Routers use few of the
// failure codes; any code that is neither MsgAvailable, MsgAccepted nor a
// success (see MessageStatusFailed) is a failure.
const (
	MsgAvailable             = 0 // an incoming message waits (not with fastReceive)
	MsgAccepted              = 1 // the router took the message for delivery
	MsgBestEffortSuccess     = 2
	MsgBestEffortFailure     = 3
	MsgGuaranteedSuccess     = 4
	MsgGuaranteedFailure     = 5
	MsgLocalSuccess          = 6 // delivered to another session of the same router
	MsgLocalFailure          = 7
	MsgRouterFailure         = 8
	MsgNetworkFailure        = 9
	MsgBadSession            = 10
	MsgBadMessage            = 11
	MsgBadOptions            = 12
	MsgOverflowFailure       = 13
	MsgMessageExpired        = 14
	MsgBadLocalLeaseSet      = 15
	MsgNoLocalTunnels        = 16
	MsgUnsupportedEncryption = 17
	MsgBadDestination        = 18
	MsgBadLeaseSet           = 19
	MsgExpiredLeaseSet       = 20
	MsgNoLeaseSet            = 21 // the far end's LeaseSet was not found
	MsgMetaLeaseSet          = 22
	MsgLoopbackDenied        = 23
)

// MessageStatusSucceeded reports whether status says the message was
// delivered (codes 2, 4 and 6).
func MessageStatusSucceeded(status uint8) bool {
	return status == MsgBestEffortSuccess || status == MsgGuaranteedSuccess || status == MsgLocalSuccess
}

// MessageStatusFailed reports whether status is a failure: any code but
// available, accepted and the successes.
func MessageStatusFailed(status uint8) bool {
	return status != MsgAvailable && status != MsgAccepted && !MessageStatusSucceeded(status)
}

// failureCodes is the size of Stats.FailedByStatus.
const failureCodes = len(Stats{}.FailedByStatus)

// WantsMessageStatus reports whether session options ask the router for
// MessageStatus reports: i2cp.messageReliability is anything but "none"
// (the Java router's default, when the option is absent, is BestEffort).
// The simulator applies the same rule.
func WantsMessageStatus(opts i2p.Mapping) bool {
	v, ok := opts.Get("i2cp.messageReliability")
	return !ok || !strings.EqualFold(v, "none")
}

// trackSlots is how many sent messages a Session follows at once while
// their final MessageStatus is due.
const trackSlots = 4096

// deliveryTracker hands out the nonces of sent messages and follows each
// until the router's final MessageStatus for it. Its state is a fixed
// ring: nonces are handed out in sequence and nonce n lives in slot
// n % trackSlots, so the message sent trackSlots sends after one still
// waiting takes its slot, and the older one is counted lost (its status,
// should it come, is then unmatched). No memory grows with the traffic.
type deliveryTracker struct {
	mu    sync.Mutex
	next  uint32
	slots [trackSlots]uint32 // nonce awaiting its final status; 0: free
}

// add hands out the next nonce (never 0, which asks for no status) and
// reports whether its slot held a message still waiting, now lost.
func (t *deliveryTracker) add() (nonce uint32, evicted bool) {
	t.mu.Lock()
	t.next++
	if t.next == 0 {
		t.next = 1
	}
	nonce = t.next
	slot := &t.slots[nonce%trackSlots]
	evicted = *slot != 0
	*slot = nonce
	t.mu.Unlock()
	return nonce, evicted
}

// settle matches a status for nonce to a waiting message; final ends
// the wait. It reports whether the nonce was waiting.
func (t *deliveryTracker) settle(nonce uint32, final bool) bool {
	if nonce == 0 {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	slot := &t.slots[nonce%trackSlots]
	if *slot != nonce {
		return false
	}
	if final {
		*slot = 0
	}
	return true
}

// reset forgets every waiting message (their link went down, and with it
// any status due) and returns how many there were.
func (t *deliveryTracker) reset() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for i, v := range t.slots {
		if v != 0 {
			n++
			t.slots[i] = 0
		}
	}
	return n
}

// messageStatus counts a MessageStatus, settles its message and tells
// Config.OnMessageStatus. It runs on the read loop.
func (s *Session) messageStatus(ms MessageStatus) {
	switch {
	case ms.Status == MsgAccepted:
		s.msgAccepted.Add(1)
	case MessageStatusSucceeded(ms.Status):
		s.msgSucceeded.Add(1)
	case MessageStatusFailed(ms.Status):
		s.failedBy[min(int(ms.Status), failureCodes-1)].Add(1)
	default:
		return // MsgAvailable: about incoming messages, which fastReceive delivers
	}
	if s.track == nil || !s.track.settle(ms.Nonce, ms.Status != MsgAccepted) {
		s.statusUnmatched.Add(1)
	}
	if f := s.cfg.OnMessageStatus; f != nil {
		f(ms.Nonce, ms.Status)
	}
}
