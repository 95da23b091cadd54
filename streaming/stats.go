package streaming

import "sync/atomic"

// Stats are a Manager's counters since it was made, and its open streams.
type Stats struct {
	Open               int    // streams open now
	Accepted           uint64 // inbound streams handed to the backlog
	Dialed             uint64 // outbound streams opened
	PacketsIn          uint64
	PacketsOut         uint64
	SendErrors         uint64 // packets the Link refused
	Malformed          uint64 // packets Parse refused
	Unknown            uint64 // packets for no open stream
	UnsignedSYNs       uint64 // SYNs dropped for want of FROM or a signature
	Verified           uint64 // signatures checked (SYNs, CLOSEs, RESETs, pings), good or bad
	BadSignatures      uint64 // SYNs, CLOSEs, RESETs and pings that did not verify
	WrongTarget        uint64 // SYNs whose target hash is not ours
	DuplicateSYNs      uint64 // retransmitted SYNs mapped to their stream
	EarlyDropped       uint64 // pre-SYN packets over their bound
	RefusedTotal       uint64 // SYNs over MaxStreams
	RefusedPeer        uint64 // SYNs over MaxStreamsPerPeer
	RefusedBacklog     uint64 // SYNs with the accept backlog full
	RefusedListener    uint64 // SYNs with no Listener open
	RefusedPeerMinute  uint64 // SYNs over MaxConnsPerMinute
	RefusedPeerHour    uint64 // SYNs over MaxConnsPerHour
	RefusedTotalMinute uint64 // SYNs over MaxTotalConnsPerMinute
	RatePeers          int    // remote Destinations the rate limits remember now
	RateEvictions      uint64 // of them, forgotten within their hour to bound the table
	Replies429         uint64 // SYNs over a limit answered with an HTTP 429 (the rest: RESET)
	RecvOverflows      uint64 // data packets dropped with the receive buffer full
	Retransmits        uint64
	ResetsSent         uint64
	ResetsReceived     uint64
	Timeouts           uint64 // streams failed by the resend limit or inactivity
	Pings              uint64 // pings answered
}

type counters struct {
	accepted, dialed, packetsIn, packetsOut, sendErrors, malformed, unknown    atomic.Uint64
	unsigned, badSignature, wrongTarget, duplicateSYNs, earlyDropped           atomic.Uint64
	refusedTotal, refusedPeer, refusedBacklog, refusedNoListener, recvOverflow atomic.Uint64
	retransmits, resetsSent, resetsReceived, timeouts, pings                   atomic.Uint64
	refusedPeerMinute, refusedPeerHour, refusedTotalMinute, replies429         atomic.Uint64
	verified                                                                   atomic.Uint64
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
		Malformed: c.malformed.Load(), Unknown: c.unknown.Load(), UnsignedSYNs: c.unsigned.Load(),
		Verified: c.verified.Load(), BadSignatures: c.badSignature.Load(), WrongTarget: c.wrongTarget.Load(),
		DuplicateSYNs: c.duplicateSYNs.Load(), EarlyDropped: c.earlyDropped.Load(),
		RefusedTotal: c.refusedTotal.Load(), RefusedPeer: c.refusedPeer.Load(),
		RefusedBacklog: c.refusedBacklog.Load(), RefusedListener: c.refusedNoListener.Load(),
		RecvOverflows: c.recvOverflow.Load(), Retransmits: c.retransmits.Load(),
		ResetsSent: c.resetsSent.Load(), ResetsReceived: c.resetsReceived.Load(),
		Timeouts: c.timeouts.Load(), Pings: c.pings.Load(),
		RefusedPeerMinute: c.refusedPeerMinute.Load(), RefusedPeerHour: c.refusedPeerHour.Load(),
		RefusedTotalMinute: c.refusedTotalMinute.Load(), RatePeers: ratePeers, RateEvictions: evicted,
		Replies429: c.replies429.Load(),
	}
}
