package tracker

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// step is one announce of a table-driven case and what it must answer.
type step struct {
	peer     int
	ev       Event
	left     uint64
	want     int
	readOnly bool

	seeders, leechers uint32
	peers             []int // exactly these peers, in any order (nil: skip)
	numPeers          int   // -1: skip
	completed         uint32
	err               error
}

func TestAnnounceRules(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
	}{
		{"first peer sees nobody", []step{
			{peer: 1, ev: EventStarted, left: 9, want: -1, leechers: 1, peers: []int{}},
		}},
		{"leecher gets leechers and seeds, never itself", []step{
			{peer: 1, left: 9, want: -1, leechers: 1, numPeers: 0},
			{peer: 2, left: 0, want: -1, seeders: 1, leechers: 1, peers: []int{1}},
			{peer: 3, left: 5, want: -1, seeders: 1, leechers: 2, peers: []int{1, 2}},
		}},
		{"seed gets leechers first, then seeds", []step{
			{peer: 1, left: 0, want: -1, seeders: 1, numPeers: 0},
			{peer: 2, left: 0, want: -1, seeders: 2, peers: []int{1}},
			{peer: 3, left: 1, want: -1, seeders: 2, leechers: 1, peers: []int{1, 2}},
			{peer: 4, left: 1, want: -1, seeders: 2, leechers: 2, peers: []int{1, 2, 3}},
			{peer: 1, left: 0, want: 2, seeders: 2, leechers: 2, peers: []int{3, 4}},
			{peer: 1, left: 0, want: 3, seeders: 2, leechers: 2, peers: []int{2, 3, 4}},
		}},
		{"left 0 without completed counts no download", []step{
			{peer: 1, left: 0, want: 0, seeders: 1, completed: 0, numPeers: 0},
		}},
		{"completed counts once per peer", []step{
			{peer: 1, left: 5, want: 0, leechers: 1, numPeers: 0},
			{peer: 1, ev: EventCompleted, left: 0, want: 0, seeders: 1, completed: 1, numPeers: 0},
			{peer: 1, ev: EventCompleted, left: 0, want: 0, seeders: 1, completed: 1, numPeers: 0},
			{peer: 2, ev: EventCompleted, left: 0, want: 0, seeders: 2, completed: 2, numPeers: 0},
		}},
		{"a peer that left and completes again has downloaded again", []step{
			{peer: 1, ev: EventCompleted, left: 0, want: 0, seeders: 1, completed: 1, numPeers: 0},
			{peer: 1, ev: EventStopped, left: 0, want: 0, completed: 1, numPeers: 0},
			{peer: 1, ev: EventCompleted, left: 0, want: 0, seeders: 1, completed: 2, numPeers: 0},
		}},
		{"completed from a peer never seen counts", []step{
			{peer: 1, ev: EventCompleted, left: 0, want: 0, seeders: 1, completed: 1, numPeers: 0},
		}},
		{"stopped removes the peer and returns no peers", []step{
			{peer: 1, left: 5, want: 0, leechers: 1, numPeers: 0},
			{peer: 2, left: 5, want: 0, leechers: 2, numPeers: 0},
			{peer: 2, ev: EventStopped, left: 5, want: -1, leechers: 1, peers: []int{}},
			{peer: 2, ev: EventStopped, left: 5, want: -1, leechers: 1, peers: []int{}},
			{peer: 3, left: 5, want: -1, leechers: 2, peers: []int{1}},
		}},
		{"a seed that leeches again moves back", []step{
			{peer: 1, left: 0, want: 0, seeders: 1, numPeers: 0},
			{peer: 1, left: 7, want: 0, leechers: 1, numPeers: 0},
		}},
		{"num_want zero returns counts only", []step{
			{peer: 1, left: 5, want: 0, leechers: 1, numPeers: 0},
			{peer: 2, left: 5, want: 0, leechers: 2, numPeers: 0},
		}},
		{"read-only changes nothing", []step{
			{peer: 1, left: 5, want: 0, leechers: 1, numPeers: 0},
			{peer: 2, left: 5, want: -1, readOnly: true, leechers: 1, peers: []int{1}},
			{peer: 1, ev: EventStopped, left: 5, want: 0, readOnly: true, leechers: 1, numPeers: 0},
			{peer: 1, left: 5, want: -1, readOnly: true, leechers: 1, peers: []int{}},
		}},
		{"zero peer refused", []step{
			{peer: -1, left: 5, want: -1, err: ErrZeroPeer, numPeers: 0},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, _ := newTestTracker(nil)
			buf := make([]i2p.Hash, MaxPeersPerReply)
			for n, s := range c.steps {
				var p i2p.Hash
				if s.peer >= 0 {
					p = peer(s.peer)
				}
				res, err := tr.Announce(&AnnounceRequest{InfoHash: info(1), Peer: p, Event: s.ev, Left: s.left, NumWant: s.want, ReadOnly: s.readOnly}, buf)
				if err != s.err {
					t.Fatalf("step %d: error %v, want %v", n, err, s.err)
				}
				if err != nil {
					continue
				}
				if res.Seeders != s.seeders || res.Leechers != s.leechers || res.Interval != 1620 {
					t.Fatalf("step %d: %+v, want %d seeders %d leechers", n, res, s.seeders, s.leechers)
				}
				if s.peers != nil {
					got := map[i2p.Hash]bool{}
					for _, h := range buf[:res.NumPeers] {
						got[h] = true
					}
					if len(got) != len(s.peers) || res.NumPeers != len(s.peers) {
						t.Fatalf("step %d: %d peers, want %v", n, res.NumPeers, s.peers)
					}
					for _, q := range s.peers {
						if !got[peer(q)] {
							t.Fatalf("step %d: peer %d missing", n, q)
						}
					}
				} else if s.numPeers >= 0 && res.NumPeers != s.numPeers {
					t.Fatalf("step %d: %d peers, want %d", n, res.NumPeers, s.numPeers)
				}
				if got := tr.Scrape(info(1)).Completed; got != s.completed {
					t.Fatalf("step %d: completed %d, want %d", n, got, s.completed)
				}
			}
			dump(t, tr)
		})
	}
}

