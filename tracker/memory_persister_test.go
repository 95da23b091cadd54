package tracker

import (
	"context"
	"maps"
	"sync"

	"github.com/go-i2p/go-opentracker/i2p"
)

// MemoryPersister keeps the journal in memory, for tests: it restores
// exactly what it recorded.
type MemoryPersister struct {
	mu        sync.Mutex
	peers     map[peerKey]PeerRecord
	completed map[InfoHash]uint64
	dests     map[i2p.Hash]i2p.Destination
	bids      map[peerKey]BidRecord
}

type peerKey struct {
	info InfoHash
	peer i2p.Hash
}

// NewMemoryPersister returns an empty MemoryPersister.
func NewMemoryPersister() *MemoryPersister {
	return &MemoryPersister{peers: map[peerKey]PeerRecord{}, completed: map[InfoHash]uint64{}, dests: map[i2p.Hash]i2p.Destination{}, bids: map[peerKey]BidRecord{}}
}

// PeerUpdated records a peer.
func (m *MemoryPersister) PeerUpdated(p PeerRecord) {
	m.mu.Lock()
	m.peers[peerKey{p.Info, p.Peer}] = p
	m.mu.Unlock()
}

// PeerRemoved forgets a peer.
func (m *MemoryPersister) PeerRemoved(info InfoHash, peer i2p.Hash) {
	m.mu.Lock()
	delete(m.peers, peerKey{info, peer})
	m.mu.Unlock()
}

// CompletedChanged records a swarm's download count.
func (m *MemoryPersister) CompletedChanged(info InfoHash, total uint64) {
	m.mu.Lock()
	if total == 0 {
		delete(m.completed, info)
	} else {
		m.completed[info] = total
	}
	m.mu.Unlock()
}

// DestinationSeen records a Destination.
func (m *MemoryPersister) DestinationSeen(d i2p.Destination) {
	m.mu.Lock()
	m.dests[d.Hash()] = d
	m.mu.Unlock()
}

// Restore replays the recorded peers and download counts. It copies the
// records first and replays them without holding its lock.
func (m *MemoryPersister) Restore(ctx context.Context, r Restorer) error {
	m.mu.Lock()
	peers := make([]PeerRecord, 0, len(m.peers))
	for _, p := range m.peers {
		peers = append(peers, p)
	}
	completed := maps.Clone(m.completed)
	m.mu.Unlock()
	for info, n := range completed {
		r.RestoreCompleted(info, n)
	}
	r.ExpectPeers(len(peers))
	for _, p := range peers {
		if err := ctx.Err(); err != nil {
			return err
		}
		r.RestorePeer(p)
	}
	return nil
}

// RestoreDestinations passes the recorded Destinations to fn.
func (m *MemoryPersister) RestoreDestinations(ctx context.Context, fn func(i2p.Destination) bool) error {
	m.mu.Lock()
	dests := make([]i2p.Destination, 0, len(m.dests))
	for _, d := range m.dests {
		dests = append(dests, d)
	}
	m.mu.Unlock()
	for _, d := range dests {
		if ctx.Err() != nil || !fn(d) {
			return nil
		}
	}
	return nil
}

// Peers returns how many peer records are held.
func (m *MemoryPersister) Peers() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.peers)
}
