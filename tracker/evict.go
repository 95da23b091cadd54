package tracker

import "github.com/go-i2p/go-opentracker/tracker/ratelimit"

// A full swarm table makes room for a new torrent rather than refuse it:
// it evicts a swarm of a single peer (a torrent nobody else shares
// loses the least), preferring one whose peer is a heavy creator (has
// spent more than half its budget of new swarms). Swarms of two peers
// or more are never evicted. A requester that is itself a heavy creator
// may not evict. Each shard counts its single-peer swarms, so shards
// without any are skipped; other shards than the requester's are only
// tried (TryLock), never waited for, so the lock order holds.

// evictProbes is how many random records of a shard are tried for a
// heavy creator's swarm (a shard with fewer records is scanned whole).
const evictProbes = 32

// heavy reports whether peer has spent more than half its budget of new
// swarms.
func (t *Tracker) heavy(peer *[32]byte, now int64) bool {
	lim := t.creators.Limit()
	return lim.PerMinute > 0 && !t.creators.Peek(peer, now, max(lim.Burst/2, 1))
}

// makeRoom evicts one single-peer swarm for a new swarm in shard cur
// (locked by the caller) and reports whether it did.
func (t *Tracker) makeRoom(cur int, requester *[32]byte, now int64) bool {
	nowNS := now * 1e9
	if t.heavy(requester, nowNS) {
		return false
	}
	// First a heavy creator's swarm in any shard, then any single.
	for _, heavyOnly := range []bool{true, false} {
		for k := range swarmShards {
			i := (cur + k) % swarmShards
			sh := &t.shards[i]
			if i != cur && !sh.mu.TryLock() {
				continue
			}
			ok := sh.singles > 0 && t.evictIn(sh, nowNS, heavyOnly)
			if i != cur {
				if ok {
					sh.tidy(t.infoHash)
				}
				sh.mu.Unlock()
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// evictIn evicts a single-peer swarm of sh (locked, with singles > 0): a
// heavy creator's among random probes (or the whole shard, when small),
// else, unless heavyOnly, the first single from a random place.
func (t *Tracker) evictIn(sh *swarmShard, nowNS int64, heavyOnly bool) bool {
	n := len(sh.swarms)
	victim := -1
	for k := range min(n, evictProbes) {
		id := k
		if n > evictProbes {
			id = sh.rng.intN(n)
		}
		sw := &sh.swarms[id]
		if len(sw.entries) == 1 && t.heavy((*[32]byte)(t.peers.hash(sw.entries[0].peer())), nowNS) {
			victim = id
			break
		}
	}
	if victim < 0 && !heavyOnly {
		start := sh.rng.intN(n)
		for k := range n {
			if id := (start + k) % n; len(sh.swarms[id].entries) == 1 {
				victim = id
				break
			}
		}
	}
	if victim < 0 {
		return false
	}
	t.evict(sh, uint32(victim))
	return true
}

// evict removes the single peer of swarm id, and with it the swarm and
// its download count, journaling both.
func (t *Tracker) evict(sh *swarmShard, id uint32) {
	sw := &sh.swarms[id]
	leechers, seeds, completed := int(sw.leechers), sw.seeders(), sw.completed
	idx := sw.entries[0].peer()
	if t.persist != nil {
		t.persist.PeerRemoved(sw.info, *t.peers.hash(idx))
		if completed > 0 {
			t.persist.CompletedChanged(sw.info, 0)
		}
	}
	sw.remove(0)
	sw.completed = 0
	sh.account(sw, leechers, seeds, completed)
	t.peers.release(idx)
	if sh.dropIfEmpty(id, t.infoHash) {
		t.swarms.Add(-1)
	}
	t.stats.evicted.Add(1)
}

// mayCreate charges a new swarm to its creator's budget.
func (t *Tracker) mayCreate(peer *[32]byte, now int64) bool {
	return t.creators.Allow((*ratelimit.Key)(peer), now*1e9, 1)
}
