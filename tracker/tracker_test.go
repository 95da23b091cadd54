package tracker

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestTracker(p Persister) (*Tracker, *clock) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	return New(Config{Now: c.now, Rand: rand.New(rand.NewPCG(1, 2))}, p), c
}

func peer(i int) i2p.Hash { return i2p.HashOf([]byte(fmt.Sprint("peer", i))) }
func info(i int) InfoHash { var h InfoHash; h[0], h[1] = byte(i), byte(i>>8); h[19] = 1; return h }

func announce(t *testing.T, tr *Tracker, in InfoHash, p i2p.Hash, ev Event, left uint64, want int) (AnnounceResult, []i2p.Hash) {
	t.Helper()
	buf := make([]i2p.Hash, MaxPeersPerReply)
	res, err := tr.Announce(&AnnounceRequest{InfoHash: in, Peer: p, Event: ev, Left: left, NumWant: want}, buf)
	if err != nil {
		t.Fatal(err)
	}
	return res, buf[:res.NumPeers]
}

func TestAnnounceSemantics(t *testing.T) {
	tr, _ := newTestTracker(nil)
	ih := info(1)
	res, peers := announce(t, tr, ih, peer(1), EventStarted, 100, -1)
	if res.Leechers != 1 || res.Seeders != 0 || len(peers) != 0 || res.Interval != 1620 {
		t.Fatalf("first announce %+v %d peers", res, len(peers))
	}
	res, peers = announce(t, tr, ih, peer(2), EventStarted, 0, -1)
	if res.Leechers != 1 || res.Seeders != 1 || len(peers) != 1 || peers[0] != peer(1) {
		t.Fatalf("seed sees the leecher: %+v %v", res, peers)
	}
	// A seed gets leechers first: a second seed asking for one peer
	// gets peer 1, the leecher.
	_, peers = announce(t, tr, ih, peer(3), EventNone, 0, 1)
	if len(peers) != 1 || peers[0] != peer(1) {
		t.Fatalf("seed got a seed before the leecher: %v", peers)
	}
	// A leecher gets everyone but itself.
	_, peers = announce(t, tr, ih, peer(1), EventNone, 50, -1)
	if len(peers) != 2 || peers[0] == peer(1) || peers[1] == peer(1) {
		t.Fatalf("leecher sample %v", peers)
	}
	// Completed turns a leecher into a seed and counts one download, once.
	announce(t, tr, ih, peer(1), EventCompleted, 0, 0)
	announce(t, tr, ih, peer(1), EventCompleted, 0, 0)
	if s := tr.Scrape(ih); s.Seeders != 3 || s.Leechers != 0 || s.Completed != 1 {
		t.Fatalf("after completed: %+v", s)
	}
	// Stopped removes the peer and returns no peers.
	res, peers = announce(t, tr, ih, peer(2), EventStopped, 0, -1)
	if len(peers) != 0 || res.Seeders != 2 {
		t.Fatalf("stopped: %+v %v", res, peers)
	}
	checkNumWant(t, tr, ih)
	checkReadOnly(t, tr, ih)
}

// checkNumWant: num_want 0 returns counts only; 200 is capped at 50; a
// zero peer is refused.
func checkNumWant(t *testing.T, tr *Tracker, ih InfoHash) {
	t.Helper()
	if _, peers := announce(t, tr, ih, peer(4), EventStarted, 1, 0); len(peers) != 0 {
		t.Fatal("num_want 0 returned peers")
	}
	for i := 10; i < 100; i++ {
		announce(t, tr, ih, peer(i), EventStarted, 1, 0)
	}
	if _, peers := announce(t, tr, ih, peer(5), EventStarted, 1, 200); len(peers) != MaxPeersPerReply {
		t.Fatalf("num_want 200 gave %d", len(peers))
	}
	if _, err := tr.Announce(&AnnounceRequest{InfoHash: ih}, nil); err != ErrZeroPeer {
		t.Fatalf("zero peer: %v", err)
	}
}

