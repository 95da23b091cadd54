package streaming

import (
	"sync/atomic"

	"github.com/go-i2p/go-opentracker/internal/counters"
)

// Refusal names why a SYN opened no stream.
type Refusal uint8

// The reasons a SYN is refused.
const (
	RefusedMaxStreams        Refusal = iota // over MaxStreams
	RefusedMaxStreamsPerPeer                // over MaxStreamsPerPeer
	RefusedBacklogFull                      // the accept backlog is full
	RefusedNotListening                     // no Listener is open
	RefusedPeerMinute                       // over MaxConnsPerMinute
	RefusedPeerHour                         // over MaxConnsPerHour
	RefusedTotalMinute                      // over MaxTotalConnsPerMinute
	numRefusals
)

var refusalNames = [numRefusals]string{
	RefusedMaxStreams:        "max_streams",
	RefusedMaxStreamsPerPeer: "max_streams_per_peer",
	RefusedBacklogFull:       "backlog_full",
	RefusedNotListening:      "not_listening",
	RefusedPeerMinute:        "peer_per_minute",
	RefusedPeerHour:          "peer_per_hour",
	RefusedTotalMinute:       "total_per_minute",
}

// Names returns the refusals' names, indexed by Refusal.
func (Refusal) Names() []string { return refusalNames[:] }

func (r Refusal) String() string { return counters.Name(r) }

// Drop names why a received packet was dropped.
type Drop uint8

// The reasons a received packet is dropped.
const (
	DropMalformed         Drop = iota // Parse refused it
	DropUnsignedSYN                   // a SYN without FROM or a signature
	DropBadSignature                  // a SYN, CLOSE, RESET or ping that did not verify
	DropWrongTarget                   // a SYN whose target hash is not ours
	DropUnknownStream                 // for no open stream
	DropEarly                         // a pre-SYN packet over its bound
	DropReceiveBufferFull             // data with the receive buffer full
	numDrops
)

var dropNames = [numDrops]string{
	DropMalformed:         "malformed",
	DropUnsignedSYN:       "unsigned_syn",
	DropBadSignature:      "bad_signature",
	DropWrongTarget:       "wrong_target",
	DropUnknownStream:     "unknown_stream",
	DropEarly:             "early_dropped",
	DropReceiveBufferFull: "receive_buffer_full",
}

// Names returns the drops' names, indexed by Drop.
func (Drop) Names() []string { return dropNames[:] }

func (d Drop) String() string { return counters.Name(d) }

// Stats are a Manager's counters since it was made, and its open streams.
type Stats struct {
	Open           int    // streams open now
	Accepted       uint64 // inbound streams handed to the backlog
	Dialed         uint64 // outbound streams opened
	PacketsIn      uint64
	PacketsOut     uint64
	SendErrors     uint64            // packets the Link refused
	Dropped        map[string]uint64 // received packets dropped, by Drop name
	Refused        map[string]uint64 // SYNs that opened no stream, by Refusal name
	Verified       uint64            // signatures checked (SYNs, CLOSEs, RESETs, pings), good or bad
	DuplicateSYNs  uint64            // retransmitted SYNs mapped to their stream
	RatePeers      int               // remote Destinations the rate limits remember now
	RateEvictions  uint64            // of them, forgotten within their hour to bound the table
	Replies429     uint64            // SYNs over a limit answered with an HTTP 429 (the rest: RESET)
	Retransmits    uint64
	ResetsSent     uint64
	ResetsReceived uint64
	Timeouts       uint64 // streams failed by the resend limit or inactivity
	Pings          uint64 // pings answered
}

// tally is a Manager's counters.
type tally struct {
	accepted, dialed, packetsIn, packetsOut, sendErrors atomic.Uint64
	verified, duplicateSYNs, replies429, pings          atomic.Uint64
	retransmits, resetsSent, resetsReceived, timeouts   atomic.Uint64
	drops                                               counters.Set[Drop]
	refusals                                            counters.Set[Refusal]
}

// Stats returns the counters.
func (m *Manager) Stats() Stats {
	m.mu.Lock()
	open, ratePeers, evicted := len(m.streams), len(m.rates.peers), m.rates.evicted
	m.mu.Unlock()
	c := &m.c
	return Stats{
		Open: open, Accepted: c.accepted.Load(), Dialed: c.dialed.Load(),
		PacketsIn: c.packetsIn.Load(), PacketsOut: c.packetsOut.Load(), SendErrors: c.sendErrors.Load(),
		Dropped: c.drops.Snapshot(), Refused: c.refusals.Snapshot(),
		Verified: c.verified.Load(), DuplicateSYNs: c.duplicateSYNs.Load(),
		RatePeers: ratePeers, RateEvictions: evicted, Replies429: c.replies429.Load(),
		Retransmits: c.retransmits.Load(), ResetsSent: c.resetsSent.Load(), ResetsReceived: c.resetsReceived.Load(),
		Timeouts: c.timeouts.Load(), Pings: c.pings.Load(),
	}
}
