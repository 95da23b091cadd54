package tracker

import (
	"sync"
	"sync/atomic"

	"github.com/go-i2p/go-opentracker/i2p"
)

// peerTable interns peer hashes: every peer is stored once, as a 32-bit
// index, however many swarms it is in. Swarms hold indices; the hashes
// live in fixed-size chunks that never move, so a reply can read a
// peer's hash without taking the table's locks.
type peerTable struct {
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
	idx map[i2p.Hash]uint32
}

func (t *peerTable) shard(h *i2p.Hash) *peerShard {
	return &t.shards[h[0]%peerShards]
}

// find returns the index of h, or noPeer.
func (t *peerTable) find(h *i2p.Hash) uint32 {
	s := t.shard(h)
	s.mu.Lock()
	i, ok := s.idx[*h]
	s.mu.Unlock()
	if !ok {
		return noPeer
	}
	return i
}

// acquire returns the index of h, interning it if new, and takes one
// reference (one swarm membership). ok is false when the table is full.
func (t *peerTable) acquire(h *i2p.Hash) (uint32, bool) {
	s := t.shard(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idx == nil {
		s.idx = make(map[i2p.Hash]uint32)
	}
	if i, ok := s.idx[*h]; ok {
		t.refSlot(i).Add(1)
		return i, true
	}
	i, ok := t.alloc()
	if !ok {
		return noPeer, false
	}
	t.chunks[i>>chunkBits].Load()[i&(chunkSize-1)] = *h
	t.refSlot(i).Store(1)
	s.idx[*h] = i
	t.count.Add(1)
	return i, true
}

// release drops one reference to index i (of hash h) and frees the
// index when no swarm holds it any more.
func (t *peerTable) release(i uint32) {
	h := t.hash(i)
	s := t.shard(&h)
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.refSlot(i).Add(^uint32(0)) != 0 {
		return
	}
	delete(s.idx, h)
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
