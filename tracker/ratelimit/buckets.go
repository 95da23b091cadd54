package ratelimit

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// Limit is a sustained rate and a burst. PerMinute 0 means no limit.
type Limit struct {
	PerMinute int // requests a minute, sustained
	Burst     int // requests at once from an idle peer; at least 1
}

// Key is what requests are limited by: a peer's (Destination's) hash.
type Key = [32]byte

// Buckets is one Limit applied per Key, over a table of fixed size. It
// is safe for concurrent use.
type Buckets struct {
	seed   maphash.Seed
	mask   uint64
	shards [shards]bucketShard
	// interval is the cost of one request in nanoseconds (60 s /
	// PerMinute), 0 for no limit; tolerance is Burst × interval.
	interval, tolerance atomic.Int64
	evicted             atomic.Uint64
}

const shards = 64

type bucketShard struct {
	mu    sync.Mutex
	slots []slot
	_     [40]byte // keep neighbouring shards' locks apart
}

// slot is one peer's bucket: the tag of its key's hash and its
// theoretical arrival time (GCRA's TAT, unix nanoseconds); a TAT in the
// past means a full bucket.
type slot struct {
	tag uint64
	tat int64
}

// NewBuckets makes a table of at least size buckets (rounded up to a
// power of two, at least 2 per shard) enforcing lim.
func NewBuckets(size int, lim Limit) *Buckets {
	per := 2
	for per*shards < size {
		per *= 2
	}
	b := &Buckets{seed: maphash.MakeSeed(), mask: uint64(per - 1)}
	for i := range b.shards {
		b.shards[i].slots = make([]slot, per)
	}
	b.Set(lim)
	return b
}

// Set changes the limit while serving.
func (b *Buckets) Set(lim Limit) {
	if lim.PerMinute <= 0 {
		b.interval.Store(0)
		return
	}
	iv := int64(60e9) / int64(lim.PerMinute)
	b.tolerance.Store(iv * int64(max(lim.Burst, 1)))
	b.interval.Store(iv)
}

// Limit returns the limit in force.
func (b *Buckets) Limit() Limit {
	iv := b.interval.Load()
	if iv == 0 {
		return Limit{}
	}
	return Limit{PerMinute: int(60e9 / iv), Burst: int(b.tolerance.Load() / iv)}
}

// Allow charges cost requests to k at now (unix nanoseconds) and reports
// whether the bucket held them; a refused request charges nothing.
func (b *Buckets) Allow(k *Key, now int64, cost int) bool { return b.take(k, now, cost, true) }

// Peek reports whether k's bucket holds cost requests at now, charging
// nothing: for a check before work whose sender is proved only after it.
func (b *Buckets) Peek(k *Key, now int64, cost int) bool { return b.take(k, now, cost, false) }

// Evicted counts active buckets the table forgot to make room.
func (b *Buckets) Evicted() uint64 { return b.evicted.Load() }

func (b *Buckets) take(k *Key, now int64, cost int, charge bool) bool {
	iv := b.interval.Load()
	if iv == 0 {
		return true
	}
	hv := maphash.Bytes(b.seed, k[:])
	tag := hv | 1 // 0 marks an unused slot
	sh := &b.shards[hv>>58]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i := (hv >> 8) & b.mask &^ 1
	s := &sh.slots[i]
	switch {
	case s.tag == tag:
	case sh.slots[i+1].tag == tag:
		s = &sh.slots[i+1]
	default:
		if !charge {
			return true // unknown: a full bucket
		}
		// The neighbour idle longest makes room.
		if sh.slots[i+1].tat < s.tat {
			s = &sh.slots[i+1]
		}
		if s.tag != 0 && s.tat > now {
			b.evicted.Add(1)
		}
		*s = slot{tag: tag, tat: now}
	}
	tat := max(s.tat, now) + iv*int64(cost)
	if tat-now > b.tolerance.Load() {
		return false
	}
	if charge {
		s.tat = tat
	}
	return true
}
