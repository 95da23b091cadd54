package tracker

// oaIndex is an open-addressing hash index (linear probing) of uint32
// values whose keys live elsewhere: the peer table's index maps hashes to
// peer indices, a large swarm's index maps peer indices to positions. A
// slot holds value+1 (0 is empty), 4 bytes, and the table stays between
// 3/8 and 3/4 full — a fraction of what a Go map entry costs.
type oaIndex struct {
	slots []uint32
	n     int
}

// lookup returns the slot holding a value eq accepts, or the empty slot
// where it would go.
func (x *oaIndex) lookup(h uint64, eq func(v uint32) bool) (slot int, found bool) {
	if len(x.slots) == 0 {
		return -1, false
	}
	mask := len(x.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return i, false
		}
		if eq(s - 1) {
			return i, true
		}
	}
}

// insert adds v (not present) whose key hashes to h; hashOf rehashes
// stored values when the table grows.
func (x *oaIndex) insert(h uint64, v uint32, hashOf func(v uint32) uint64) {
	if (x.n+1)*4 > len(x.slots)*3 {
		x.grow(hashOf)
	}
	mask := len(x.slots) - 1
	i := int(h) & mask
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = v + 1
	x.n++
}

// value returns the value in slot i.
func (x *oaIndex) value(i int) uint32 { return x.slots[i] - 1 }

// set replaces the value in slot i (same key).
func (x *oaIndex) set(i int, v uint32) { x.slots[i] = v + 1 }

// deleteAt empties slot i and shifts later entries of its probe run back,
// so lookups never stop early at the hole.
func (x *oaIndex) deleteAt(i int, hashOf func(v uint32) uint64) {
	mask := len(x.slots) - 1
	x.slots[i] = 0
	x.n--
	for j := (i + 1) & mask; x.slots[j] != 0; j = (j + 1) & mask {
		k := int(hashOf(x.slots[j]-1)) & mask
		// The entry at j may stay if its home k lies cyclically in (i, j].
		if i <= j {
			if i < k && k <= j {
				continue
			}
		} else if i < k || k <= j {
			continue
		}
		x.slots[i], x.slots[j] = x.slots[j], 0
		i = j
	}
	if len(x.slots) > 16 && x.n*8 < len(x.slots) {
		x.resize(len(x.slots)/2, hashOf)
	}
}

func (x *oaIndex) grow(hashOf func(v uint32) uint64) {
	size := max(8, len(x.slots)*2)
	x.resize(size, hashOf)
}

func (x *oaIndex) resize(size int, hashOf func(v uint32) uint64) {
	old := x.slots
	x.slots = make([]uint32, size)
	mask := size - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := int(hashOf(s-1)) & mask
		for x.slots[i] != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = s
	}
}
