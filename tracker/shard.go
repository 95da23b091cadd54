package tracker

import "sync"

// swarmShard holds the swarms whose info hash falls in it, under one
// lock: their records in a slice (no pointer per swarm), an idTable from
// info hash to record, and the shard's running totals.
type swarmShard struct {
	mu     sync.Mutex
	index  idTable
	swarms []swarm
	free   []uint32 // unused records
	rng    wyrand
	base   int64 // unix seconds that entry times count from

	// Totals of the shard's swarms.
	seeds, leechers int
	completed       uint64
	singles         int      // swarms of exactly one peer (evict.go)
	_               [64]byte // keep neighbouring shards' locks apart
}

const swarmShards = 64

// lookup returns the swarm with info hash info (keyed hash hv) and its
// record id, or nil.
func (sh *swarmShard) lookup(hv uint64, info *InfoHash) (*swarm, uint32) {
	id, _, ok := sh.index.find(hv, func(id uint32) bool { return sh.swarms[id].info == *info })
	if !ok {
		return nil, 0
	}
	return &sh.swarms[id], id
}

// create adds an empty swarm; hashOf hashes an info hash. Pointers to
// other swarms of the shard are invalid afterwards.
func (sh *swarmShard) create(hv uint64, info *InfoHash, hashOf func(*InfoHash) uint64) (*swarm, uint32) {
	var id uint32
	if n := len(sh.free); n > 0 {
		id = sh.free[n-1]
		sh.free = sh.free[:n-1]
	} else {
		id = uint32(len(sh.swarms))
		sh.swarms = append(sh.swarms, swarm{})
	}
	sh.swarms[id] = swarm{info: *info}
	sh.index.insert(hv, id, func(id uint32) uint64 { return hashOf(&sh.swarms[id].info) })
	return &sh.swarms[id], id
}

// dropIfEmpty forgets swarm id if it has neither peers nor downloads,
// and reports whether it did. Record ids stay valid until tidy.
func (sh *swarmShard) dropIfEmpty(id uint32, hashOf func(*InfoHash) uint64) bool {
	sw := &sh.swarms[id]
	if len(sw.entries) != 0 || sw.completed != 0 {
		return false
	}
	_, slot, ok := sh.index.find(hashOf(&sw.info), func(j uint32) bool { return j == id })
	if !ok {
		return false // an unused record
	}
	sh.index.remove(slot, func(id uint32) uint64 { return hashOf(&sh.swarms[id].info) })
	*sw = swarm{}
	sh.free = append(sh.free, id)
	return true
}

// tidy gives memory back once most records are unused: the live ones
// move to a smaller slice and the index is rebuilt. Record ids and
// pointers to swarms are invalid afterwards.
func (sh *swarmShard) tidy(hashOf func(*InfoHash) uint64) {
	if c := cap(sh.swarms); c <= 64 || sh.index.n*4 >= c {
		return
	}
	live := make([]swarm, 0, sh.index.n)
	for _, s := range sh.index.slots {
		if s != 0 {
			live = append(live, sh.swarms[s&idMask-1])
		}
	}
	sh.swarms, sh.free = live, nil
	sh.index = idTable{}
	for i := range live {
		sh.index.insert(hashOf(&live[i].info), uint32(i), func(id uint32) uint64 { return hashOf(&sh.swarms[id].info) })
	}
}

// each calls fn for every swarm of the shard (locked by the caller).
func (sh *swarmShard) each(fn func(sw *swarm)) {
	for _, s := range sh.index.slots {
		if s != 0 {
			fn(&sh.swarms[s&idMask-1])
		}
	}
}

// account adds a swarm's change in counts to the shard's totals.
func (sh *swarmShard) account(sw *swarm, leechers, seeds int, completed uint64) {
	if leechers+seeds == 1 {
		sh.singles--
	}
	if len(sw.entries) == 1 {
		sh.singles++
	}
	sh.leechers += int(sw.leechers) - leechers
	sh.seeds += sw.seeders() - seeds
	sh.completed += sw.completed - completed
}

// stamp returns the unix time now as an entry time, moving the shard's
// time base forward first when now no longer fits.
func (sh *swarmShard) stamp(now int64) uint32 {
	if now-sh.base > maxSeen {
		sh.rebase(now)
	}
	return uint32(max(now-sh.base, 1)) // before the base: the clock stepped back
}

// rebase moves the time base so that now is half-way through the range
// of entry times, and every entry with it. Entries older than the new
// base (far older than any expiry) get time 0, for the sweep to remove.
func (sh *swarmShard) rebase(now int64) {
	shift := now - sh.base - maxSeen/2
	if shift <= 0 {
		return
	}
	sh.each(func(sw *swarm) {
		for i := range sw.entries {
			e := &sw.entries[i]
			e.setSeen(uint32(max(int64(e.lastSeen())-shift, 0)))
		}
	})
	sh.base += shift
}
