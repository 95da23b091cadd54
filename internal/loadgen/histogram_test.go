package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(v uint64) {
		i := bucketOf(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("value %d: bucket %d out of range", v, i)
		}
		if hi := bucketHigh(i); v > hi {
			t.Fatalf("value %d above its bucket %d's bound %d", v, i, hi)
		}
		if i > 0 && v <= bucketHigh(i-1) {
			t.Fatalf("value %d fits bucket %d below its own %d", v, i-1, i)
		}
		if hi := bucketHigh(i); v >= 64 && float64(hi-v) > float64(v)/32 {
			t.Fatalf("value %d: bucket bound %d more than 1/32 above", v, hi)
		}
	}
	for v := range uint64(5000) {
		check(v)
	}
	for range 100000 {
		check(rng.Uint64() >> rng.UintN(64))
	}
	check(math.MaxUint64)
	check(math.MaxInt64)
}

func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func TestQuantilesMatchSortedSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 7, 100, 10007} {
		var h Histogram
		sample := make([]time.Duration, n)
		for i := range sample {
			// log-normal-ish latencies from 1 µs to seconds
			sample[i] = time.Duration(math.Exp(rng.NormFloat64()*2 + 11))
			h.Record(sample[i])
		}
		slices.Sort(sample)
		for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999, 1} {
			want := exactQuantile(sample, q)
			got := h.Quantile(q)
			if got < want || float64(got-want) > float64(want)/32+1 {
				t.Errorf("n=%d q=%v: got %v, exact %v", n, q, got, want)
			}
		}
		if h.Max() != sample[n-1] || h.Count() != uint64(n) {
			t.Errorf("n=%d: max %v count %d, want %v %d", n, h.Max(), h.Count(), sample[n-1], n)
		}
	}
}

func TestHistogramMergeAndEmpty(t *testing.T) {
	var a, b, all Histogram
	if a.Quantile(0.5) != 0 {
		t.Error("empty histogram has a median")
	}
	for i := range 1000 {
		d := time.Duration(i) * time.Microsecond
		all.Record(d)
		if i%2 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	for _, q := range []float64{0.5, 0.9, 0.99} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Errorf("q=%v: merged %v, direct %v", q, a.Quantile(q), all.Quantile(q))
		}
	}
	a.Record(-5)
	if a.Quantile(0.0001) != 0 {
		t.Error("negative duration not recorded as zero")
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	d := time.Duration(0)
	for b.Loop() {
		d += 997
		h.Record(d % time.Second)
	}
}
