package tracker

import "math/rand/v2"

// entry is one peer in one swarm: 8 bytes. seen is seconds since the
// tracker's epoch; the top bits of flags mark a seed and a counted
// download.
type entry struct {
	peer uint32
	seen uint32
}

const (
	seenMask     = 1<<30 - 1
	flagSeed     = 1 << 31
	flagComplete = 1 << 30
)

func (e entry) seed() bool       { return e.seen&flagSeed != 0 }
func (e entry) completed() bool  { return e.seen&flagComplete != 0 }
func (e entry) lastSeen() uint32 { return e.seen & seenMask }

// swarm is one torrent's peers, leechers first: entries[:leechers] are
// leechers and entries[leechers:] seeds, so a seed's sample of leechers
// and a leecher's sample of everyone are both contiguous ranges.
type swarm struct {
	entries   []entry
	leechers  int
	completed uint64
	// pos maps peer index → position for swarms larger than
	// linearScanMax (indexed is then true); smaller swarms are scanned.
	pos     oaIndex
	indexed bool
}

func mixPeer(peer uint32) uint64 {
	x := uint64(peer) * 0x9e3779b97f4a7c15
	return x ^ x>>29
}

const linearScanMax = 24

func (s *swarm) seeders() int { return len(s.entries) - s.leechers }

// posKey rehashes a stored position by the peer that sits there.
func (s *swarm) posKey(pos uint32) uint64 { return mixPeer(s.entries[pos].peer) }

// slotOf finds the index slot of peer.
func (s *swarm) slotOf(peer uint32) (int, bool) {
	return s.pos.lookup(mixPeer(peer), func(pos uint32) bool { return s.entries[pos].peer == peer })
}

// find returns the position of peer, or -1.
func (s *swarm) find(peer uint32) int {
	if s.indexed {
		if slot, ok := s.slotOf(peer); ok {
			return int(s.pos.value(slot))
		}
		return -1
	}
	for i, e := range s.entries {
		if e.peer == peer {
			return i
		}
	}
	return -1
}

func (s *swarm) swap(i, j int) {
	if i == j {
		return
	}
	if s.indexed {
		si, _ := s.slotOf(s.entries[i].peer)
		sj, _ := s.slotOf(s.entries[j].peer)
		s.pos.set(si, uint32(j))
		s.pos.set(sj, uint32(i))
	}
	s.entries[i], s.entries[j] = s.entries[j], s.entries[i]
}

func (s *swarm) buildIndex() {
	s.pos = oaIndex{}
	for j, e := range s.entries {
		s.pos.insert(mixPeer(e.peer), uint32(j), s.posKey)
	}
	s.indexed = true
}

// add appends a new peer in its partition and returns its position.
func (s *swarm) add(e entry) int {
	s.entries = append(s.entries, e)
	i := len(s.entries) - 1
	switch {
	case s.indexed:
		s.pos.insert(mixPeer(e.peer), uint32(i), s.posKey)
	case len(s.entries) > linearScanMax:
		s.buildIndex()
	}
	if !e.seed() {
		// Move it to the end of the leecher partition.
		s.swap(i, s.leechers)
		i = s.leechers
		s.leechers++
	}
	return i
}

// remove deletes the entry at position i.
func (s *swarm) remove(i int) {
	if !s.entries[i].seed() {
		// Close the gap in the leecher partition with its last leecher,
		// then treat the hole as the boundary slot.
		s.swap(i, s.leechers-1)
		i = s.leechers - 1
		s.leechers--
	}
	last := len(s.entries) - 1
	s.swap(i, last)
	if s.indexed {
		slot, _ := s.slotOf(s.entries[last].peer)
		s.pos.deleteAt(slot, s.posKey)
	}
	s.entries = s.entries[:last]
	if s.indexed && len(s.entries) <= linearScanMax/2 {
		s.pos, s.indexed = oaIndex{}, false
	}
	if cap(s.entries) > 64 && len(s.entries) < cap(s.entries)/4 {
		s.entries = append(make([]entry, 0, len(s.entries)*2), s.entries...)
	}
}

// setSeed moves the entry at i to the other partition when its seed
// status changes and returns its new position.
func (s *swarm) setSeed(i int, seed bool) int {
	e := s.entries[i]
	if e.seed() == seed {
		return i
	}
	if seed {
		// Leecher → seed: swap with the last leecher, shrink the partition.
		s.swap(i, s.leechers-1)
		i = s.leechers - 1
		s.leechers--
		s.entries[i].seen |= flagSeed
	} else {
		s.swap(i, s.leechers)
		i = s.leechers
		s.leechers++
		s.entries[i].seen &^= flagSeed
	}
	return i
}

// sample writes up to len(out) distinct peer indices drawn uniformly from
// entries[0:n], skipping position self (-1 for none), and returns how
// many it wrote. Floyd's algorithm: O(len(out)²) comparisons at most, no
// allocation.
func (s *swarm) sample(rng *rand.Rand, n, self int, out []uint32) int {
	m := n
	if self >= 0 && self < n {
		m--
	}
	k := min(len(out), m)
	if k <= 0 {
		return 0
	}
	at := func(j int) uint32 {
		if self >= 0 && self < n && j >= self {
			j++
		}
		return s.entries[j].peer
	}
	if k == m {
		for j := range k {
			out[j] = at(j)
		}
		rng.Shuffle(k, func(a, b int) { out[a], out[b] = out[b], out[a] })
		return k
	}
	var picked [MaxPeersPerReply]int32
	count := 0
	for j := m - k; j < m; j++ {
		t := int32(rng.IntN(j + 1))
		for _, p := range picked[:count] {
			if p == t {
				t = int32(j)
				break
			}
		}
		picked[count] = t
		count++
	}
	for j := range count {
		out[j] = at(int(picked[j]))
	}
	return count
}
