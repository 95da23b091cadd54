package loadgen

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// A Histogram counts durations in log-linear buckets: exact below 64 ns,
// then 32 buckets per power of two, so a reported percentile is at most
// 1/32 (about 3 %) above the true one. Record is safe for concurrent use
// (atomic adds); read it once recording has stopped.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64
}

const (
	subBits     = 5
	subCount    = 1 << subBits // buckets per power of two
	histGroups  = 64 - subBits
	histBuckets = (histGroups + 1) * subCount
)

// bucketOf maps a value to its bucket: values below 2·subCount are their
// own bucket; above, the top subBits+1 bits pick it.
func bucketOf(v uint64) int {
	if v < 2*subCount {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1 // shift that leaves subBits+1 bits
	return (e+1)*subCount + int(v>>e) - subCount
}

// bucketHigh is the largest value that falls in bucket i.
func bucketHigh(i int) uint64 {
	if i < 2*subCount {
		return uint64(i)
	}
	e := i/subCount - 1
	m := uint64(i%subCount + subCount)
	hi := (m+1)<<e - 1
	if hi < m<<e { // overflow in the top bucket
		return math.MaxUint64
	}
	return hi
}

// Record adds one duration (negative counts as zero).
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucketOf(uint64(v))].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Max is the largest recorded value.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Merge adds o's counts into h.
func (h *Histogram) Merge(o *Histogram) {
	for i := range o.counts {
		if c := o.counts[i].Load(); c > 0 {
			h.counts[i].Add(c)
		}
	}
	h.n.Add(o.n.Load())
	if m := o.max.Load(); m > h.max.Load() {
		h.max.Store(m)
	}
}

// Quantile returns the q-quantile (0 < q ≤ 1) by nearest rank: the
// smallest bucket bound at or above ceil(q·n) of the values, never above
// the maximum. Zero when nothing was recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return min(time.Duration(min(bucketHigh(i), math.MaxInt64)), h.Max())
		}
	}
	return h.Max()
}
