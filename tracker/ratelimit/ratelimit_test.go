package ratelimit

import (
	"encoding/binary"
	"testing"
	"time"
)

func key(i int) *Key {
	var k Key
	binary.BigEndian.PutUint64(k[:], uint64(i))
	return &k
}

var t0 = time.Unix(1_800_000_000, 0).UnixNano()

// TestBurstThenRate: an idle peer gets its burst at once, then one
// request per interval; a refusal charges nothing.
func TestBurstThenRate(t *testing.T) {
	b := NewBuckets(1024, Limit{PerMinute: 60, Burst: 5})
	k := key(1)
	for i := range 5 {
		if !b.Allow(k, t0, 1) {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	for range 100 {
		if b.Allow(k, t0, 1) {
			t.Fatal("request past the burst allowed")
		}
	}
	if !b.Allow(k, t0+int64(time.Second), 1) || b.Allow(k, t0+int64(time.Second), 1) {
		t.Fatal("a second later exactly one more request should pass")
	}
	if !b.Allow(key(2), t0, 1) {
		t.Fatal("another peer refused")
	}
	// Cost: a request of cost 3 takes three of the burst.
	c := key(3)
	if !b.Allow(c, t0, 3) || !b.Allow(c, t0, 2) || b.Allow(c, t0, 1) {
		t.Fatal("costs not charged")
	}
	// Peek charges nothing.
	p := key(4)
	for range 10 {
		if !b.Peek(p, t0, 5) {
			t.Fatal("peek refused an idle peer")
		}
	}
	if !b.Allow(p, t0, 5) || b.Peek(p, t0, 1) {
		t.Fatal("peek after the burst")
	}
}

func TestLiveLimitAndNoLimit(t *testing.T) {
	b := NewBuckets(64, Limit{})
	k := key(1)
	for range 1000 {
		if !b.Allow(k, t0, 1) {
			t.Fatal("no limit refused")
		}
	}
	b.Set(Limit{PerMinute: 1, Burst: 2})
	if got := b.Limit(); got != (Limit{PerMinute: 1, Burst: 2}) {
		t.Fatalf("limit %+v", got)
	}
	got := []bool{b.Allow(k, t0, 1), b.Allow(k, t0, 1), b.Allow(k, t0, 1)}
	if !got[0] || !got[1] || got[2] {
		t.Fatalf("live limit not applied: %v", got)
	}
}

// TestTableBounded: many more peers than buckets neither grow the table
// nor refuse newcomers; forgetting active buckets is counted.
func TestTableBounded(t *testing.T) {
	b := NewBuckets(128, Limit{PerMinute: 1, Burst: 1})
	for i := range 10_000 {
		if !b.Allow(key(i), t0, 1) {
			t.Fatalf("newcomer %d refused", i)
		}
	}
	n := 0
	for i := range b.shards {
		n += len(b.shards[i].slots)
	}
	if n != 128 {
		t.Fatalf("%d slots, want 128", n)
	}
	if b.Evicted() < 10_000-128 {
		t.Fatalf("%d evictions counted", b.Evicted())
	}
}

func TestWoodpeckers(t *testing.T) {
	l := New(Config{Limits: [NumKinds]Limit{Announce: {PerMinute: 1, Burst: 1}}, Size: 256, Woodpeckers: 4})
	for i := range 10 {
		for range i + 1 {
			l.Allow(Announce, key(i), t0, 1)
		}
	}
	// Peers 1..9 are refused i times; the table keeps four.
	top := l.Woodpeckers(10)
	if len(top) != 4 || top[0].Peer != *key(9) || top[0].Refused[Announce] != 9 {
		t.Fatalf("top %+v", top)
	}
	for i := 1; i < len(top); i++ {
		if top[i].Total > top[i-1].Total {
			t.Fatal("not ordered")
		}
	}
	if s := l.Stats(); s.Refused["announce"] != 45 || s.Refused["connect"] != 0 {
		t.Fatalf("stats %+v", s)
	}
	var none *Limits
	if !none.Allow(Announce, key(1), t0, 1) || none.Woodpeckers(5) != nil {
		t.Fatal("nil limits must allow")
	}
}

// BenchmarkAllow is the limiter's cost per announce an honest peer
// makes: one of 4,096 peers, each well inside the default limit.
func BenchmarkAllow(b *testing.B) {
	l := New(Config{Limits: DefaultLimits()})
	keys := make([]Key, 4096)
	for i := range keys {
		keys[i] = *key(i)
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if !l.Allow(Announce, &keys[i&4095], t0+int64(i)*100_000, 1) {
			b.Fatal("refused")
		}
		i++
	}
}

// BenchmarkRefuse is the cost of a refusal: 4,096 peers hammering, each
// refused and noted among the woodpeckers.
func BenchmarkRefuse(b *testing.B) {
	l := New(Config{Limits: DefaultLimits()})
	keys := make([]Key, 4096)
	for i := range keys {
		keys[i] = *key(i)
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		l.Allow(Announce, &keys[i&4095], t0+int64(i)*1000, 1)
		i++
	}
}

func BenchmarkAllowParallel(b *testing.B) {
	l := New(Config{Limits: DefaultLimits()})
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		var k Key
		for pb.Next() {
			binary.BigEndian.PutUint32(k[:], uint32(i))
			l.Allow(Announce, &k, t0+int64(i)*1000, 1)
			i++
		}
	})
}
