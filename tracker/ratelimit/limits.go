package ratelimit

import (
	"github.com/go-i2p/go-opentracker/internal/counters"
)

// Kind is a kind of request, each with its own limit.
type Kind uint8

// The kinds of request limited.
const (
	Connect  Kind = iota // UDP connects (Datagram2, signed)
	Announce             // UDP announces
	Scrape               // UDP scrapes
	HTTP                 // HTTP announces and scrapes
	NumKinds
)

var kindNames = [NumKinds]string{Connect: "connect", Announce: "announce", Scrape: "scrape", HTTP: "http"}

// Names returns the kinds' names, indexed by kind.
func (Kind) Names() []string { return kindNames[:] }

func (k Kind) String() string { return counters.Name(k) }

// Config sets a Limits up; zero fields take the defaults.
type Config struct {
	Limits [NumKinds]Limit
	// Size is the number of buckets of each kind; default 65,536 (1 MiB
	// a kind).
	Size int
	// Woodpeckers is how many of the most refused peers are kept;
	// default 64.
	Woodpeckers int
}

// DefaultLimits are limits an honest client stays well inside: it
// connects once per connection lifetime (20 minutes) and announces each
// torrent once per interval (27 minutes), so even a client in 2,000
// torrents announces some 75 times a minute; the bursts let a client
// that starts with all its torrents at once announce them together.
func DefaultLimits() [NumKinds]Limit {
	return [NumKinds]Limit{
		Connect:  {PerMinute: 12, Burst: 60},
		Announce: {PerMinute: 150, Burst: 2_000},
		Scrape:   {PerMinute: 60, Burst: 200},
		HTTP:     {PerMinute: 150, Burst: 2_000},
	}
}

// Limits holds one Buckets per Kind and the woodpeckers. A nil *Limits
// allows everything.
type Limits struct {
	buckets [NumKinds]*Buckets
	refused counters.Set[Kind]
	wood    woodpeckers
}

// New makes the limits of cfg.
func New(cfg Config) *Limits {
	if cfg.Size <= 0 {
		cfg.Size = 1 << 16
	}
	if cfg.Woodpeckers <= 0 {
		cfg.Woodpeckers = 64
	}
	l := &Limits{wood: woodpeckers{max: cfg.Woodpeckers}}
	for k := range l.buckets {
		l.buckets[k] = NewBuckets(cfg.Size, cfg.Limits[k])
	}
	return l
}

// Allow charges cost requests of kind k to peer at now (unix
// nanoseconds) and reports whether they are allowed; a refusal is
// counted and the peer noted among the woodpeckers.
func (l *Limits) Allow(k Kind, peer *Key, now int64, cost int) bool {
	if l == nil || l.buckets[k].Allow(peer, now, cost) {
		return true
	}
	l.Refuse(k, peer, now)
	return false
}

// Peek reports whether peer has cost requests of kind k left at now,
// without charging or counting anything.
func (l *Limits) Peek(k Kind, peer *Key, now int64, cost int) bool {
	return l == nil || l.buckets[k].Peek(peer, now, cost)
}

// Refuse counts a refusal of kind k decided by the caller (a Peek that
// failed) and notes the peer among the woodpeckers.
func (l *Limits) Refuse(k Kind, peer *Key, now int64) {
	if l == nil {
		return
	}
	l.refused.Add(k)
	l.wood.add(peer, k, now)
}

// Set changes the limit of kind k while serving.
func (l *Limits) Set(k Kind, lim Limit) {
	if l != nil {
		l.buckets[k].Set(lim)
	}
}

// Limit returns the limit of kind k in force.
func (l *Limits) Limit(k Kind) Limit {
	if l == nil {
		return Limit{}
	}
	return l.buckets[k].Limit()
}

// Woodpeckers returns up to n of the peers refused most, most first.
func (l *Limits) Woodpeckers(n int) []Woodpecker {
	if l == nil {
		return nil
	}
	return l.wood.top(n)
}

// Stats are the limits' counters.
type Stats struct {
	Refused map[string]uint64 // by kind
	Evicted map[string]uint64 // active buckets forgotten, by kind
}

// Stats copies the counters.
func (l *Limits) Stats() Stats {
	out := Stats{Evicted: map[string]uint64{}}
	if l == nil {
		return out
	}
	out.Refused = l.refused.Snapshot()
	for k, b := range l.buckets {
		out.Evicted[Kind(k).String()] = b.Evicted()
	}
	return out
}