// checkReadOnly: a read-only announce changes nothing, and the totals
// match the swarm.
func checkReadOnly(t *testing.T, tr *Tracker, ih InfoHash) {
	t.Helper()
	before := tr.Scrape(ih)
	buf := make([]i2p.Hash, 50)
	if _, err := tr.Announce(&AnnounceRequest{InfoHash: ih, Peer: peer(999), Left: 1, NumWant: 5, ReadOnly: true}, buf); err != nil {
		t.Fatal(err)
	}
	if tr.Scrape(ih) != before {
		t.Fatal("read-only announce changed the swarm")
	}
	tot := tr.Totals()
	if tot.Swarms != 1 || tot.Peers != uint64(before.Seeders+before.Leechers) {
		t.Fatalf("totals %+v", tot)
	}
}

func TestLimits(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	tr := New(Config{Now: c.now, MaxSwarms: 2, MaxPeersPerSwarm: 2, MaxSwarmsPerPeer: 2}, nil)
	buf := make([]i2p.Hash, 1)
	try := func(ih InfoHash, p i2p.Hash) error {
		_, err := tr.Announce(&AnnounceRequest{InfoHash: ih, Peer: p, Left: 1}, buf)
		return err
	}
	if try(info(1), peer(1)) != nil || try(info(1), peer(2)) != nil {
		t.Fatal("within limits refused")
	}
	if err := try(info(1), peer(3)); err != ErrSwarmFull {
		t.Fatalf("third peer: %v", err)
	}
	if try(info(2), peer(1)) != nil || try(info(2), peer(2)) != nil {
		t.Fatal("second swarm refused")
	}
	// Full, and no swarm of a single peer to evict.
	if err := try(info(3), peer(4)); err != ErrTooManySwarms {
		t.Fatalf("third swarm: %v", err)
	}
	tr2 := New(Config{Now: c.now, MaxSwarmsPerPeer: 2}, nil)
	for i := range 2 {
		if _, err := tr2.Announce(&AnnounceRequest{InfoHash: info(i), Peer: peer(1), Left: 1}, buf); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tr2.Announce(&AnnounceRequest{InfoHash: info(5), Peer: peer(1), Left: 1}, buf); err != ErrPeerInTooMany {
		t.Fatalf("peer in a third swarm: %v", err)
	}
	snap := tr.Stats().Snapshot()
	if snap.Refused["swarm_full"] != 1 || snap.Refused["too_many_swarms"] != 1 {
		t.Fatalf("refusals %v", snap.Refused)
	}
}

func TestExpiry(t *testing.T) {
	tr, c := newTestTracker(nil)
	announce(t, tr, info(1), peer(1), EventStarted, 1, 0)
	c.advance(20 * time.Minute)
	announce(t, tr, info(1), peer(2), EventStarted, 0, 0)
	announce(t, tr, info(2), peer(1), EventStarted, 0, 0)
	c.advance(25 * time.Minute) // peer 1's first announce is now 45 min old (> 40.5)
	if n := tr.Sweep(); n != 1 {
		t.Fatalf("swept %d, want 1", n)
	}
	if s := tr.Scrape(info(1)); s.Leechers != 0 || s.Seeders != 1 {
		t.Fatalf("after sweep %+v", s)
	}
	c.advance(time.Hour)
	tr.Sweep()
	if tot := tr.Totals(); tot.Swarms != 0 || tot.Peers != 0 {
		t.Fatalf("everything should have expired: %+v", tot)
	}
}

func TestRestore(t *testing.T) {
	mp := NewMemoryPersister()
	tr, c := newTestTracker(mp)
	for i := range 20 {
		announce(t, tr, info(i%3), peer(i), EventStarted, uint64(i%2), 0)
	}
	announce(t, tr, info(0), peer(0), EventCompleted, 0, 0)
	announce(t, tr, info(1), peer(1), EventStopped, 0, 0)
	d := newDest(t)
	tr.RememberDestination(d)

	c.advance(10 * time.Minute) // a restart ten minutes later
	tr2 := New(Config{Now: c.now}, mp)
	if err := tr2.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if a, b := tr.Scrape(info(i)), tr2.Scrape(info(i)); a != b {
			t.Fatalf("swarm %d: before %+v after %+v", i, a, b)
		}
	}
	if _, ok := tr2.AppendDestination(nil, d.Hash()); ok {
		t.Fatal("destination restored with the swarms: it should wait for RestoreDestinations")
	}
	if n, err := tr2.RestoreDestinations(context.Background()); err != nil || n != 1 {
		t.Fatalf("RestoreDestinations: %d, %v", n, err)
	}
	if _, ok := tr2.AppendDestination(nil, d.Hash()); !ok {
		t.Fatal("destination cache not restored")
	}
	// Restored peers keep their age: 31 more minutes expire them.
	c.advance(31 * time.Minute)
	if n := tr2.Sweep(); n != 19 {
		t.Fatalf("expired %d restored peers, want 19", n)
	}
	// Peers that expired while down are not restored.
	tr3 := New(Config{Now: c.now}, mp)
	if err := tr3.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	if tot := tr3.Totals(); tot.Peers != 0 || tot.Completed != 1 {
		t.Fatalf("restore after expiry: %+v", tot)
	}
}

