package tracker

import (
	"bytes"
	"sync/atomic"

	"github.com/go-i2p/go-opentracker/internal/counters"
)

// RefusedReason names why an announce was refused.
type RefusedReason uint8

// The reasons the swarm model refuses an announce.
const (
	RefusedZeroPeer RefusedReason = iota
	RefusedTooManySwarms
	RefusedSwarmFull
	RefusedPeerInTooMany
	RefusedPeerTableFull
	RefusedCreatingFast
	RefusedTorrentDenied
	RefusedPeerDenied
	numRefusedReasons
)

var refusedNames = [numRefusedReasons]string{
	RefusedZeroPeer:      "zero_peer",
	RefusedTooManySwarms: "too_many_swarms",
	RefusedSwarmFull:     "swarm_full",
	RefusedPeerInTooMany: "peer_in_too_many_swarms",
	RefusedPeerTableFull: "peer_table_full",
	RefusedCreatingFast:  "creating_swarms_too_fast",
	RefusedTorrentDenied: "torrent_not_allowed",
	RefusedPeerDenied:    "destination_denied",
}

// Names returns the reasons' names, indexed by reason.
func (RefusedReason) Names() []string { return refusedNames[:] }

func (r RefusedReason) String() string { return counters.Name(r) }

// Stats are the swarm model's counters; lock-free.
type Stats struct {
	announces, scrapes, expired atomic.Uint64
	forgotten, evicted          atomic.Uint64
	refused                     counters.Set[RefusedReason]
}

func (s *Stats) refuse(r RefusedReason) { s.refused.Add(r) }

// Snapshot is a copy of the counters.
type Snapshot struct {
	Announces, Scrapes, Expired uint64
	// Forgotten counts peerless swarms dropped, with their download
	// counts, to make room near MaxSwarms.
	Forgotten uint64
	// Evicted counts single-peer swarms evicted to make room for a new
	// torrent in a full table.
	Evicted uint64
	Refused map[string]uint64
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() Snapshot {
	out := Snapshot{Announces: s.announces.Load(), Scrapes: s.scrapes.Load(), Expired: s.expired.Load(),
		Forgotten: s.forgotten.Load(), Evicted: s.evicted.Load(), Refused: s.refused.Snapshot()}
	return out
}

// SwarmInfo is one line of the busiest-swarms list.
type SwarmInfo struct {
	InfoHash                    InfoHash
	Seeders, Leechers, Complete uint64
}

// busier orders swarms by peers, then downloads, then info hash.
func busier(a, b *SwarmInfo) bool {
	if pa, pb := a.Seeders+a.Leechers, b.Seeders+b.Leechers; pa != pb {
		return pa > pb
	}
	if a.Complete != b.Complete {
		return a.Complete > b.Complete
	}
	return bytes.Compare(a.InfoHash[:], b.InfoHash[:]) < 0
}

// Busiest returns swarms offset..offset+limit ordered by peers (most
// first), and the number of swarms. It keeps only the offset+limit
// busiest while it visits the shards (a heap), so a console page costs
// no more than a pass over the swarms.
func (t *Tracker) Busiest(offset, limit int) ([]SwarmInfo, int) {
	offset, limit = max(offset, 0), max(limit, 0)
	keep := offset + limit
	top := best[SwarmInfo]{n: keep, better: busier}
	total := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		sh.each(func(sw *swarm) {
			total++
			top.offer(SwarmInfo{sw.info, uint64(sw.seeders()), uint64(sw.leechers), sw.completed})
		})
		sh.mu.Unlock()
	}
	rows := top.sorted()
	if offset >= len(rows) {
		return nil, total
	}
	return rows[offset:], total
}
