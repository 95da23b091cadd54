// Counters: a Session counts with atomics only, and Stats copies them.

package i2cp

// Stats are a Session's counters.
type Stats struct {
	Received, Sent                     uint64
	DroppedUnclaimed, DroppedMalformed uint64
	DroppedQueueFull, DroppedNotReady  uint64
	Lookups, LookupFailures            uint64
	DroppedStale, DroppedTooLarge      uint64 // queued for an earlier session; over the router's frame limit
	Reconnects                         uint64
	RouterSilent                       uint64 // links dropped because the router stopped answering
	HandlerPanics                      uint64 // messages whose handler panicked (recovered, dropped)

	// MessageStatus reports (with i2cp.messageReliability other than
	// none): messages the router accepted, reported delivered (success
	// codes) and reported failed, the failures by status code (index 31
	// counts codes 31 and over).
	MessagesAccepted, MessagesSucceeded uint64
	MessageFailures                     uint64
	FailedByStatus                      [32]uint64
	// StatusUnmatched counts reports for no message awaiting one (late
	// ones for lost messages, duplicates, nonce 0); StatusLost, messages
	// whose final report never came: pushed out of the 4096 followed at
	// once by newer sends, or in flight when the link went down.
	StatusUnmatched, StatusLost uint64
}

// Stats returns a copy of the counters.
func (s *Session) Stats() Stats {
	st := Stats{
		Received: s.received.Load(), Sent: s.sent.Load(),
		DroppedUnclaimed: s.unclaimed.Load(), DroppedMalformed: s.malformed.Load(),
		DroppedQueueFull: s.queueFull.Load(), DroppedNotReady: s.notReady.Load(),
		Lookups: s.lookupsN.Load(), LookupFailures: s.lookupFails.Load(),
		DroppedStale: s.stale.Load(), DroppedTooLarge: s.tooLarge.Load(),
		Reconnects: s.reconnects.Load(), RouterSilent: s.silent.Load(), HandlerPanics: s.panics.Load(),
		MessagesAccepted: s.msgAccepted.Load(), MessagesSucceeded: s.msgSucceeded.Load(),
		StatusUnmatched: s.statusUnmatched.Load(), StatusLost: s.statusLost.Load(),
	}
	for i := range st.FailedByStatus {
		st.FailedByStatus[i] = s.failedBy[i].Load()
		st.MessageFailures += st.FailedByStatus[i]
	}
	return st
}
