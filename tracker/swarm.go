package tracker

import "math/bits"

// entry is one peer in one swarm in 6 bytes (three 16-bit words, so a
// slice of them packs without padding): the peer's index (24 bits), when
// it last announced (22 bits: seconds since its shard's time base, which
// the sweep moves forward), and two flags: a seed, and a download
// already counted.
type entry [3]uint16

const (
	peerBits  = 24
	maxPeers  = 1<<peerBits - 1 // indices 0 … maxPeers-1
	seenBits  = 22
	maxSeen   = 1<<seenBits - 1
	bitSeed   = 1 << 15 // in word 2
	bitCount  = 1 << 14 // in word 2
	seenHigh  = 1<<14 - 1
	flagsMask = bitSeed | bitCount
)

func newEntry(peer, seen uint32, seed, completed bool) entry {
	e := entry{uint16(peer), uint16(peer >> 16)}
	e.setSeen(seen)
	e.setSeed(seed)
	if completed {
		e[2] |= bitCount
	}
	return e
}

func (e *entry) peer() uint32     { return uint32(e[0]) | uint32(e[1]&0xff)<<16 }
func (e *entry) lastSeen() uint32 { return uint32(e[1]>>8) | uint32(e[2]&seenHigh)<<8 }
func (e *entry) seed() bool       { return e[2]&bitSeed != 0 }
func (e *entry) completed() bool  { return e[2]&bitCount != 0 }
func (e *entry) setCompleted()    { e[2] |= bitCount }

func (e *entry) setSeen(s uint32) {
	e[1] = e[1]&0xff | uint16(s<<8)
	e[2] = e[2]&flagsMask | uint16(s>>8)&seenHigh
}

func (e *entry) setSeed(seed bool) {
	if seed {
		e[2] |= bitSeed
	} else {
		e[2] &^= bitSeed
	}
}

// swarm is one torrent, 64 bytes. Its peers are one slice, leechers
// first: entries[:leechers] are leechers and entries[leechers:] seeds,
// so a seed's sample of leechers and a leecher's sample of everyone are
// both contiguous ranges. Small swarms find a peer by scanning; swarms
// above indexFrom peers keep an index of positions.
type swarm struct {
	info      InfoHash
	leechers  uint32
	entries   []entry
	completed uint64
	pos       *idTable // peer index → position, for large swarms
}

// indexFrom is the size above which a swarm indexes its positions: a
// scan of up to 2 KiB costs about as much as a probe of the index.
const indexFrom = 256

func (s *swarm) seeders() int { return len(s.entries) - int(s.leechers) }

// peerHash spreads a peer index over 64 bits for the position index.
func peerHash(peer uint32) uint64 { return (uint64(peer) + 1) * 0x9e3779b97f4a7c15 }

func (s *swarm) posHash(pos uint32) uint64 { return peerHash(s.entries[pos].peer()) }

// find returns the position of peer, or -1.
func (s *swarm) find(peer uint32) int {
	if s.pos != nil {
		p, _, ok := s.pos.find(peerHash(peer), func(p uint32) bool { return s.entries[p].peer() == peer })
		if !ok {
			return -1
		}
		return int(p)
	}
	for i := range s.entries {
		if s.entries[i].peer() == peer {
			return i
		}
	}
	return -1
}

func (s *swarm) swap(i, j int) {
	if i == j {
		return
	}
	s.entries[i], s.entries[j] = s.entries[j], s.entries[i]
	if s.pos != nil {
		// Both slots hold stale positions now; mark one, then fix both.
		_, si, _ := s.pos.find(s.posHash(uint32(i)), func(p uint32) bool { return p == uint32(j) })
		_, sj, _ := s.pos.find(s.posHash(uint32(j)), func(p uint32) bool { return p == uint32(i) })
		s.pos.set(si, uint32(i))
		s.pos.set(sj, uint32(j))
	}
}

// add appends a new peer in its partition and returns its position.
func (s *swarm) add(e entry) int {
	if len(s.entries) == cap(s.entries) {
		s.grow()
	}
	s.entries = append(s.entries, e)
	i := len(s.entries) - 1
	switch {
	case s.pos != nil:
		s.pos.insert(s.posHash(uint32(i)), uint32(i), s.posHash)
	case len(s.entries) > indexFrom:
		s.index()
	}
	if !e.seed() {
		// Move it to the end of the leecher partition.
		s.swap(i, int(s.leechers))
		i = int(s.leechers)
		s.leechers++
	}
	return i
}

