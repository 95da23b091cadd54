package tracker

import (
	"github.com/go-i2p/go-opentracker/i2p"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/tracker/ratelimit"
)

// TestFullTableEvictsHeavyCreators: a few Destinations fill the table
// with torrents of one peer each; new torrents of other peers are still
// accepted, each evicting one of the heavy creators' swarms, never the
// swarm many peers share; the evictions are counted and journaled.
func TestFullTableEvictsHeavyCreators(t *testing.T) {
	mp := NewMemoryPersister()
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	tr := New(Config{Now: c.now, MaxSwarms: 100, SwarmCreations: ratelimit.Limit{PerMinute: 1, Burst: 40}}, mp)
	popular := info(9999)
	for i := range 3 {
		announce(t, tr, popular, peer(9000+i), EventStarted, 1, 0)
	}
	for i := range 99 { // three heavy creators, 33 torrents each
		announce(t, tr, info(i), peer(i%3), EventStarted, 1, 0)
	}
	if tot := tr.Totals(); tot.Swarms != 100 {
		t.Fatalf("%d swarms, want a full table of 100", tot.Swarms)
	}
	for i := range 30 { // newcomers, one new torrent each
		if _, err := tr.Announce(&AnnounceRequest{InfoHash: info(1000 + i), Peer: peer(5000 + i), Left: 1}, nil); err != nil {
			t.Fatalf("newcomer %d refused: %v", i, err)
		}
	}
	tot := tr.Totals()
	if tot.Swarms != 100 || tr.Stats().Snapshot().Evicted != 30 {
		t.Fatalf("%d swarms, %d evicted; want 100 and 30", tot.Swarms, tr.Stats().Snapshot().Evicted)
	}
	swarms, _ := dump(t, tr)
	if len(swarms[popular]) != 3 {
		t.Fatalf("the shared swarm has %d peers, want 3", len(swarms[popular]))
	}
	for i := range 30 {
		if len(swarms[info(1000+i)]) != 1 {
			t.Fatalf("newcomer %d's torrent evicted", i)
		}
	}
	if n := mp.Peers(); n != 3+99-30+30 {
		t.Fatalf("journal holds %d peers, want %d", n, 3+99)
	}
	// A heavy creator may not evict.
	if _, err := tr.Announce(&AnnounceRequest{InfoHash: info(4242), Peer: peer(0), Left: 1}, nil); err != ErrTooManySwarms {
		t.Fatalf("heavy creator in a full table: %v", err)
	}
}

// TestSwarmCreationsBounded: one peer creates at most its burst of new
// swarms at once, then one per interval; joining swarms is not bounded.
func TestSwarmCreationsBounded(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	tr := New(Config{Now: c.now, SwarmCreations: ratelimit.Limit{PerMinute: 1, Burst: 5}}, nil)
	for i := range 5 {
		announce(t, tr, info(i), peer(1), EventStarted, 1, 0)
	}
	if _, err := tr.Announce(&AnnounceRequest{InfoHash: info(5), Peer: peer(1), Left: 1}, nil); err != ErrCreatingFast {
		t.Fatalf("sixth new swarm: %v", err)
	}
	announce(t, tr, info(0), peer(2), EventStarted, 1, 0) // joining
	c.t = c.t.Add(time.Minute)
	announce(t, tr, info(5), peer(1), EventStarted, 1, 0)
	if n := tr.Stats().Snapshot().Refused["creating_swarms_too_fast"]; n != 1 {
		t.Fatalf("%d refusals counted, want 1", n)
	}
	tr.SetSwarmCreations(ratelimit.Limit{})
	for i := range 100 {
		announce(t, tr, info(100+i), peer(1), EventStarted, 1, 0)
	}
}

// denyNone is an access list that allows everything.
type denyNone struct{}

func (denyNone) TorrentAllowed(InfoHash) bool { return true }
func (denyNone) PeerAllowed(i2p.Hash) bool    { return true }

// TestAccessListAllocatesNothing: consulting an access list does not
// move the request to the heap.
func TestAccessListAllocatesNothing(t *testing.T) {
	tr := New(Config{}, nil)
	tr.SetAccessList(denyNone{})
	buf := make([]i2p.Hash, MaxPeersPerReply)
	ih, p := info(1), peer(1)
	announce(t, tr, ih, p, EventStarted, 1, 0)
	if n := testing.AllocsPerRun(100, func() {
		tr.Announce(&AnnounceRequest{InfoHash: ih, Peer: p, Left: 1}, buf)
	}); n != 0 {
		t.Fatalf("%v allocations an announce", n)
	}
}
