package tracker

// bidTable maps a swarm member's peer index to its bid: open addressing
// with linear probing, key and bid in one 24-byte slot (a lookup reads
// one place), at most half full, removal
// by shifting the probe run back (no tombstones). A reply looks up
// every peer it returns, so this is the bid path's inner loop; peer
// indices are handed out by the tracker, not chosen by clients, so a
// fixed multiplicative hash spreads them.
//
// A one-hash Bloom filter of four bits a slot (in L1 for any swarm's
// bidders) answers most lookups of peers without a bid without
// touching the slots. Removals leave their bit set; the filter is
// rebuilt with the table, or once removals outnumber the bids.
type bidTable struct {
	slots  []bidSlot
	n      int
	filter []uint64
	stale  int // removals since the filter was built
}

// bidSlot is one bid; times are unix seconds (they fit 32 bits until
// 2106).
type bidSlot struct {
	key           uint32 // peer index + 1; 0 is an empty slot
	changed, seen uint32
	amount        uint64
}

func (s *bidSlot) bidder() bidder {
	return bidder{amount: s.amount, changed: int64(s.changed), seen: int64(s.seen)}
}

func (t *bidTable) len() int { return t.n }

func (t *bidTable) home(peer uint32) int {
	return int(peerHash(peer) >> 32 & uint64(len(t.slots)-1))
}

// find returns peer's slot, or the empty slot where it would go.
func (t *bidTable) find(peer uint32) (int, bool) {
	mask := len(t.slots) - 1
	for i := t.home(peer); ; i = (i + 1) & mask {
		switch t.slots[i].key {
		case peer + 1:
			return i, true
		case 0:
			return i, false
		}
	}
}

// filterBit is peer's bit in the filter: a word and a mask.
func (t *bidTable) filterBit(peer uint32) (int, uint64) {
	h := (uint64(peer) + 1) * 0xbf58476d1ce4e5b9 >> 32
	bit := int(h) & (64*len(t.filter) - 1)
	return bit / 64, 1 << (bit % 64)
}

func (t *bidTable) get(peer uint32) (bidder, bool) {
	if t.n == 0 {
		return bidder{}, false
	}
	if w, m := t.filterBit(peer); t.filter[w]&m == 0 {
		return bidder{}, false
	}
	i, ok := t.find(peer)
	return t.slots[i].bidder(), ok
}

func (t *bidTable) set(peer uint32, b bidder) {
	if 2*(t.n+1) > len(t.slots) {
		t.resize(max(8, 2*len(t.slots)))
	}
	i, ok := t.find(peer)
	if !ok {
		t.n++
		w, m := t.filterBit(peer)
		t.filter[w] |= m
	}
	t.slots[i] = bidSlot{key: peer + 1, changed: uint32(b.changed), seen: uint32(b.seen), amount: b.amount}
}

// setSeen records that peer, which has a bid, stated it at now.
func (t *bidTable) setSeen(peer uint32, now int64) {
	if i, ok := t.find(peer); ok {
		t.slots[i].seen = uint32(now)
	}
}

// del removes peer and reports whether it was there.
func (t *bidTable) del(peer uint32) bool {
	if t.n == 0 {
		return false
	}
	i, ok := t.find(peer)
	if !ok {
		return false
	}
	mask := len(t.slots) - 1
	// Move back each later entry of the run whose home is not between
	// the hole and it, so every entry stays reachable from its home.
	for j := (i + 1) & mask; t.slots[j].key != 0; j = (j + 1) & mask {
		h := t.home(t.slots[j].key - 1)
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = bidSlot{}
	t.n--
	t.stale++
	switch {
	case len(t.slots) > 8 && 8*t.n < len(t.slots):
		t.resize(len(t.slots) / 2)
	case t.stale > t.n+8:
		t.buildFilter()
	}
	return true
}

func (t *bidTable) resize(size int) {
	old := t.slots
	t.slots, t.n = make([]bidSlot, size), 0
	t.filter, t.stale = make([]uint64, max(1, size/16)), 0
	for i := range old {
		if old[i].key != 0 {
			t.set(old[i].key-1, old[i].bidder())
		}
	}
}

func (t *bidTable) buildFilter() {
	clear(t.filter)
	t.stale = 0
	for i := range t.slots {
		if k := t.slots[i].key; k != 0 {
			w, m := t.filterBit(k - 1)
			t.filter[w] |= m
		}
	}
}

// each calls fn for every bid.
func (t *bidTable) each(fn func(peer uint32, b bidder)) {
	for i := range t.slots {
		if t.slots[i].key != 0 {
			fn(t.slots[i].key-1, t.slots[i].bidder())
		}
	}
}

func (t *bidTable) bytes() int { return 24*cap(t.slots) + 8*cap(t.filter) }