func TestNumWant(t *testing.T) {
	tr, _ := newTestTracker(nil)
	for i := range 80 {
		announce(t, tr, info(1), peer(i), EventStarted, 1, 0)
	}
	for _, c := range []struct{ want, buf, got int }{
		{-1, 50, 50}, {-7, 50, 50}, {0, 50, 0}, {7, 50, 7}, {50, 50, 50}, {200, 50, 50}, {200, 200, 50}, {30, 10, 10},
	} {
		buf := make([]i2p.Hash, c.buf)
		res, err := tr.Announce(&AnnounceRequest{InfoHash: info(1), Peer: peer(0), Left: 1, NumWant: c.want}, buf)
		if err != nil || res.NumPeers != c.got {
			t.Fatalf("num_want %d, buffer %d: %d peers (%v), want %d", c.want, c.buf, res.NumPeers, err, c.got)
		}
	}
	tr.SetDefaultWant(5)
	if _, peers := announce(t, tr, info(1), peer(0), EventNone, 1, -1); len(peers) != 5 {
		t.Fatalf("default want 5 gave %d", len(peers))
	}
}

func TestJournal(t *testing.T) {
	mp := NewMemoryPersister()
	tr, c := newTestTracker(mp)
	announce(t, tr, info(1), peer(1), EventStarted, 5, 0)
	announce(t, tr, info(1), peer(2), EventStarted, 5, 0)
	r, ok := mp.peers[peerKey{info(1), peer(1)}]
	if !ok || r.Seed || !r.LastSeen.Equal(c.t) {
		t.Fatalf("journaled %+v", r)
	}
	c.advance(time.Minute)
	announce(t, tr, info(1), peer(1), EventCompleted, 0, 0)
	if r := mp.peers[peerKey{info(1), peer(1)}]; !r.Seed || !r.LastSeen.Equal(c.t) || mp.completed[info(1)] != 1 {
		t.Fatalf("after completed: %+v, completed %d", r, mp.completed[info(1)])
	}
	announce(t, tr, info(1), peer(1), EventStopped, 0, 0)
	if _, ok := mp.peers[peerKey{info(1), peer(1)}]; ok {
		t.Fatal("stopped peer still journaled")
	}
	// Refused announces journal nothing.
	tr2 := New(Config{Now: c.now, MaxSwarmsPerPeer: 1}, mp)
	announce(t, tr2, info(3), peer(9), EventStarted, 5, 0)
	if _, err := tr2.Announce(&AnnounceRequest{InfoHash: info(4), Peer: peer(9), Left: 1}, nil); err != ErrPeerInTooMany {
		t.Fatal(err)
	}
	if _, ok := mp.peers[peerKey{info(4), peer(9)}]; ok {
		t.Fatal("refused announce journaled")
	}
	// Expired peers are left to the store's TTL.
	c.advance(2 * time.Hour)
	before := mp.Peers()
	if n := tr.Sweep(); n != 1 || mp.Peers() != before {
		t.Fatalf("swept %d; journal %d → %d", n, before, mp.Peers())
	}
}

