package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/tracker"
)

// BenchmarkPeerUpdated is the cost the announce path pays per journal call.
func BenchmarkPeerUpdated(b *testing.B) {
	s := open(b, b.TempDir(), Options{FlushInterval: 100 * time.Millisecond, NoSync: true})
	defer s.Close()
	now := time.Now()
	b.ReportAllocs()
	i := uint64(0)
	for b.Loop() {
		s.PeerUpdated(tracker.PeerRecord{Info: infoN(i % 10000), Peer: hashN(i % 200000), LastSeen: now})
		i++
	}
}

// BenchmarkJournalThroughput: distinct announces per second the journal
// writes to disk (calls, then one flush to be sure all of it landed).
func BenchmarkJournalThroughput(b *testing.B) {
	s := open(b, b.TempDir(), Options{})
	defer s.Close()
	now := time.Now()
	start := time.Now()
	for i := range uint64(b.N) {
		s.PeerUpdated(tracker.PeerRecord{Info: infoN(i % 10000), Peer: hashN(i), LastSeen: now})
	}
	if err := s.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "announces/s")
}

// BenchmarkRestore1M: time to restore 1,000,000 peers (10,000 swarms ×
// 100) into a real tracker, and the on-disk bytes per peer. Run with
// -benchtime=1x; it writes the store once.
func BenchmarkRestore1M(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "store")
	s := open(b, dir, Options{MaxPending: 2_000_000, FlushInterval: time.Hour, NoSync: true})
	now := time.Now()
	for i := range uint64(1_000_000) {
		s.PeerUpdated(tracker.PeerRecord{Info: infoN(i / 100), Peer: hashN(i), LastSeen: now, Seed: i%3 == 0})
		if i%200_000 == 199_999 {
			if err := s.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	size := dirSize(dir)
	for b.Loop() {
		s := open(b, dir, Options{})
		tr := tracker.New(tracker.Config{}, s)
		start := time.Now()
		if err := tr.Restore(context.Background()); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		if n := tr.Totals().Entries; n != 1_000_000 {
			b.Fatalf("restored %d entries", n)
		}
		b.ReportMetric(float64(took.Milliseconds()), "ms/restore")
		s.Close()
	}
	b.ReportMetric(float64(size)/1e6, "disk-B/peer")
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// BenchmarkCheckLogs: what checking a crash image's logs adds to Open,
// for a write-ahead log of 50,000 journaled peers (bytes/s of the
// files, their unwritten zeros included).
func BenchmarkCheckLogs(b *testing.B) {
	dir := crashImage(b, 50000)
	var size int64
	for _, pat := range []string{"*.mem", "*.vlog"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, f := range m {
			if fi, err := os.Stat(f); err == nil {
				size += fi.Size()
			}
		}
	}
	b.SetBytes(size)
	for b.Loop() {
		if err := checkLogs(dir); err != nil {
			b.Fatal(err)
		}
	}
}
