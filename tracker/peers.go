package tracker

import (
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/go-i2p/go-opentracker/i2p"
)

// peerTable interns peer hashes: every peer is stored once, as a 32-bit
// index, however many swarms it is in. Swarms hold indices; the hashes
// live in fixed-size chunks that never move, so a reply can read a
// peer's hash without taking the table's locks.
type peerTable struct {
	seed   maphash.Seed
	shards [peerShards]peerShard
	chunks [maxChunks]atomic.Pointer[hashChunk]
	grow   sync.Mutex // serializes chunk allocation
	next   atomic.Uint32
	count  atomic.Int64
	freeMu sync.Mutex
	free   []uint32
	refs   [maxChunks]atomic.Pointer[refChunk]
}

const (
	peerShards = 64
	chunkBits  = 16
	chunkSize  = 1 << chunkBits
	maxChunks  = 1 << 10 // 64M peers
	// noPeer marks "no index".
	noPeer = ^uint32(0)
)

type hashChunk [chunkSize]i2p.Hash
type refChunk [chunkSize]atomic.Uint32

type peerShard struct {
	mu  sync.Mutex
	idx oaIndex // hash → peer index; keys are read back from the chunks
}

// keyOf hashes a peer hash for the index with a per-process seed: peer
// hashes are SHA-256 outputs, but restored or synthetic ones need not be
// uniform, and a seeded hash keeps probing short whatever they are.
func (t *peerTable) keyOf(h *i2p.Hash) uint64 { return maphash.Bytes(t.seed, h[:]) }

func (t *peerTable) hashOf(i uint32) uint64 {
	h := t.hash(i)
	return t.keyOf(&h)
}

// findLocked looks h (whose key is key) up in its shard, locked by the caller.
func (t *peerTable) findLocked(s *peerShard, key uint64, h *i2p.Hash) (slot int, idx uint32, found bool) {
	slot, found = s.idx.lookup(key, func(i uint32) bool { return t.hash(i) == *h })
	if !found {
		return slot, noPeer, false
	}
	return slot, s.idx.value(slot), true
}

// shard picks a shard by the top bits of the seeded key.
func (t *peerTable) shard(key uint64) *peerShard { return &t.shards[key>>58%peerShards] }

// find returns the index of h, or noPeer.
func (t *peerTable) find(h *i2p.Hash) uint32 {
	key := t.keyOf(h)
	s := t.shard(key)
	s.mu.Lock()
	_, i, _ := t.findLocked(s, key, h)
	s.mu.Unlock()
	return i
}

// acquire returns the index of h, interning it if new, and takes one
// reference (one swarm membership). ok is false when the table is full.
func (t *peerTable) acquire(h *i2p.Hash) (uint32, bool) {
	key := t.keyOf(h)
	s := t.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, i, found := t.findLocked(s, key, h); found {
		t.refSlot(i).Add(1)
		return i, true
	}
	i, ok := t.alloc()
	if !ok {
		return noPeer, false
	}
	t.chunks[i>>chunkBits].Load()[i&(chunkSize-1)] = *h
	t.refSlot(i).Store(1)
	s.idx.insert(key, i, t.hashOf)
	t.count.Add(1)
	return i, true
}

// release drops one reference to index i (of hash h) and frees the
// index when no swarm holds it any more.
func (t *peerTable) release(i uint32) {
	h := t.hash(i)
	key := t.keyOf(&h)
	s := t.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.refSlot(i).Add(^uint32(0)) != 0 {
		return
	}
	if slot, _, found := t.findLocked(s, key, &h); found {
		s.idx.deleteAt(slot, t.hashOf)
	}
	t.count.Add(-1)
	t.freeMu.Lock()
	t.free = append(t.free, i)
	t.freeMu.Unlock()
}

// hash returns the hash at index i. Safe without locks: callers hold an
// index they obtained under a lock that ordered the hash's write.
func (t *peerTable) hash(i uint32) i2p.Hash {
	return t.chunks[i>>chunkBits].Load()[i&(chunkSize-1)]
}

func (t *peerTable) refSlot(i uint32) *atomic.Uint32 {
	return &t.refs[i>>chunkBits].Load()[i&(chunkSize-1)]
}

// alloc hands out a free index, growing the chunks when needed.
func (t *peerTable) alloc() (uint32, bool) {
	t.freeMu.Lock()
	if n := len(t.free); n > 0 {
		i := t.free[n-1]
		t.free = t.free[:n-1]
		t.freeMu.Unlock()
		return i, true
	}
	t.freeMu.Unlock()
	i := t.next.Add(1) - 1
	c := i >> chunkBits
	if c >= maxChunks {
		return noPeer, false
	}
	if t.chunks[c].Load() == nil {
		t.grow.Lock()
		if t.chunks[c].Load() == nil {
			t.refs[c].Store(new(refChunk))
			t.chunks[c].Store(new(hashChunk))
		}
		t.grow.Unlock()
	}
	return i, true
}

// len is the number of distinct peers.
func (t *peerTable) len() int { return int(t.count.Load()) }