// model is what the tests expect the tracker to hold.
type model struct {
	peers     map[InfoHash]map[i2p.Hash]peerState
	completed map[InfoHash]uint64
	journaled map[peerKey]int64 // the time seen the journal holds
}

func newModel() *model {
	return &model{peers: map[InfoHash]map[i2p.Hash]peerState{}, completed: map[InfoHash]uint64{}, journaled: map[peerKey]int64{}}
}

// restart is what a restarted tracker holds: every peer as last
// journaled (a bare refresh is journaled once per journalRefresh
// window), less those that are then past the expiry.
func (m *model) restart(now, expiry int64) {
	for ih, sw := range m.peers {
		for p, st := range sw {
			st.seen = m.journaled[peerKey{ih, p}]
			sw[p] = st
		}
	}
	m.expire(now, expiry)
}

func (m *model) announce(ih InfoHash, p i2p.Hash, ev Event, left uint64, now int64) {
	sw := m.peers[ih]
	if sw == nil {
		sw = map[i2p.Hash]peerState{}
		m.peers[ih] = sw
	}
	old, in := sw[p]
	switch {
	case ev == EventStopped:
		delete(sw, p)
		delete(m.journaled, peerKey{ih, p})
	default:
		st := peerState{seed: left == 0 || ev == EventCompleted, completed: old.completed, seen: now}
		counted := ev == EventCompleted && !(in && old.completed)
		if counted {
			st.completed = true
			m.completed[ih]++
		}
		if !in || counted || st.seed != old.seed || old.seen/journalRefresh != now/journalRefresh {
			m.journaled[peerKey{ih, p}] = now
		}
		sw[p] = st
	}
	m.tidy(ih)
}

func (m *model) tidy(ih InfoHash) {
	if len(m.peers[ih]) == 0 {
		delete(m.peers, ih)
	}
	if m.completed[ih] == 0 {
		delete(m.completed, ih)
	}
}

func (m *model) expire(now, expiry int64) int {
	n := 0
	for ih, sw := range m.peers {
		for p, st := range sw {
			if now-st.seen > expiry {
				delete(sw, p)
				n++
			}
		}
		m.tidy(ih)
	}
	return n
}

// equal compares the tracker's state with the model, completed flags
// included (the journal keeps them).
func (m *model) equal(t *testing.T, tr *Tracker) {
	t.Helper()
	got, completed := dump(t, tr)
	for ih := range completed {
		if completed[ih] != m.completed[ih] {
			t.Fatalf("swarm %x: completed %d, model %d", ih[:2], completed[ih], m.completed[ih])
		}
		if len(got[ih]) == 0 {
			delete(got, ih)
		}
	}
	if len(got) != len(m.peers) {
		t.Fatalf("%d swarms with peers, model %d", len(got), len(m.peers))
	}
	for ih, sw := range m.peers {
		if len(got[ih]) != len(sw) {
			t.Fatalf("swarm %x: %d peers, model %d", ih[:2], len(got[ih]), len(sw))
		}
		for p, st := range sw {
			g, ok := got[ih][p]
			if !ok || g != st {
				t.Fatalf("swarm %x peer %x: %+v (%v), model %+v", ih[:2], p[:2], g, ok, st)
			}
		}
	}
}

