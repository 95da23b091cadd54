package tracker

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// DestinationCache maps peer hashes to their full Destinations, which
// replies to Datagram3 senders and non-compact HTTP replies need. It keeps
// each in its compact form (i2p.Destination.AppendCompact: 74 bytes for
// most instead of 391) and expands it into the caller's buffer. It is
// bounded and sharded; each shard evicts by CLOCK (second chance): a
// lookup only sets a bit, under a read lock, so lookups from several
// goroutines do not serialize. A shard finds its slots through an
// idTable (4 bytes an entry, keyed hash), not a Go map: the index of
// a full cache fits in the processor's cache and a lookup touches the
// slot it returns and little else.
type DestinationCache struct {
	persist  Persister
	now      func() time.Time
	seed     maphash.Seed
	capacity int          // shards × their bound
	size     atomic.Int64 // Destinations cached (entries are never removed, only replaced)
	shards   [destShards]destShard
}

const (
	destShards = 16
	// rejournal is how often a Destination still in use is journaled
	// again, so that a store with a TTL keeps it.
	rejournal = 24 * 60 * 60
)

type destShard struct {
	mu    sync.RWMutex
	max   int
	index idTable // keyed hash of a slot's Destination hash → slot
	slots []destSlot
	hand  int
}

// destSlot holds one Destination's compact form in the slot itself when
// it fits (Ed25519 with 0.9.57 padding: 74 bytes), beside its hash, so a
// lookup reads one place in memory.
type destSlot struct {
	hash      i2p.Hash
	journaled int64 // unix seconds; 0: not by us
	ref       atomic.Bool
	n         uint8 // bytes of inline in use; 0: the form is in long
	inline    [slotInline]byte
	long      []byte
}

const slotInline = 80

func (sl *destSlot) compact() []byte {
	if sl.n > 0 {
		return sl.inline[:sl.n]
	}
	return sl.long
}

func (sl *destSlot) set(d i2p.Destination, journaled int64) {
	sl.hash, sl.journaled = d.Hash(), journaled
	c := d.AppendCompact(sl.inline[:0])
	if len(c) <= slotInline {
		sl.n, sl.long = uint8(len(c)), nil
	} else {
		sl.n, sl.long = 0, c
	}
}

func newDestinationCache(size int, p Persister, now func() time.Time) *DestinationCache {
	c := &DestinationCache{persist: p, now: now, seed: maphash.MakeSeed()}
	per := max(1, (size+destShards-1)/destShards)
	c.capacity = per * destShards
	for i := range c.shards {
		c.shards[i] = destShard{max: per}
	}
	return c
}

// hashOf is the keyed hash of a peer hash (peers choose their hashes by
// choosing their keys, so the index's hash must be secret).
func (c *DestinationCache) hashOf(h *i2p.Hash) uint64 { return maphash.Bytes(c.seed, h[:]) }

func (c *DestinationCache) shard(hv uint64) *destShard { return &c.shards[(hv>>32)%destShards] }

// find returns the slot holding h in s (locked by the caller), or -1.
func (c *DestinationCache) find(s *destShard, hv uint64, h *i2p.Hash) int {
	id, _, ok := s.index.find(hv, func(id uint32) bool { return s.slots[id].hash.Equal(h) })
	if !ok {
		return -1
	}
	return int(id)
}

// rehash gives the index hash of the Destination in slot id of s.
func (c *DestinationCache) rehash(s *destShard) func(id uint32) uint64 {
	return func(id uint32) uint64 { return c.hashOf(&s.slots[id].hash) }
}

// AppendDestination appends the serialized Destination whose hash is h to
// dst, if cached.
func (c *DestinationCache) AppendDestination(dst []byte, h i2p.Hash) ([]byte, bool) {
	hv := c.hashOf(&h)
	s := c.shard(hv)
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := c.find(s, hv, &h)
	if i < 0 {
		return dst, false
	}
	sl := &s.slots[i]
	if !sl.ref.Load() {
		sl.ref.Store(true)
	}
	out, err := i2p.AppendExpanded(dst, sl.compact())
	return out, err == nil
}

// Put caches a verified Destination and journals it to the Persister
// when it is new (or was last journaled a day ago). It reports whether
// it journaled.
func (c *DestinationCache) Put(d i2p.Destination) bool {
	if d.IsZero() {
		return false
	}
	now := c.now().Unix()
	if !c.put(d, now) || c.persist == nil {
		return false
	}
	c.persist.DestinationSeen(d)
	return true
}

// restore caches d without journaling it (it came from the journal; it
// is journaled again the first time it is seen) if its shard has room:
// a restore never evicts. It reports whether the whole cache is full.
func (c *DestinationCache) restore(d i2p.Destination) (full bool) {
	h := d.Hash()
	hv := c.hashOf(&h)
	s := c.shard(hv)
	s.mu.Lock()
	if c.find(s, hv, &h) < 0 && len(s.slots) < s.max {
		c.add(s, hv, d, 0)
	}
	s.mu.Unlock()
	return int(c.size.Load()) >= c.capacity
}

// add puts d in a new slot of s (locked, with room).
func (c *DestinationCache) add(s *destShard, hv uint64, d i2p.Destination, journaled int64) {
	if s.slots == nil {
		s.slots = make([]destSlot, 0, s.max) // never moves
	}
	s.slots = s.slots[:len(s.slots)+1]
	s.slots[len(s.slots)-1].set(d, journaled)
	s.index.insert(hv, uint32(len(s.slots)-1), c.rehash(s))
	c.size.Add(1)
}

// put stores d and reports whether it is worth journaling.
func (c *DestinationCache) put(d i2p.Destination, now int64) bool {
	h := d.Hash()
	hv := c.hashOf(&h)
	s := c.shard(hv)
	// Most Puts are of Destinations already cached: try a read lock.
	s.mu.RLock()
	if i := c.find(s, hv, &h); i >= 0 {
		sl := &s.slots[i]
		fresh := now-sl.journaled < rejournal
		if !sl.ref.Load() {
			sl.ref.Store(true)
		}
		s.mu.RUnlock()
		if fresh {
			return false
		}
	} else {
		s.mu.RUnlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := c.find(s, hv, &h); i >= 0 {
		sl := &s.slots[i]
		sl.ref.Store(true)
		if now-sl.journaled < rejournal {
			return false
		}
		sl.journaled = now
		return now != 0
	}
	if len(s.slots) < s.max {
		c.add(s, hv, d, now)
		return now != 0
	}
	// Evict the first entry the hand finds unused since it last passed.
	for {
		sl := &s.slots[s.hand]
		if sl.ref.Load() {
			sl.ref.Store(false)
			s.hand = (s.hand + 1) % len(s.slots)
			continue
		}
		ohv := c.hashOf(&sl.hash)
		if _, slot, ok := s.index.find(ohv, func(id uint32) bool { return int(id) == s.hand }); ok {
			s.index.remove(slot, c.rehash(s))
		}
		sl.set(d, now) // readers copy a slot's bytes under the read lock
		s.index.insert(hv, uint32(s.hand), c.rehash(s))
		s.hand = (s.hand + 1) % len(s.slots)
		return now != 0
	}
}

// Len is the number of cached Destinations.
func (c *DestinationCache) Len() int { return int(c.size.Load()) }
