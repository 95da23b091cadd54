package tracker

import (
	"slices"
	"sync/atomic"
)

// RefusedReason names why an announce was refused.
type RefusedReason int

// The reasons the swarm model refuses an announce.
const (
	RefusedZeroPeer RefusedReason = iota
	RefusedTooManySwarms
	RefusedSwarmFull
	RefusedPeerInTooMany
	RefusedPeerTableFull
	numRefusedReasons
)

var refusedNames = [numRefusedReasons]string{
	RefusedZeroPeer:      "zero_peer",
	RefusedTooManySwarms: "too_many_swarms",
	RefusedSwarmFull:     "swarm_full",
	RefusedPeerInTooMany: "peer_in_too_many_swarms",
	RefusedPeerTableFull: "peer_table_full",
}

func (r RefusedReason) String() string {
	if r >= 0 && r < numRefusedReasons {
		return refusedNames[r]
	}
	return "unknown"
}

// Stats are the swarm model's counters; lock-free.
type Stats struct {
	announces, scrapes, expired atomic.Uint64
	swarms                      atomic.Int64
	refused                     [numRefusedReasons]atomic.Uint64
}

func (s *Stats) refuse(r RefusedReason) { s.refused[r].Add(1) }

// Snapshot is a copy of the counters.
type Snapshot struct {
	Announces, Scrapes, Expired uint64
	Refused                     map[string]uint64
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() Snapshot {
	out := Snapshot{Announces: s.announces.Load(), Scrapes: s.scrapes.Load(), Expired: s.expired.Load(), Refused: map[string]uint64{}}
	for i := range s.refused {
		out.Refused[RefusedReason(i).String()] = s.refused[i].Load()
	}
	return out
}

func sortBusiest(s []SwarmInfo) {
	slices.SortFunc(s, func(a, b SwarmInfo) int {
		pa, pb := a.Seeders+a.Leechers, b.Seeders+b.Leechers
		switch {
		case pa != pb:
			if pa > pb {
				return -1
			}
			return 1
		case a.Complete != b.Complete:
			if a.Complete > b.Complete {
				return -1
			}
			return 1
		}
		return slices.Compare(a.InfoHash[:], b.InfoHash[:])
	})
}