// TestProperties runs a long random sequence of operations and checks
// invariants after each: counts match membership, a peer never receives
// itself, replies stay within 50 peers.
func TestProperties(t *testing.T) {
	tr, c := newTestTracker(NewMemoryPersister())
	rng := rand.New(rand.NewPCG(7, 8))
	buf := make([]i2p.Hash, MaxPeersPerReply)
	model := swarmModel{}
	for step := range 20000 {
		req := &AnnounceRequest{InfoHash: info(rng.IntN(8)), Peer: peer(rng.IntN(120)), Event: Event(rng.IntN(4)),
			Left: uint64(rng.IntN(3)), NumWant: rng.IntN(80) - 10}
		res, err := tr.Announce(req, buf)
		if err != nil {
			t.Fatal(err)
		}
		sw := model.apply(req)
		if err := sw.check(req, res, buf[:res.NumPeers]); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if step%1000 == 0 {
			c.advance(time.Second)
		}
	}
	var entries uint64
	for _, sw := range model {
		entries += uint64(len(sw))
	}
	if tot := tr.Totals(); tot.Entries != entries {
		t.Fatalf("entries %d, model %d", tot.Entries, entries)
	}
}

// swarmModel is what TestProperties expects the tracker to hold: for each
// swarm, its peers and whether each is a seed.
type swarmModel map[InfoHash]modelSwarm

type modelSwarm map[i2p.Hash]bool

// apply records an announce and returns the swarm it went to.
func (m swarmModel) apply(req *AnnounceRequest) modelSwarm {
	sw := m[req.InfoHash]
	if sw == nil {
		sw = modelSwarm{}
		m[req.InfoHash] = sw
	}
	if req.Event == EventStopped {
		delete(sw, req.Peer)
	} else {
		sw[req.Peer] = isSeed(req)
	}
	return sw
}

func isSeed(req *AnnounceRequest) bool { return req.Left == 0 || req.Event == EventCompleted }

// counts returns the swarm's seeds and leechers.
func (sw modelSwarm) counts() (seeds, leechers uint32) {
	for _, s := range sw {
		if s {
			seeds++
		} else {
			leechers++
		}
	}
	return seeds, leechers
}