// TestModel runs thousands of random announces, sweeps and restarts
// against the model: memberships, seed flags, last-seen times, download
// counts, expiry of exactly the stale peers, and restore from the
// journal reproducing the same state.
func TestModel(t *testing.T) {
	mp := NewMemoryPersister()
	tr, c := newTestTracker(mp)
	m := newModel()
	rng := rand.New(rand.NewPCG(11, 12))
	buf := make([]i2p.Hash, MaxPeersPerReply)
	expiry := int64(tr.Config().PeerExpiry / time.Second)
	for step := range 30000 {
		switch r := rng.IntN(1000); {
		case r < 3: // time passes, a sweep
			c.advance(time.Duration(rng.IntN(int(expiry))) * time.Second)
			if got, want := tr.Sweep(), m.expire(c.t.Unix(), expiry); got != want {
				t.Fatalf("step %d: swept %d, model %d", step, got, want)
			}
			m.equal(t, tr)
		case r < 5: // a restart
			c.advance(time.Duration(rng.IntN(120)) * time.Second)
			m.restart(c.t.Unix(), expiry)
			tr = New(Config{Now: c.now, Rand: rand.New(rand.NewPCG(uint64(step), 1))}, mp)
			if err := tr.Restore(context.Background()); err != nil {
				t.Fatal(err)
			}
			m.equal(t, tr)
		default:
			if r < 100 {
				c.advance(time.Second)
			}
			ih, p := info(rng.IntN(12)), peer(rng.IntN(150))
			ev, left := Event(rng.IntN(4)), uint64(rng.IntN(3))
			if _, err := tr.Announce(&AnnounceRequest{InfoHash: ih, Peer: p, Event: ev, Left: left, NumWant: rng.IntN(60) - 5}, buf); err != nil {
				t.Fatal(err)
			}
			m.announce(ih, p, ev, left, c.t.Unix())
		}
		if step%1000 == 0 {
			m.equal(t, tr)
		}
	}
	m.equal(t, tr)
}

// TestConcurrentInvariants hammers one tracker from several goroutines
// (run it with -race) and checks the bookkeeping afterwards.
func TestConcurrentInvariants(t *testing.T) {
	tr, _ := newTestTracker(NewMemoryPersister())
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 99))
			buf := make([]i2p.Hash, MaxPeersPerReply)
			for range 5000 {
				ih, p := info(rng.IntN(6)), peer(rng.IntN(300))
				req := AnnounceRequest{InfoHash: ih, Peer: p, Event: Event(rng.IntN(4)), Left: uint64(rng.IntN(2)), NumWant: 50}
				res, err := tr.Announce(&req, buf)
				if err != nil {
					t.Error(err)
					return
				}
				for _, q := range buf[:res.NumPeers] {
					if q == p || q.IsZero() {
						t.Error("reply lists the requester or a zero hash")
						return
					}
				}
				if rng.IntN(50) == 0 {
					tr.SweepStep()
					tr.Totals()
					tr.Busiest(0, 5)
				}
			}
		}()
	}
	wg.Wait()
	dump(t, tr)
}

// TestLongRun moves the clock across months, in steps both smaller and
// larger than the span of entry times, so the time base moves (in the
// sweep and in announces) and expiry stays exact.
func TestLongRun(t *testing.T) {
	tr, c := newTestTracker(nil)
	m := newModel()
	rng := rand.New(rand.NewPCG(21, 22))
	expiry := int64(tr.Config().PeerExpiry / time.Second)
	buf := make([]i2p.Hash, MaxPeersPerReply)
	for round := range 60 {
		if round%4 == 1 { // a jump the announces see before any sweep
			c.advance(60 * 24 * time.Hour)
		}
		for range 200 {
			c.advance(time.Duration(rng.IntN(30)) * time.Second)
			ih, p, left := info(rng.IntN(70)), peer(rng.IntN(100)), uint64(rng.IntN(2))
			if _, err := tr.Announce(&AnnounceRequest{InfoHash: ih, Peer: p, Left: left}, buf); err != nil {
				t.Fatal(err)
			}
			m.announce(ih, p, EventNone, left, c.t.Unix())
		}
		// Mostly days, sometimes more than the whole span of entry times.
		jump := time.Duration(rng.IntN(5*24)) * time.Hour
		if round%9 == 0 {
			jump = 60 * 24 * time.Hour
		}
		if round%2 == 0 {
			c.advance(time.Duration(rng.IntN(int(expiry))) * time.Second)
		} else {
			c.advance(jump)
		}
		if got, want := tr.Sweep(), m.expire(c.t.Unix(), expiry); got != want {
			t.Fatalf("round %d: swept %d, model %d", round, got, want)
		}
		m.equal(t, tr)
	}
}

