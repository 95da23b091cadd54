package udptracker

import (
	"sync/atomic"

	"github.com/go-i2p/go-opentracker/internal/counters"
)

// DropReason names why a request got no answer.
type DropReason uint8

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
	DropVerifyBusy
	DropConnectLimited
	DropUnprovedLookupsBusy
	DropVerifyPanic
	DropPanic // the handler panicked on it: recovered, counted, logged
	numDropReasons
)

var dropNames = [numDropReasons]string{
	DropWrongPort:           "wrong_port",
	DropFromPortZero:        "from_port_zero",
	DropDatagram1:           "datagram1",
	DropWrongProtocol:       "wrong_protocol",
	DropMalformedDatagram:   "malformed_datagram",
	DropBadSignature:        "bad_signature",
	DropZeroSender:          "zero_sender",
	DropMalformed:           "malformed_request",
	DropPendingFull:         "pending_replies_full",
	DropLookupsBusy:         "lookups_busy",
	DropLookupFailed:        "lookup_failed",
	DropOverload:            "overload",
	DropVerifyBusy:          "verify_queue_full",
	DropConnectLimited:      "connect_rate_limited",
	DropUnprovedLookupsBusy: "lookups_busy_unproved_sender",
	DropVerifyPanic:         "verify_panic",
	DropPanic:               "handler_panic",
}

// Names returns the reasons' names, indexed by reason.
func (DropReason) Names() []string { return dropNames[:] }

func (r DropReason) String() string { return counters.Name(r) }

// ErrorReason names why a request was answered with an error.
type ErrorReason uint8

// The reasons a request is answered with an error response.
const (
	ErrorWrongDatagram ErrorReason = iota
	ErrorBadConnID
	ErrorUnknownAction
	ErrorMalformed
	ErrorRefused
	ErrorConnectLimited
	ErrorAnnounceLimited
	ErrorScrapeLimited
	numErrorReasons
)

var errorNames = [numErrorReasons]string{
	ErrorWrongDatagram:   "wrong_datagram_type",
	ErrorBadConnID:       "bad_connection_id",
	ErrorUnknownAction:   "unknown_action",
	ErrorMalformed:       "malformed_request",
	ErrorRefused:         "refused",
	ErrorConnectLimited:  "connect_rate_limited",
	ErrorAnnounceLimited: "announce_rate_limited",
	ErrorScrapeLimited:   "scrape_rate_limited",
}

// Names returns the reasons' names, indexed by reason.
func (ErrorReason) Names() []string { return errorNames[:] }

func (r ErrorReason) String() string { return counters.Name(r) }

// Stats counts what the transport did; safe for concurrent use.
type Stats struct {
	connects, announces, scrapes atomic.Uint64
	replies, sendFailures        atomic.Uint64
	lookups, lookupFailures      atomic.Uint64
	urlData, badOptions          atomic.Uint64
	drops                        counters.Set[DropReason]
	errors                       counters.Set[ErrorReason]
}

func (s *Stats) drop(r DropReason)        { s.drops.Add(r) }
func (s *Stats) errorReply(r ErrorReason) { s.errors.Add(r) }

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
		Drops: s.drops.Snapshot(), Errors: s.errors.Snapshot(),
	}
	return out
}