// check compares the tracker's reply to req with the model's swarm.
func (sw modelSwarm) check(req *AnnounceRequest, res AnnounceResult, peers []i2p.Hash) error {
	seeds, leechers := sw.counts()
	if res.Seeders != seeds || res.Leechers != leechers {
		return fmt.Errorf("counts %d/%d, model %d/%d", res.Seeders, res.Leechers, seeds, leechers)
	}
	if res.NumPeers > MaxPeersPerReply || 20+32*res.NumPeers > 4096 {
		return fmt.Errorf("%d peers", res.NumPeers)
	}
	sentSeeds, sentLeechers, err := sw.checkPeers(req.Peer, peers)
	if err != nil {
		return err
	}
	// A seed gets leechers first: seeds only once every leecher is in.
	if isSeed(req) && sentSeeds > 0 && sentLeechers != leechers {
		return fmt.Errorf("a seed was sent %d seeds but %d of %d leechers", sentSeeds, sentLeechers, leechers)
	}
	want := req.NumWant
	if want < 0 {
		want = 50
	}
	others := len(sw)
	if _, in := sw[req.Peer]; in {
		others--
	}
	if req.Event != EventStopped && res.NumPeers != min(want, others, 50) {
		return fmt.Errorf("%d peers, expected %d", res.NumPeers, min(want, others, 50))
	}
	return nil
}

// checkPeers requires the peers sent to p to be distinct members of the
// swarm other than p, and counts the seeds and leechers among them.
func (sw modelSwarm) checkPeers(p i2p.Hash, peers []i2p.Hash) (seeds, leechers uint32, err error) {
	seen := map[i2p.Hash]bool{}
	for _, q := range peers {
		if q == p {
			return 0, 0, errors.New("peer received itself")
		}
		if seen[q] {
			return 0, 0, errors.New("duplicate peer in reply")
		}
		seen[q] = true
		s, ok := sw[q]
		if !ok {
			return 0, 0, errors.New("reply lists a peer not in the swarm")
		}
		if s {
			seeds++
		} else {
			leechers++
		}
	}
	return seeds, leechers, nil
}

func TestBusiest(t *testing.T) {
	tr, _ := newTestTracker(nil)
	for s := range 5 {
		for p := range s + 1 {
			announce(t, tr, info(s), peer(p), EventStarted, 1, 0)
		}
	}
	rows, total := tr.Busiest(0, 2)
	if total != 5 || len(rows) != 2 || rows[0].InfoHash != info(4) || rows[1].InfoHash != info(3) {
		t.Fatalf("busiest %v %d", rows, total)
	}
	rows, _ = tr.Busiest(4, 10)
	if len(rows) != 1 || rows[0].InfoHash != info(0) {
		t.Fatalf("last page %v", rows)
	}
	n := 0
	tr.ScrapeAll(func(InfoHash, ScrapeResult) bool { n++; return n < 3 })
	if n != 3 {
		t.Fatalf("ScrapeAll stopped after %d", n)
	}
}

func TestDestinationCacheClock(t *testing.T) {
	mp := NewMemoryPersister()
	now := time.Unix(1_800_000_000, 0)
	c := newDestinationCache(2*destShards, mp, func() time.Time { return now })
	// Three Destinations that fall in one shard of two slots.
	var same []i2p.Destination
	for len(same) < 3 {
		d := newDest(t)
		if h, h0 := d.Hash(), same0(same); len(same) == 0 || c.shard(c.hashOf(&h)) == c.shard(c.hashOf(&h0)) {
			same = append(same, d)
		}
	}
	a, b, d := same[0], same[1], same[2]
	if !c.Put(a) || !c.Put(b) || c.Put(a) {
		t.Fatal("Put journals new Destinations only")
	}
	if _, ok := c.AppendDestination(nil, a.Hash()); !ok {
		t.Fatal("a not cached")
	}
	c.Put(d) // b was not used since the hand passed: it goes
	if _, ok := c.AppendDestination(nil, b.Hash()); ok {
		t.Fatal("unused entry not evicted")
	}
	if got, ok := c.AppendDestination(nil, a.Hash()); !ok || !bytes.Equal(got, a.Bytes()) || c.Len() != 2 {
		t.Fatal("used entry evicted")
	}
	if len(mp.dests) != 3 {
		t.Fatalf("%d journaled", len(mp.dests))
	}
	// Still in use a day later: journaled again, so a store's TTL keeps it.
	now = now.Add(25 * time.Hour)
	if !c.Put(a) {
		t.Fatal("not journaled again after a day")
	}
	// A restore never evicts; restored entries are journaled again when
	// next seen.
	if c.restore(b); c.Len() != 2 {
		t.Fatal("a restore into a full shard evicted")
	}
	if _, ok := c.AppendDestination(nil, b.Hash()); ok {
		t.Fatal("a restore into a full shard evicted")
	}
	c2 := newDestinationCache(2*destShards, mp, func() time.Time { return now })
	if full := c2.restore(b); full {
		t.Fatal("one entry fills the cache")
	}
	if _, ok := c2.AppendDestination(nil, b.Hash()); !ok || !c2.Put(b) || c2.Put(b) {
		t.Fatal("restored entry")
	}
	for range 40 {
		c.Put(newDest(t))
	}
	if n := c.Len(); n > 2*destShards {
		t.Fatalf("cache holds %d, bound %d", n, 2*destShards)
	}
}

