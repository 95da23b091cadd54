package tracker

import (
	"context"
	"fmt"

	"github.com/go-i2p/go-opentracker/i2p"
)

// Restore replays the persisted swarms; call it before serving.
func (t *Tracker) Restore(ctx context.Context) error {
	if t.persist == nil {
		return nil
	}
	if err := t.persist.Restore(ctx, restorer{t}); err != nil {
		return fmt.Errorf("tracker: restore: %w", err)
	}
	if err := t.restoreBids(ctx); err != nil {
		return fmt.Errorf("tracker: restore bids: %w", err)
	}
	return nil
}

// RestoreDestinations warms the destination cache from the journal until
// the cache is full or the journal ends; it may run beside Restore, and
// before the tracker serves.
// It returns how many Destinations it read from the journal.
func (t *Tracker) RestoreDestinations(ctx context.Context) (int, error) {
	if t.persist == nil {
		return 0, nil
	}
	n := 0
	err := t.persist.RestoreDestinations(ctx, func(d i2p.Destination) bool {
		n++
		return !t.dests.restore(d)
	})
	if err != nil {
		return n, fmt.Errorf("tracker: restore destinations: %w", err)
	}
	return n, nil
}

// restorer adapts the tracker to the Restorer interface without
// journaling what it restores. Limits on swarms per peer and peers per
// swarm are not applied to state the tracker accepted before.
type restorer struct{ t *Tracker }

// restoreSwarm returns the swarm of info, creating it; the shard is locked.
func (t *Tracker) restoreSwarm(sh *swarmShard, hv uint64, info *InfoHash) (*swarm, uint32) {
	sw, id := sh.lookup(hv, info)
	if sw == nil {
		sw, id = sh.create(hv, info, t.infoHash)
		t.swarms.Add(1)
	}
	return sw, id
}

func (r restorer) RestorePeer(p PeerRecord) {
	t := r.t
	now, seen := t.now(), p.LastSeen.Unix()
	if now-seen > t.expiry.Load() || p.Peer.IsZero() {
		return // expired while the tracker was down
	}
	seen = min(seen, now)
	hv, pv := t.infoHash(&p.Info), t.peers.hashOf(&p.Peer)
	sh := t.shard(hv)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sw, id := t.restoreSwarm(sh, hv, &p.Info)
	if idx := t.peers.find(pv, &p.Peer); idx != noPeer && sw.find(idx) >= 0 {
		return
	}
	idx, err := t.peers.acquire(pv, &p.Peer, maxRefs)
	if err != nil {
		if sh.dropIfEmpty(id, t.infoHash) {
			t.swarms.Add(-1)
		}
		return
	}
	leechers, seeds := int(sw.leechers), sw.seeders()
	sw.add(newEntry(idx, sh.stamp(seen), p.Seed, p.Completed))
	sh.account(sw, leechers, seeds, sw.completed)
}

func (r restorer) ExpectPeers(n int) {
	if n > 0 {
		r.t.peers.reserve(min(n, maxPeers))
	}
}

func (r restorer) RestoreCompleted(info InfoHash, total uint64) {
	t := r.t
	hv := t.infoHash(&info)
	sh := t.shard(hv)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sw, id := t.restoreSwarm(sh, hv, &info)
	sh.completed += total - sw.completed
	sw.completed = total
	if sh.dropIfEmpty(id, t.infoHash) {
		t.swarms.Add(-1)
	}
}

// RememberDestination caches a verified sender's Destination and
// journals it when it is new to the cache.
func (t *Tracker) RememberDestination(d i2p.Destination) { t.dests.Put(d) }

// CacheDestination caches a Destination without journaling it: one the
// router looked up (it can look it up again, and the journal has it from
// the peer's connect). It is journaled when its peer next connects.
func (t *Tracker) CacheDestination(d i2p.Destination) {
	if !d.IsZero() {
		t.dests.put(d, 0)
	}
}

// AppendDestination appends the serialized Destination of h, if cached,
// to dst: no allocation when dst has room.
func (t *Tracker) AppendDestination(dst []byte, h i2p.Hash) ([]byte, bool) {
	return t.dests.AppendDestination(dst, h)
}
