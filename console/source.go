package console

import "time"

// Source is what the console shows and changes. The plugin implements it
// over the tracker, the store and the I2CP session.
type Source interface {
	Status() Status
	// Swarms returns one page of the busiest swarms (by peers) and the
	// total number of swarms.
	Swarms(offset, limit int) (rows []SwarmRow, total int)
	Settings() []Setting
	// SetSetting changes one setting; restart reports whether it only
	// takes effect after a restart.
	SetSetting(key, value string) (restart bool, err error)
}

// Status is one snapshot of everything the page shows.
type Status struct {
	Version string
	Started time.Time
	// FullScrape is on when /scrape without info_hash lists every swarm.
	FullScrape bool

	Router   RouterStatus
	Identity Identity
	Totals   Totals
	// Counters are monotonic totals (announces by protocol, ...) from
	// which the console derives rates and its charts.
	Counters Counters
	// Problems are drops and errors by reason, grouped by where they
	// were counted ("udp", "http", "i2cp", "tracker").
	Problems []Problem
	Store    StoreStatus
	// Woodpeckers are the senders refused most by the rate limits,
	// most first.
	Woodpeckers []Woodpecker
	Bids        BidStatus
	// Streams are the I2P streams HTTP announces arrive on.
	Streams StreamStatus
}

// StreamStatus counts the I2P streams to the tracker's own address.
type StreamStatus struct {
	Open     int    // open now
	Accepted uint64 // since the start
	Refused  uint64 // SYNs turned away by a limit (by reason under Problems)
}

// Woodpecker is a sender the rate limits refused often (opentracker's
// name for a client that hammers the tracker).
type Woodpecker struct {
	Peer string // its .b32.i2p address
	// Refused counts refusals by kind of request: connect, announce,
	// scrape, http.
	Refused map[string]uint64
	Total   uint64
	Last    time.Time
}

// BidStatus is the bid index (docs/bids.md): whether bids are on, how
// many it holds and the swarms with the highest.
type BidStatus struct {
	On   bool
	Held uint64
	Top  []BidRow
}

// BidRow is one swarm of the top-bids table.
type BidRow struct {
	InfoHash   string // hex
	Best       uint64
	Bidders    uint64
	AgeSeconds uint64 // of the best bid
}

// RouterStatus is the state of the link to the router.
type RouterStatus struct {
	Address string // where the I2CP connection goes
	State   string // e.g. "connecting", "session up", "published, not yet reached", "reachable", "disconnected"
	Detail  string // the last error or reason, if any
	Since   time.Time
	Healthy bool // the tracker is reachable: a probe from another session on its router arrived
	// Simulator marks a router simulator on loopback (the demo): the
	// tracker's address exists there only, not on I2P.
	Simulator bool
}

// Identity is the tracker's address and its announce URLs.
type Identity struct {
	B32    string
	Base64 string
	// HTTPAnnounce is the HTTP announce URL on the tracker's own address
	// (HTTP over I2P streaming); "" hides it.
	HTTPAnnounce string
	// TunnelAnnounce is the HTTP announce URL on the operator's HTTP
	// server tunnel, "" while none is configured.
	TunnelAnnounce string
	UDPAnnounce    string
	// HTTPListener is where the host serves the HTTP tracker (what the
	// tunnel points at), when known.
	HTTPListener string
}

// Totals are the swarm model's current sizes.
type Totals struct {
	Swarms, Peers, Seeds, Leechers uint64
	Completed                      uint64
}

// Counters are monotonic request counters.
type Counters struct {
	UDPConnects, UDPAnnounces, UDPScrapes uint64
	HTTPAnnounces, HTTPScrapes            uint64
	// FullScrapes counts the full scrapes answered, FullScrapeBytes the
	// bytes of their bodies.
	FullScrapes, FullScrapeBytes uint64
}

// Announces is the sum of announces over both transports.
func (c Counters) Announces() uint64 { return c.UDPAnnounces + c.HTTPAnnounces }

// Problem is one counted drop or error.
type Problem struct {
	Where, Reason string
	Count         uint64
}

// StoreStatus is the persistence layer's health.
type StoreStatus struct {
	Path            string
	SizeBytes       int64
	LastFlush       time.Time
	Pending         int
	Dropped         uint64
	RestoreDuration time.Duration
	RestoredPeers   int
	JournalPaused   bool // too little free disk space: Err says how much
	Err             string
}

// SwarmRow is one line of the busiest-swarms table.
type SwarmRow struct {
	InfoHash                   string // hex
	Seeds, Leechers, Completed uint64
}

// Setting is one live setting and how to edit it.
type Setting struct {
	Key, Label, Help string
	Value            string
	Kind             string // "number", "bool" or "text"
	Min, Max         int64  // for numbers, when Max > Min
	NeedsRestart     bool
	// AwaitsRestart is set when Value (saved) differs from Running, the
	// value in force, until a restart applies it.
	AwaitsRestart bool
	Running       string
}
