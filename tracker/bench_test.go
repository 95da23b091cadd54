package tracker

import (
	"encoding/binary"
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

// BenchmarkMemory reports heap bytes per peer for 1,000,000 unique peers
// (one swarm each, 10 peers a swarm) and per (peer, swarm) entry for
// 100,000 peers in 10 swarms each. Run with -benchtime=1x.
func BenchmarkMemory(b *testing.B) {
	measure := func(fill func(tr *Tracker)) float64 {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		tr := New(Config{Now: func() time.Time { return time.Unix(1_800_000_000, 0) }}, nil)
		fill(tr)
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(tr)
		return float64(after.HeapAlloc - before.HeapAlloc)
	}
	for b.Loop() {
		buf := make([]i2p.Hash, 0)
		const unique = 1_000_000
		perPeer := measure(func(tr *Tracker) {
			for i := range unique {
				tr.Announce(&AnnounceRequest{InfoHash: benchInfo(i / 10), Peer: benchPeer(i), Left: 1}, buf)
			}
		}) / unique
		const peers, each = 100_000, 10
		perEntry := measure(func(tr *Tracker) {
			for i := range peers {
				for s := range each {
					tr.Announce(&AnnounceRequest{InfoHash: benchInfo((i*each + s) % 10_000), Peer: benchPeer(i), Left: 1}, buf)
				}
			}
		}) / (peers * each)
		b.ReportMetric(perPeer, "B/peer(1M)")
		b.ReportMetric(perEntry, "B/entry(100kx10)")
	}
}
