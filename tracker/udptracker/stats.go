package udptracker

import "sync/atomic"

// DropReason names why a request got no answer.
type DropReason int

// The reasons a request is dropped without a reply.
const (
	DropWrongPort DropReason = iota
	DropFromPortZero
	DropDatagram1
	DropWrongProtocol
	DropMalformedDatagram
	DropBadSignature
	DropZeroSender
	DropMalformed
	DropPendingFull
	DropLookupsBusy
	DropLookupFailed
	DropOverload
	numDropReasons
)

var dropNames = [numDropReasons]string{
	DropWrongPort:         "wrong_port",
	DropFromPortZero:      "from_port_zero",
	DropDatagram1:         "datagram1",
	DropWrongProtocol:     "wrong_protocol",
	DropMalformedDatagram: "malformed_datagram",
	DropBadSignature:      "bad_signature",
	DropZeroSender:        "zero_sender",
	DropMalformed:         "malformed_request",
	DropPendingFull:       "pending_replies_full",
	DropLookupsBusy:       "lookups_busy",
	DropLookupFailed:      "lookup_failed",
	DropOverload:          "overload",
}

func (r DropReason) String() string {
	if r >= 0 && r < numDropReasons {
		return dropNames[r]
	}
	return "unknown"
}

// ErrorReason names why a request was answered with an error.
type ErrorReason int

// The reasons a request is answered with an error response.
const (
	ErrorWrongDatagram ErrorReason = iota
	ErrorBadConnID
	ErrorUnknownAction
	ErrorMalformed
	ErrorRefused
	numErrorReasons
)

var errorNames = [numErrorReasons]string{
	ErrorWrongDatagram: "wrong_datagram_type",
	ErrorBadConnID:     "bad_connection_id",
	ErrorUnknownAction: "unknown_action",
	ErrorMalformed:     "malformed_request",
	ErrorRefused:       "refused",
}

func (r ErrorReason) String() string {
	if r >= 0 && r < numErrorReasons {
		return errorNames[r]
	}
	return "unknown"
}

// Stats counts what the transport did; safe for concurrent use.
type Stats struct {
	connects, announces, scrapes atomic.Uint64
	replies, sendFailures        atomic.Uint64
	lookups, lookupFailures      atomic.Uint64
	urlData, badOptions          atomic.Uint64
	drops                        [numDropReasons]atomic.Uint64
	errors                       [numErrorReasons]atomic.Uint64
}

func (s *Stats) drop(r DropReason)        { s.drops[r].Add(1) }
func (s *Stats) errorReply(r ErrorReason) { s.errors[r].Add(1) }

// Snapshot is a copy of the counters.
type Snapshot struct {
	Connects, Announces, Scrapes uint64
	Replies, SendFailures        uint64
	Lookups, LookupFailures      uint64
	// URLData counts announces that carried BEP 41 URL data; BadOptions
	// those whose options were cut short (served all the same).
	URLData, BadOptions uint64
	Drops               map[string]uint64
	Errors              map[string]uint64
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() Snapshot {
	out := Snapshot{
		Connects: s.connects.Load(), Announces: s.announces.Load(), Scrapes: s.scrapes.Load(),
		Replies: s.replies.Load(), SendFailures: s.sendFailures.Load(),
		Lookups: s.lookups.Load(), LookupFailures: s.lookupFailures.Load(),
		URLData: s.urlData.Load(), BadOptions: s.badOptions.Load(),
		Drops:  make(map[string]uint64, numDropReasons),
		Errors: make(map[string]uint64, numErrorReasons),
	}
	for i := range s.drops {
		out.Drops[DropReason(i).String()] = s.drops[i].Load()
	}
	for i := range s.errors {
		out.Errors[ErrorReason(i).String()] = s.errors[i].Load()
	}
	return out
}
