package udptracker

import (
	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/panics"
	"github.com/go-i2p/go-opentracker/tracker"
	"github.com/go-i2p/go-opentracker/tracker/ratelimit"
)

// Connects are verified off the receive goroutine, by a few workers fed
// from two bounded queues: one for the cheap signatures honest clients
// use (Ed25519), one for the costly ones (DSA, ECDSA, offline blocks),
// which a flood of ECDSA-P521 connects (some 45 times an Ed25519's cost)
// fills without delaying the rest. Workers take cheap work first. What
// does not fit a queue is dropped and counted (DropVerifyBusy); the
// receive goroutine only reads the claimed sender (which the worker
// verifies without parsing it again) and copies the bytes.

// verifyJob is one Datagram2 waiting for its signature check.
type verifyJob struct {
	buf      *[]byte // the datagram, copied (the receive buffer is reused)
	fromPort uint16
	from     i2p.Destination // claimed, read by PeekDatagram2; proved by the check
	cost     int
}

// verifyCost prices a connect's verification in Ed25519 checks, roughly
// (the per-sender connect budget is charged this much), and says whether
// it goes to the costly queue.
func verifyCost(st i2p.SigType, offline bool) (cost int, costly bool) {
	if offline {
		return 8, true // two checks, the second of a type not known yet
	}
	switch st {
	case i2p.SigEd25519:
		return 1, false
	case i2p.SigDSASHA1, i2p.SigECDSASHA256P256:
		return 2, true
	case i2p.SigECDSASHA384P384:
		return 4, true
	default:
		return 8, true
	}
}

// queueVerify schedules the check of a Datagram2 connect, or drops it:
// for a malformed sender, a sender over its connect budget (charged only
// for connects it proved it sent, so nobody can spend another's), or a
// full queue.
func (s *Server) queueVerify(fromPort uint16, payload []byte) {
	from, offline, err := datagram.PeekDatagram2(payload)
	if err != nil {
		s.dropDatagram(DropMalformedDatagram, datagram.ProtocolDatagram2, fromPort, s.cfg.Port, len(payload), err)
		return
	}
	cost, costly := verifyCost(from.SigType(), offline)
	sender := from.Hash()
	now := s.cfg.Now().UnixNano()
	if !s.limits().Peek(ratelimit.Connect, (*ratelimit.Key)(&sender), now, cost) {
		s.limits().Refuse(ratelimit.Connect, (*ratelimit.Key)(&sender), now)
		s.stats.drop(DropConnectLimited)
		return
	}
	bp := s.jobBufs.Get().(*[]byte)
	*bp = append((*bp)[:0], payload...)
	job := verifyJob{buf: bp, fromPort: fromPort, from: from, cost: cost}
	q := s.cheap
	if costly {
		q = s.costly
	}
	s.verifying.Add(1)
	select {
	case q <- job:
	default:
		s.verifying.Add(-1)
		s.jobBufs.Put(bp)
		s.stats.drop(DropVerifyBusy)
	}
}

// verifyWorker checks queued connects, cheap ones first, until the
// transport's context ends.
func (s *Server) verifyWorker() {
	for {
		var job verifyJob
		select {
		case job = <-s.cheap:
		default:
			select {
			case job = <-s.cheap:
			case job = <-s.costly:
			case <-s.stop:
				return
			}
		}
		s.verifyOne(job)
	}
}

// verifyOne handles one queued connect. A panic in it (a bug, on bytes
// from anyone) is counted and logged (at most one a minute, with its
// stack), and the worker goes on.
func (s *Server) verifyOne(job verifyJob) {
	defer func() {
		if v := recover(); v != nil {
			if panics.IsFatal(v) || panics.Within(tracker.ImportPath) {
				panics.Raise(v) // the swarm model's state cannot be trusted
			}
			s.stats.drop(DropVerifyPanic)
			s.panics.Recovered(s.cfg.Logger, "UDP tracker, verifying a connect", v)
		}
		s.jobBufs.Put(job.buf)
		s.verifying.Add(-1)
	}()
	s.handleDatagram2(job.fromPort, *job.buf, job.from, job.cost)
}