// TestBusiestPages compares every page of Busiest with a full sort.
func TestBusiestPages(t *testing.T) {
	tr, _ := newTestTracker(nil)
	rng := rand.New(rand.NewPCG(31, 32))
	for range 3000 {
		announce(t, tr, info(rng.IntN(300)), peer(rng.IntN(200)), Event(rng.IntN(3)), uint64(rng.IntN(2)), 0)
	}
	all, total := tr.Busiest(0, 1<<20)
	if total != int(tr.Totals().Swarms) || len(all) != total {
		t.Fatalf("%d rows, total %d, swarms %d", len(all), total, tr.Totals().Swarms)
	}
	for i := 1; i < len(all); i++ {
		if busier(&all[i], &all[i-1]) {
			t.Fatalf("row %d busier than row %d", i, i-1)
		}
	}
	for _, page := range [][2]int{{0, 10}, {10, 10}, {95, 7}, {total - 3, 10}, {total, 5}, {total + 10, 5}, {-4, 3}, {0, 0}} {
		rows, n := tr.Busiest(page[0], page[1])
		lo := min(max(page[0], 0), total)
		hi := min(lo+max(page[1], 0), total)
		if n != total || !slices.Equal(rows, all[lo:hi]) {
			t.Fatalf("page %v: %d rows (total %d), want %d", page, len(rows), n, hi-lo)
		}
	}
	var scraped int
	tr.ScrapeAll(func(ih InfoHash, r ScrapeResult) bool {
		if r != tr.Scrape(ih) {
			t.Fatalf("ScrapeAll and Scrape disagree on %x", ih[:2])
		}
		scraped++
		return true
	})
	if scraped != total {
		t.Fatalf("ScrapeAll visited %d of %d", scraped, total)
	}
}

// TestCrowdedForgetsDownloadOnlySwarms: near MaxSwarms, the sweep drops
// swarms that only remember downloads (down to 7/8 of the limit), so new
// torrents are not locked out by old ones; with room to spare it keeps
// them.
func TestCrowdedForgetsDownloadOnlySwarms(t *testing.T) {
	mp := NewMemoryPersister()
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	tr := New(Config{Now: c.now, MaxSwarms: 16}, mp)
	for i := range 10 {
		announce(t, tr, info(i), peer(i), EventCompleted, 0, 0)
		announce(t, tr, info(i), peer(i), EventStopped, 0, 0)
	}
	tr.Sweep()
	if tot := tr.Totals(); tot.Swarms != 10 || tot.Completed != 10 {
		t.Fatalf("with room: %+v", tot)
	}
	for i := 10; i < 16; i++ { // two peers each: none is evicted
		announce(t, tr, info(i), peer(i), EventStarted, 1, 0)
		announce(t, tr, info(i), peer(i+100), EventStarted, 1, 0)
	}
	if _, err := tr.Announce(&AnnounceRequest{InfoHash: info(99), Peer: peer(99), Left: 1}, nil); err != ErrTooManySwarms {
		t.Fatalf("full tracker: %v", err)
	}
	tr.Sweep()
	if tot := tr.Totals(); tot.Swarms != 14 || tot.Completed != 8 || tr.Stats().Snapshot().Forgotten != 2 {
		t.Fatalf("crowded: %+v, forgotten %d", tot, tr.Stats().Snapshot().Forgotten)
	}
	if len(mp.completed) != 8 {
		t.Fatalf("journal keeps %d download counts, want 8", len(mp.completed))
	}
	announce(t, tr, info(99), peer(99), EventStarted, 1, 0)
	for range 3 { // sweeping again changes nothing
		tr.Sweep()
	}
	dump(t, tr)
	if tot := tr.Totals(); tot.Swarms != 14 || tr.Stats().Snapshot().Forgotten != 3 {
		t.Fatalf("after: %+v", tot)
	}
}
