package tracker

import (
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/go-i2p/go-opentracker/i2p"
)

// peerTable interns peer hashes: every peer is stored once, as a 32-bit
// index, however many swarms it is in, and swarms hold the indices. The
// hashes live in fixed-size chunks that never move; the index from hash
// to peer is an idTable per shard (4 bytes a slot) over those chunks.
//
// Locking: a peer's index slot and reference count are guarded by the
// lock of its hash's shard. Its hash is written once, under that lock,
// before any swarm holds the index; a swarm reads the hashes of its own
// members under its own lock, which orders that read after the write.
// An index is reused only after every swarm has let it go.
type peerTable struct {
	seed   maphash.Seed
	shards [peerShards]peerShard
	chunks [maxChunks]atomic.Pointer[peerChunk]
	grow   sync.Mutex // serializes chunk allocation
	next   atomic.Uint32
	count  atomic.Int64
	freeMu sync.Mutex
	free   []uint32
}

const (
	peerShards = 64
	chunkBits  = 14
	chunkSize  = 1 << chunkBits
	maxChunks  = (maxPeers + chunkSize - 1) / chunkSize // 16M peers
	// noPeer marks "no index".
	noPeer = ^uint32(0)
	// maxRefs bounds the swarms one peer can be in.
	maxRefs = 1<<16 - 1
)

// peerChunk holds chunkSize peers: 34 bytes each.
type peerChunk struct {
	hash [chunkSize]i2p.Hash
	refs [chunkSize]uint16 // swarms the peer is in; under its shard lock
}

type peerShard struct {
	mu    sync.Mutex
	index idTable
	_     [64 - 8 - 32]byte // one cache line per shard
}

func newPeerTable() *peerTable { return &peerTable{seed: maphash.MakeSeed()} }

// hashOf is the keyed hash of a peer (its 32 bytes are chosen by the
// sender, so the index's hash must be secret).
func (t *peerTable) hashOf(h *i2p.Hash) uint64 { return maphash.Bytes(t.seed, h[:]) }

func (t *peerTable) shard(hv uint64) *peerShard { return &t.shards[(hv>>32)%peerShards] }

func (t *peerTable) chunk(i uint32) *peerChunk { return t.chunks[i>>chunkBits].Load() }

// hash returns the hash at index i; see the locking rule above.
func (t *peerTable) hash(i uint32) *i2p.Hash { return &t.chunk(i).hash[i&(chunkSize-1)] }

func (t *peerTable) refs(i uint32) *uint16 { return &t.chunk(i).refs[i&(chunkSize-1)] }

// lookup finds h in its shard, which the caller has locked.
func (t *peerTable) lookup(s *peerShard, hv uint64, h *i2p.Hash) (uint32, int, bool) {
	return s.index.find(hv, func(i uint32) bool { return t.hash(i).Equal(h) })
}

func (t *peerTable) rehash(i uint32) uint64 { return t.hashOf(t.hash(i)) }

// reserve sizes the index for about n peers, so a restore does not grow
// it step by step (each step rehashes every peer in the shard).
func (t *peerTable) reserve(n int) {
	per := n/peerShards + n/peerShards/16 + 1 // the shards fill unevenly
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		s.index.reserve(per, t.rehash)
		s.mu.Unlock()
	}
}

// find returns the index of h (hash hv), or noPeer.
func (t *peerTable) find(hv uint64, h *i2p.Hash) uint32 {
	s := t.shard(hv)
	s.mu.Lock()
	i, _, ok := t.lookup(s, hv, h)
	s.mu.Unlock()
	if !ok {
		return noPeer
	}
	return i
}

// acquire returns the index of h (hash hv), interning it if new, and
// takes one reference (one swarm membership) unless the peer is
// already in limit swarms. The refusal is nil when it does.
func (t *peerTable) acquire(hv uint64, h *i2p.Hash, limit int) (uint32, *ClientError[RefusedReason]) {
	s := t.shard(hv)
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, _, ok := t.lookup(s, hv, h); ok {
		r := t.refs(i)
		if int(*r) >= limit {
			return noPeer, ErrPeerInTooMany
		}
		*r++
		return i, nil
	}
	i, ok := t.alloc()
	if !ok {
		return noPeer, ErrPeerTableFull
	}
	c := t.chunk(i)
	c.hash[i&(chunkSize-1)] = *h
	c.refs[i&(chunkSize-1)] = 1
	s.index.insert(hv, i, t.rehash)
	t.count.Add(1)
	return i, nil
}

// release drops one reference to index i and frees the index when no
// swarm holds it any more. The caller held the reference.
func (t *peerTable) release(i uint32) {
	h := t.hash(i)
	hv := t.hashOf(h)
	s := t.shard(hv)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := t.refs(i)
	if *r--; *r != 0 {
		return
	}
	_, slot, ok := s.index.find(hv, func(j uint32) bool { return j == i })
	if ok {
		s.index.remove(slot, t.rehash)
	}
	t.count.Add(-1)
	t.freeMu.Lock()
	t.free = append(t.free, i)
	t.freeMu.Unlock()
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
	t.grow.Lock()
	defer t.grow.Unlock()
	i := t.next.Load()
	if i >= maxPeers {
		return noPeer, false
	}
	if c := i >> chunkBits; t.chunks[c].Load() == nil {
		t.chunks[c].Store(new(peerChunk))
	}
	t.next.Store(i + 1)
	return i, true
}

// len is the number of distinct peers.
func (t *peerTable) len() int { return int(t.count.Load()) }

// bytes estimates the table's memory.
func (t *peerTable) bytes() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += s.index.bytes()
		s.mu.Unlock()
	}
	chunks := (int(t.next.Load()) + chunkSize - 1) / chunkSize
	t.freeMu.Lock()
	n += 4 * cap(t.free)
	t.freeMu.Unlock()
	return n + chunks*chunkSize*(32+2)
}
