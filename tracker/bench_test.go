package tracker

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

func benchPeer(i int) i2p.Hash {
	var h i2p.Hash
	binary.LittleEndian.PutUint64(h[:], uint64(i)*0x9e3779b97f4a7c15+1)
	binary.LittleEndian.PutUint64(h[8:], uint64(i))
	return h
}

func benchInfo(i int) InfoHash {
	var h InfoHash
	binary.LittleEndian.PutUint64(h[:], uint64(i)*0xbf58476d1ce4e5b9+7)
	return h
}

// benchAnnounce re-announces existing peers of a swarm of the given size.
func benchAnnounce(b *testing.B, swarmSize int) {
	tr := New(Config{}, nil)
	buf := make([]i2p.Hash, MaxPeersPerReply)
	ih := benchInfo(1)
	for i := range swarmSize {
		tr.Announce(&AnnounceRequest{InfoHash: ih, Peer: benchPeer(i), Left: uint64(i % 3)}, buf)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tr.Announce(&AnnounceRequest{InfoHash: ih, Peer: benchPeer(i % swarmSize), Left: 1, NumWant: -1}, buf)
		i++
	}
}

func BenchmarkAnnounceSwarm10(b *testing.B)     { benchAnnounce(b, 10) }
func BenchmarkAnnounceSwarm1000(b *testing.B)   { benchAnnounce(b, 1000) }
func BenchmarkAnnounceSwarm100000(b *testing.B) { benchAnnounce(b, 100000) }

func BenchmarkAnnounceParallel(b *testing.B) {
	tr := New(Config{}, nil)
	const swarms, perSwarm = 1000, 100
	buf := make([]i2p.Hash, MaxPeersPerReply)
	for s := range swarms {
		for p := range perSwarm {
			tr.Announce(&AnnounceRequest{InfoHash: benchInfo(s), Peer: benchPeer(s*perSwarm + p), Left: uint64(p % 2)}, buf)
		}
	}
	var seq atomic.Uint64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]i2p.Hash, MaxPeersPerReply)
		for pb.Next() {
			n := int(seq.Add(7919) % (swarms * perSwarm))
			tr.Announce(&AnnounceRequest{InfoHash: benchInfo(n / perSwarm), Peer: benchPeer(n), Left: 1, NumWant: -1}, buf)
		}
	})
}

func BenchmarkScrape(b *testing.B) {
	tr := New(Config{}, nil)
	buf := make([]i2p.Hash, 1)
	tr.Announce(&AnnounceRequest{InfoHash: benchInfo(1), Peer: benchPeer(1), Left: 1}, buf)
	b.ReportAllocs()
	for b.Loop() {
		tr.Scrape(benchInfo(1))
	}
}

// heapAfter fills a new tracker and returns the heap it added (after a
// collection) and the tracker's own estimate of its memory.
func heapAfter(fill func(tr *Tracker)) (heap, estimate float64) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	tr := New(Config{Now: func() time.Time { return time.Unix(1_800_000_000, 0) }, MaxPeersPerSwarm: 1 << 20}, nil)
	fill(tr)
	runtime.GC()
	runtime.ReadMemStats(&after)
	estimate = float64(tr.MemoryBytes())
	runtime.KeepAlive(tr)
	return float64(after.HeapAlloc) - float64(before.HeapAlloc), estimate
}

// BenchmarkMemory reports heap bytes per peer for 1,000,000 unique peers,
// each in one swarm, for several swarm sizes, and per (peer, swarm) entry
// for 100,000 peers in 10 swarms each (10,000 swarms of 100). Run with
// -benchtime=1x.
func BenchmarkMemory(b *testing.B) {
	buf := make([]i2p.Hash, 0)
	for _, size := range []int{10, 100, 1000, 100_000} {
		b.Run(fmt.Sprintf("1M-peers/swarms-of-%d", size), func(b *testing.B) {
			const unique = 1_000_000
			for b.Loop() {
				heap, est := heapAfter(func(tr *Tracker) {
					for i := range unique {
						tr.Announce(&AnnounceRequest{InfoHash: benchInfo(i / size), Peer: benchPeer(i), Left: 1}, buf)
					}
				})
				b.ReportMetric(heap/unique, "B/peer")
				b.ReportMetric(est/unique, "B/peer(est)")
			}
		})
	}
	b.Run("100k-peers-x10-swarms", func(b *testing.B) {
		const peers, each = 100_000, 10
		for b.Loop() {
			heap, est := heapAfter(func(tr *Tracker) {
				for i := range peers {
					for s := range each {
						tr.Announce(&AnnounceRequest{InfoHash: benchInfo((i*each + s) % 10_000), Peer: benchPeer(i), Left: 1}, buf)
					}
				}
			})
			b.ReportMetric(heap/(peers*each), "B/entry")
			b.ReportMetric(est/(peers*each), "B/entry(est)")
		}
	})
}

// BenchmarkDestinationGet: parallel lookups in a full cache (the UDP
// reply path).
func BenchmarkDestinationGet(b *testing.B) {
	tr := New(Config{DestinationCache: 1024}, nil)
	var hashes []i2p.Hash
	for range 64 {
		d := newDest(b)
		tr.RememberDestination(d)
		hashes = append(hashes, d.Hash())
	}
	var seq atomic.Uint64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var buf []byte
		for pb.Next() {
			var ok bool
			if buf, ok = tr.AppendDestination(buf[:0], hashes[seq.Add(1)%64]); !ok {
				b.Error("miss")
				return
			}
		}
	})
}

// BenchmarkDestinationGetFull: one goroutine (the I2CP reader) looking
// up random peers among 100,000 cached Destinations, most of which are
// not in the processor's caches (the UDP reply path at scale).
func BenchmarkDestinationGetFull(b *testing.B) {
	const n = 100_000
	tr := New(Config{DestinationCache: 2 * n}, nil) // room for shards above the mean
	raw := newDest(b).Bytes()
	hashes := make([]i2p.Hash, 0, n)
	for i := range n {
		v := append([]byte(nil), raw...)
		binary.BigEndian.PutUint32(v[352:], uint32(i)) // in the signing key: the padding stays compact
		d, _, err := i2p.ParseDestination(v)
		if err != nil {
			b.Fatal(err)
		}
		tr.RememberDestination(d)
		hashes = append(hashes, d.Hash())
	}
	if tr.Destinations().Len() != n {
		b.Fatalf("cached %d", tr.Destinations().Len())
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		var ok bool
		if buf, ok = tr.AppendDestination(buf[:0], hashes[rng.IntN(n)]); !ok {
			b.Fatal("miss")
		}
	}
}
