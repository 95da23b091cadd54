package tracker

// idTable is an open-addressing hash index of small integer ids: the
// peer table's index of hashes, each shard's index of swarms, and a
// large swarm's index of positions. A slot is 4 bytes: 0 when empty,
// else id+1 in the low idBits and a 6-bit tag of the key's hash above,
// so most probes that miss never touch the keys themselves. Linear
// probing, backward-shift deletion (no tombstones), any table length
// (home slots by multiply-shift), growth by a quarter at 7/8 load: the
// table stays 70–88 % full, 4.6–5.7 bytes an entry. Probes are cheap
// (tags, sequential 4-byte reads), so the long clusters of a full
// table cost little; deletion rehashes its cluster.
//
// The owner keeps the keys; it passes the key's 64-bit hash and, where
// entries must be compared or moved, a function of the id.
type idTable struct {
	slots []uint32
	n     int
}

const (
	idBits   = 26
	idMask   = 1<<idBits - 1
	maxID    = idMask - 1 // largest id a slot can hold
	minTable = 8
)

func slotOf(hv uint64, id uint32) uint32 { return uint32(hv>>58)<<idBits | (id + 1) }

func home(hv uint64, n int) int { return int(uint64(uint32(hv)) * uint64(n) >> 32) }

// find returns the id whose key matches (eq) among the entries with
// hash hv, and its slot.
func (t *idTable) find(hv uint64, eq func(id uint32) bool) (id uint32, slot int, ok bool) {
	n := len(t.slots)
	if n == 0 {
		return 0, -1, false
	}
	tag := uint32(hv>>58) << idBits
	for i := home(hv, n); ; {
		s := t.slots[i]
		if s == 0 {
			return 0, -1, false
		}
		if s&^idMask == tag && eq(s&idMask-1) {
			return s&idMask - 1, i, true
		}
		if i++; i == n {
			i = 0
		}
	}
}

// insert adds id under hash hv; hashOf gives the hash of any id already
// in the table (for growth).
func (t *idTable) insert(hv uint64, id uint32, hashOf func(id uint32) uint64) {
	if (t.n+1)*8 > len(t.slots)*7 {
		t.resize(max(minTable, len(t.slots)*5/4), hashOf)
	}
	t.place(slotOf(hv, id), hv)
	t.n++
}

func (t *idTable) place(s uint32, hv uint64) {
	n := len(t.slots)
	i := home(hv, n)
	for t.slots[i] != 0 {
		if i++; i == n {
			i = 0
		}
	}
	t.slots[i] = s
}

// set replaces the id in a slot that find returned (same key).
func (t *idTable) set(slot int, id uint32) {
	t.slots[slot] = t.slots[slot]&^idMask | (id + 1)
}

// remove empties a slot that find returned, shifting later entries of
// its cluster back so that every entry stays reachable from its home.
func (t *idTable) remove(slot int, hashOf func(id uint32) uint64) {
	n := len(t.slots)
	i := slot
	for j := i; ; {
		if j++; j == n {
			j = 0
		}
		s := t.slots[j]
		if s == 0 {
			break
		}
		// The entry at j stays unless the hole at i lies cyclically
		// between its home k and j.
		k := home(hashOf(s&idMask-1), n)
		if (i < j && i < k && k <= j) || (i > j && (i < k || k <= j)) {
			continue
		}
		t.slots[i] = s
		i = j
	}
	t.slots[i] = 0
	t.n--
	switch {
	case t.n == 0:
		t.slots = nil
	case len(t.slots) > 4*minTable && t.n*8 < len(t.slots):
		// Never below minTable: a table reserve made large can come
		// down to one entry, and a full table has no empty slot to end
		// a search.
		t.resize(max(minTable, t.n*3/2), hashOf)
	}
}

func (t *idTable) resize(size int, hashOf func(id uint32) uint64) {
	old := t.slots
	t.slots = make([]uint32, size)
	for _, s := range old {
		if s != 0 {
			t.place(s, hashOf(s&idMask-1))
		}
	}
}

// reserve grows the table to hold n ids without growing again.
func (t *idTable) reserve(n int, hashOf func(id uint32) uint64) {
	if size := n*8/7 + 1; size > len(t.slots) {
		t.resize(max(minTable, size), hashOf)
	}
}

// bytes is the table's memory.
func (t *idTable) bytes() int { return 4 * cap(t.slots) }
