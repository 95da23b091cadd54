package store

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/tracker"
)

// duBytes asks du for the space dir uses (POSIX -k: KiB, rounded up).
func duBytes(t *testing.T, dir string) int64 {
	t.Helper()
	if _, err := exec.LookPath("du"); err != nil {
		t.Skip("no du here to compare with")
	}
	out, err := exec.Command("du", "-sk", dir).Output()
	if err != nil {
		t.Fatalf("du: %v", err)
	}
	kib, err := strconv.ParseInt(strings.Fields(string(out))[0], 10, 64)
	if err != nil {
		t.Fatalf("du said %q: %v", out, err)
	}
	return kib * 1024
}

// near reports whether the store's figure and du's agree within what
// du's rounding and the directory entries themselves account for.
func near(got, du int64) bool {
	const slack = 64 << 10
	return got >= du-slack && got <= du+slack
}

func TestSizeOnDiskIsWhatDuSays(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	defer s.Close()
	empty := s.Stats().SizeBytes
	if du := duBytes(t, dir); !near(empty, du) {
		t.Fatalf("empty store: %d bytes, du says %d", empty, du)
	}
	if empty <= 0 || empty >= 16<<20 {
		t.Fatalf("empty store said to use %d bytes: Badger preallocates 128 MiB of log but writes little of it", empty)
	}
	now := time.Now()
	for i := range uint64(20000) {
		s.PeerUpdated(tracker.PeerRecord{Info: infoN(i % 50), Peer: hashN(i), LastSeen: now})
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	full := s.Stats().SizeBytes
	if full <= empty {
		t.Fatalf("size did not grow with 20,000 peers written: %d then %d", empty, full)
	}
	if du := duBytes(t, dir); !near(full, du) {
		t.Fatalf("after writes: %d bytes, du says %d", full, du)
	}
	t.Logf("empty %d B, after 20,000 peers %d B", empty, full)
}

// BenchmarkStats is the cost of a Stats call (the console's and
// /metrics' view), which walks the store's files for their size.
func BenchmarkStats(b *testing.B) {
	s := open(b, b.TempDir(), Options{})
	defer s.Close()
	now := time.Now()
	for i := range uint64(20000) {
		s.PeerUpdated(tracker.PeerRecord{Info: infoN(i % 50), Peer: hashN(i), LastSeen: now})
	}
	if err := s.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Stats()
	}
}
