package tracker

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// DestinationCache maps peer hashes to their full Destinations, which
// replies to Datagram3 senders and non-compact HTTP replies need. It is
// bounded and sharded; each shard evicts by CLOCK (second chance): a
// lookup only sets a bit, under a read lock, so lookups from several
// goroutines do not serialize.
type DestinationCache struct {
	persist  Persister
	now      func() time.Time
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
	index map[i2p.Hash]int32
	slots []destSlot
	hand  int
}

type destSlot struct {
	d         i2p.Destination
	journaled int64 // unix seconds; 0: not by us
	ref       atomic.Bool
}

func newDestinationCache(size int, p Persister, now func() time.Time) *DestinationCache {
	c := &DestinationCache{persist: p, now: now}
	per := max(1, (size+destShards-1)/destShards)
	c.capacity = per * destShards
	for i := range c.shards {
		c.shards[i] = destShard{max: per, index: make(map[i2p.Hash]int32)}
	}
	return c
}

func (c *DestinationCache) shard(h *i2p.Hash) *destShard { return &c.shards[h[31]%destShards] }

// Get returns the Destination whose hash is h, if cached.
func (c *DestinationCache) Get(h i2p.Hash) (i2p.Destination, bool) {
	s := c.shard(&h)
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.index[h]
	if !ok {
		return i2p.Destination{}, false
	}
	sl := &s.slots[i]
	if !sl.ref.Load() {
		sl.ref.Store(true)
	}
	return sl.d, true
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
	s := c.shard(&h)
	s.mu.Lock()
	if _, ok := s.index[h]; !ok && len(s.slots) < s.max {
		s.index[h] = int32(len(s.slots))
		s.slots = append(s.slots, destSlot{d: d})
		c.size.Add(1)
	}
	s.mu.Unlock()
	return int(c.size.Load()) >= c.capacity
}

// put stores d and reports whether it is worth journaling.
func (c *DestinationCache) put(d i2p.Destination, now int64) bool {
	h := d.Hash()
	s := c.shard(&h)
	// Most Puts are of Destinations already cached: try a read lock.
	s.mu.RLock()
	i, ok := s.index[h]
	if ok {
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
	if i, ok := s.index[h]; ok {
		sl := &s.slots[i]
		sl.ref.Store(true)
		if now-sl.journaled < rejournal {
			return false
		}
		sl.journaled = now
		return now != 0
	}
	if len(s.slots) < s.max {
		s.index[h] = int32(len(s.slots))
		s.slots = append(s.slots, destSlot{d: d, journaled: now})
		c.size.Add(1)
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
		delete(s.index, sl.d.Hash())
		sl.d, sl.journaled = d, now
		s.index[h] = int32(s.hand)
		s.hand = (s.hand + 1) % len(s.slots)
		return now != 0
	}
}

// Len is the number of cached Destinations.
func (c *DestinationCache) Len() int { return int(c.size.Load()) }
