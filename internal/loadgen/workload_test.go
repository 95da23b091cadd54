package loadgen

import (
	"math"
	"testing"

	"github.com/go-i2p/go-opentracker/tracker"
)

func TestZipfPopularity(t *testing.T) {
	w, err := NewWorkload(Config{Clients: 200000, Torrents: 1000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 1000)
	for c := range int32(w.Clients()) {
		tr := w.Torrent(c, 0)
		if tr < 0 || tr >= 1000 {
			t.Fatalf("client %d: torrent %d out of range", c, tr)
		}
		counts[tr]++
	}
	// P(rank k) ∝ (k+1)^-s: rank 0 over rank 1 is 2^s, rank 0 over rank 3 is 4^s.
	for _, k := range []int{1, 3, 9} {
		want := math.Pow(float64(k+1), 1.1)
		got := float64(counts[0]) / float64(counts[k])
		if math.Abs(got-want)/want > 0.1 {
			t.Errorf("count[0]/count[%d] = %.2f, want about %.2f", k, got, want)
		}
	}
	for k := 1; k < 8; k++ {
		if counts[k] > counts[k-1] {
			t.Errorf("rank %d more popular than rank %d: %d > %d", k, k-1, counts[k], counts[k-1])
		}
	}
	if counts[0] < counts[999]*100 {
		t.Errorf("no skew: top %d, last %d", counts[0], counts[999])
	}
}

func TestWorkloadDeterministicAndDistinct(t *testing.T) {
	cfg := Config{Clients: 5000, Torrents: 40, SwarmsPerClient: 10, Seed: 3}
	a, err := NewWorkload(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewWorkload(cfg)
	seeds := 0
	ids := map[[20]byte]bool{}
	for c := range int32(5000) {
		seen := map[int32]bool{}
		for k := range 10 {
			tr := a.Torrent(c, k)
			if seen[tr] {
				t.Fatalf("client %d is twice in torrent %d", c, tr)
			}
			seen[tr] = true
			if tr != b.Torrent(c, k) || a.IsSeed(c, k) != b.IsSeed(c, k) {
				t.Fatalf("pair (%d, %d) differs between equal workloads", c, k)
			}
			if a.IsSeed(c, k) {
				seeds++
			}
		}
		id := a.PeerID(c)
		if ids[id] {
			t.Fatalf("peer id of client %d repeats", c)
		}
		ids[id] = true
	}
	if frac := float64(seeds) / 50000; math.Abs(frac-0.3) > 0.02 {
		t.Errorf("seed fraction %.3f, want about 0.3", frac)
	}
	hashes := map[[20]byte]bool{}
	for tr := range int32(40) {
		hashes[a.InfoHash(tr)] = true
	}
	if len(hashes) != 40 {
		t.Errorf("%d distinct info hashes of 40", len(hashes))
	}
}

func TestWorkloadRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Clients: -1},
		{Torrents: 5, SwarmsPerClient: 6},
		{ZipfS: 0.9},
		{SeedFraction: 1.5},
		{CompletedFraction: 0.6, StoppedFraction: 0.6},
		{Clients: MaxClients + 1},
	} {
		if _, err := NewWorkload(cfg); err == nil {
			t.Errorf("NewWorkload(%+v) accepted", cfg)
		}
	}
}

func TestStreamsPartitionTheWork(t *testing.T) {
	w, err := NewWorkload(Config{Clients: 1003, Torrents: 50, SwarmsPerClient: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	const workers = 4
	connects := map[int32]int{}
	pairs := map[[2]int32]int{}
	var r Request
	for i := range workers {
		s := w.Stream(PhaseConnect, i, workers, 0)
		for s.Next(&r) {
			if r.Kind != KindConnect || int(r.Client)%workers != i {
				t.Fatalf("worker %d got %+v", i, r)
			}
			connects[r.Client]++
		}
		s = w.Stream(PhasePopulate, i, workers, 0)
		for s.Next(&r) {
			if r.Kind != KindAnnounce || r.Event != tracker.EventStarted || int(r.Client)%workers != i {
				t.Fatalf("worker %d populate got %+v", i, r)
			}
			pairs[[2]int32{r.Client, r.Torrent}]++
		}
	}
	if len(connects) != 1003 {
		t.Errorf("%d clients connected, want 1003", len(connects))
	}
	if len(pairs) != 3009 {
		t.Errorf("%d pairs populated, want 3009", len(pairs))
	}
	for p, n := range pairs {
		if n != 1 {
			t.Fatalf("pair %v announced %d times", p, n)
		}
	}
}

func TestSteadyMix(t *testing.T) {
	w, err := NewWorkload(Config{Clients: 2000, Torrents: 100, Seed: 5, ScrapeFraction: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	s := w.Stream(PhaseSteady, 0, 1, 9)
	var r Request
	var events [4]int
	scrapes := 0
	const n = 200000
	for range n {
		if !s.Next(&r) {
			t.Fatal("steady stream ended")
		}
		if r.Kind == KindScrape {
			scrapes++
			continue
		}
		events[r.Event]++
		if r.Event == tracker.EventCompleted && r.Left != 0 {
			t.Fatalf("completed with %d left", r.Left)
		}
		if r.NumWant != 50 {
			t.Fatalf("numwant %d", r.NumWant)
		}
	}
	if f := float64(scrapes) / n; math.Abs(f-0.1) > 0.01 {
		t.Errorf("scrape share %.3f, want about 0.1", f)
	}
	// Every client starts before anything else; stops make restarts.
	if events[tracker.EventStarted] < 2000 {
		t.Errorf("%d started, want at least one per client", events[tracker.EventStarted])
	}
	if events[tracker.EventNone] < events[tracker.EventStarted] || events[tracker.EventCompleted] == 0 || events[tracker.EventStopped] == 0 {
		t.Errorf("mix none/completed/started/stopped = %v", events)
	}
}

func BenchmarkSteadyNext(b *testing.B) {
	w, err := NewWorkload(Config{Clients: 100000, Torrents: 10000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	s := w.Stream(PhaseSteady, 0, 1, 1)
	var r Request
	b.ReportAllocs()
	for b.Loop() {
		s.Next(&r)
	}
}