func same0(ds []i2p.Destination) i2p.Hash {
	if len(ds) == 0 {
		return i2p.Hash{}
	}
	return ds[0].Hash()
}

// TestRestoreDestinationsStopsWhenFull: warming the cache reads the
// journal only until the cache is full, and evicts nothing.
func TestRestoreDestinationsStopsWhenFull(t *testing.T) {
	// 1,000 journaled for 16 shards of two: that a shard gets fewer than
	// two is about 1e-25 likely (with 200 it was 6e-4, and CI met it).
	const journaled = 1000
	mp := NewMemoryPersister()
	for range journaled {
		mp.DestinationSeen(newDest(t))
	}
	tr := New(Config{DestinationCache: 2 * destShards}, mp)
	n, err := tr.RestoreDestinations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.Destinations().Len(); got != 2*destShards || n >= journaled || n < got {
		t.Fatalf("read %d of %d, cached %d (capacity %d)", n, journaled, got, 2*destShards)
	}
}

// TestCacheDestinationIsNotJournaled: a Destination the router looked up
// is cached but not journaled, until its peer connects itself.
func TestCacheDestinationIsNotJournaled(t *testing.T) {
	mp := NewMemoryPersister()
	tr, _ := newTestTracker(mp)
	d := newDest(t)
	tr.CacheDestination(d)
	if _, ok := tr.AppendDestination(nil, d.Hash()); !ok {
		t.Fatal("not cached")
	}
	if len(mp.dests) != 0 {
		t.Fatal("a looked-up Destination was journaled")
	}
	tr.RememberDestination(d)
	if len(mp.dests) != 1 {
		t.Fatal("not journaled when its peer connected")
	}
}

// TestDestinationCacheLongForm: a Destination whose padding is random
// (before 0.9.57) has no short compact form and takes the slot's long
// path; it reads back whole, and its slot serves an inline one after an
// eviction, and the other way round.
func TestDestinationCacheLongForm(t *testing.T) {
	c := newDestinationCache(2*destShards, nil, time.Now)
	randomPadded := func() i2p.Destination {
		raw := newDest(t).Bytes()
		crand.Read(raw[:352]) // the public-key field and the signing key's padding
		d, _, err := i2p.ParseDestination(raw)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.AppendCompact(nil)) <= 80 {
			t.Fatal("the random-padded Destination compacts short")
		}
		return d
	}
	// Four Destinations in one shard of two slots: long, short, long, short.
	var same []i2p.Destination
	for len(same) < 4 {
		d := newDest(t)
		if len(same)%2 == 0 {
			d = randomPadded()
		}
		if h, h0 := d.Hash(), same0(same); len(same) == 0 || c.shard(c.hashOf(&h)) == c.shard(c.hashOf(&h0)) {
			same = append(same, d)
		}
	}
	for i, d := range same {
		c.Put(d)
		got, ok := c.AppendDestination(nil, d.Hash())
		if !ok || !bytes.Equal(got, d.Bytes()) {
			t.Fatalf("Destination %d (long form %v) does not read back", i, i%2 == 0)
		}
	}
	if c.Len() != 2 {
		t.Fatalf("%d cached in two slots", c.Len())
	}
}