// grow makes room for one more entry: one allocator size class at a
// time while small (so a swarm wastes little), by an eighth when large.
func (s *swarm) grow() {
	n := len(s.entries)
	want := n + 1
	if n >= 4096 {
		want = n + n/8
	}
	// Growing from empty lets append round up to the size class.
	grown := append([]entry(nil), make([]entry, want)...)[:0]
	s.entries = append(grown, s.entries...)
}

func (s *swarm) index() {
	s.pos = &idTable{}
	s.pos.resize(len(s.entries)*2, s.posHash)
	for i := range s.entries {
		s.pos.insert(s.posHash(uint32(i)), uint32(i), s.posHash)
	}
}

// remove deletes the entry at position i.
func (s *swarm) remove(i int) {
	if !s.entries[i].seed() {
		// Close the gap in the leecher partition with its last leecher,
		// then treat the hole as the boundary slot.
		s.swap(i, int(s.leechers)-1)
		i = int(s.leechers) - 1
		s.leechers--
	}
	last := len(s.entries) - 1
	s.swap(i, last)
	if s.pos != nil {
		_, slot, _ := s.pos.find(s.posHash(uint32(last)), func(p uint32) bool { return p == uint32(last) })
		s.pos.remove(slot, s.posHash)
	}
	s.entries = s.entries[:last]
	if s.pos != nil && len(s.entries) < indexFrom/2 {
		s.pos = nil
	}
	if c := cap(s.entries); c > 16 && len(s.entries) < c/4 {
		s.entries = append([]entry(nil), s.entries...)
	}
}

// setSeed moves the entry at i to the other partition when its seed
// status changes and returns its new position.
func (s *swarm) setSeed(i int, seed bool) int {
	if s.entries[i].seed() == seed {
		return i
	}
	s.entries[i].setSeed(seed)
	if seed {
		// Leecher → seed: swap with the last leecher, shrink the partition.
		s.swap(i, int(s.leechers)-1)
		i = int(s.leechers) - 1
		s.leechers--
	} else {
		s.swap(i, int(s.leechers))
		i = int(s.leechers)
		s.leechers++
	}
	return i
}

// sample writes up to len(out) distinct peer indices drawn uniformly from
// entries[lo:hi], skipping position self (-1 for none), and returns how
// many it wrote: a uniformly random subset by Robert Floyd's algorithm,
// one random draw per peer, duplicates caught by a bitset on the stack
// (or a small hash set for ranges above 4096 peers).
func (s *swarm) sample(rng *wyrand, lo, hi, self int, out []uint32) int {
	m := hi - lo
	self -= lo
	skip := self >= 0 && self < m
	if skip {
		m--
	}
	k := min(len(out), m)
	if k <= 0 {
		return 0
	}
	at := func(j int) uint32 {
		if skip && j >= self {
			j++
		}
		return s.entries[lo+j].peer()
	}
	if k == m {
		for j := range k {
			out[j] = at(j)
		}
		for j := k - 1; j > 0; j-- { // shuffle
			r := rng.intN(j + 1)
			out[j], out[r] = out[r], out[j]
		}
		return k
	}
	if m <= 4096 {
		var bitset [4096 / 64]uint64
		for j := m - k; j < m; j++ {
			t := rng.intN(j + 1)
			if bitset[t/64]&(1<<(t%64)) != 0 {
				t = j
			}
			bitset[t/64] |= 1 << (t % 64)
			out[j-(m-k)] = at(t)
		}
		return k
	}
	// A set of picked positions (+1; 0 is empty), open addressing with
	// at least twice the slots of MaxPeersPerReply.
	var set [128]uint32
	has := func(p int) bool {
		for h := uint32(p) * 0x9e3779b9 >> 25; ; h = (h + 1) & 127 {
			switch set[h] {
			case 0:
				set[h] = uint32(p) + 1
				return false
			case uint32(p) + 1:
				return true
			}
		}
	}
	for j := m - k; j < m; j++ {
		t := rng.intN(j + 1)
		if has(t) {
			t = j
			has(t)
		}
		out[j-(m-k)] = at(t)
	}
	return k
}

// wyrand is a small, fast generator (Wang Yi's wyrand); each swarm shard
// has one, used under the shard's lock. Samples need to be unpredictable
// only in the statistical sense.
type wyrand uint64

func (r *wyrand) next() uint64 {
	*r += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(uint64(*r), uint64(*r^0xe7037ed1a0b428db))
	return hi ^ lo
}

// intN is a uniform integer in [0, n) by multiply-shift (the bias, below
// n/2⁶⁴, does not matter here).
func (r *wyrand) intN(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}
