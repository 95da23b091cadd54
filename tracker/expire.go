package tracker

import (
	"context"
	"time"
)

// sweepShard removes from shard i every peer not seen within the expiry
// and returns how many it removed. Expired peers are not journaled: the
// store's TTL removes them from disk by itself.
func (t *Tracker) sweepShard(i int) int {
	now := t.now()
	sh := &t.shards[i]
	var freed []uint32
	sh.mu.Lock()
	cutoff := now - sh.base - t.expiry.Load() // entry times below it are stale
	// Near the limit, swarms that only remember downloads make room,
	// until the swarms are down to 7/8 of it.
	roomy := int64(t.cfg.MaxSwarms) / 8 * 7
	dropped := false
	for id := range sh.swarms {
		sw := &sh.swarms[id]
		if len(sw.entries) == 0 && sw.completed > 0 && t.swarms.Load() > roomy {
			sh.completed -= sw.completed
			sw.completed = 0
			t.stats.forgotten.Add(1)
			if t.persist != nil {
				t.persist.CompletedChanged(sw.info, 0)
			}
		}
		if sw.entries == nil {
			if sh.dropIfEmpty(uint32(id), t.infoHash) {
				t.swarms.Add(-1)
				dropped = true
			}
			continue // an unused record, or a swarm of downloads only
		}
		leechers, seeds := int(sw.leechers), sw.seeders()
		// From the end: removing j moves only entries already visited.
		for j := len(sw.entries) - 1; j >= 0; j-- {
			if int64(sw.entries[j].lastSeen()) < cutoff {
				freed = append(freed, sw.entries[j].peer())
				t.dropBid(i, sw, sw.entries[j].peer(), t.peers.hash(sw.entries[j].peer()), BidExpired)
				sw.remove(j)
			}
		}
		sh.account(sw, leechers, seeds, sw.completed)
		if len(sw.entries) == 0 {
			sw.entries = nil
		}
		if sh.dropIfEmpty(uint32(id), t.infoHash) {
			t.swarms.Add(-1)
			dropped = true
		}
	}
	if dropped {
		sh.tidy(t.infoHash)
	}
	if now-sh.base > maxSeen*3/4 {
		sh.rebase(now)
	}
	sh.mu.Unlock()
	for _, idx := range freed {
		t.peers.release(idx)
	}
	t.stats.expired.Add(uint64(len(freed)))
	return len(freed)
}

// Sweep expires stale peers in every shard now (for tests and shutdown).
func (t *Tracker) Sweep() int {
	n := 0
	for i := range t.shards {
		n += t.sweepShard(i)
	}
	return n
}

// SweepStep expires stale peers in the next shard in turn: 1/64 of the
// swarms, under that shard's lock only.
func (t *Tracker) SweepStep() int {
	return t.sweepShard(int(t.sweepAt.Add(1)-1) % swarmShards)
}

// Run expires peers incrementally until ctx ends: one shard per tick, so
// a full pass takes a minute and the world never stops.
func (t *Tracker) Run(ctx context.Context) {
	tick := time.NewTicker(time.Minute / swarmShards)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t.SweepStep()
		}
	}
}
