package tracker

import (
	"context"
	"slices"

	"github.com/go-i2p/go-opentracker/i2p"
)

// BidChanged records a bid.
func (m *MemoryPersister) BidChanged(b BidRecord) {
	m.mu.Lock()
	m.bids[peerKey{b.Info, b.Peer}] = b
	m.mu.Unlock()
}

// BidRemoved forgets a bid.
func (m *MemoryPersister) BidRemoved(info InfoHash, peer i2p.Hash) {
	m.mu.Lock()
	delete(m.bids, peerKey{info, peer})
	m.mu.Unlock()
}

// RestoreBids replays the recorded bids without holding the lock.
func (m *MemoryPersister) RestoreBids(ctx context.Context, fn func(BidRecord)) error {
	m.mu.Lock()
	bids := slices.Collect(func(yield func(BidRecord) bool) {
		for _, b := range m.bids {
			if !yield(b) {
				return
			}
		}
	})
	m.mu.Unlock()
	for _, b := range bids {
		if err := ctx.Err(); err != nil {
			return err
		}
		fn(b)
	}
	return nil
}

// Bids returns how many bid records are held.
func (m *MemoryPersister) Bids() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.bids)
}
