// Package persisttest checks a tracker.Persister against the contract
// the tracker relies on.
//
// Each implementation's tests call Run with a Harness that opens it; the
// same cases then hold every implementation to the same behaviour.
package persisttest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker"
)

// Harness opens the Persister under test.
type Harness struct {
	// Open returns an empty Persister; the test's cleanup closes it.
	Open func(t *testing.T) tracker.Persister
	// Reopen ends p as a clean shutdown would and opens the same state
	// again, as the next start does. For a Persister without anything
	// to reopen it returns p.
	Reopen func(t *testing.T, p tracker.Persister) tracker.Persister
}

// Run runs every case against the Persister h opens.
func Run(t *testing.T, h Harness) {
	cases := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"EmptyRestoresNothing", emptyRestoresNothing},
		{"PeersRoundTrip", peersRoundTrip},
		{"LastUpdateWins", lastUpdateWins},
		{"RemovedPeersStayGone", removedPeersStayGone},
		{"CompletedCounts", completedCounts},
		{"Destinations", destinations},
		{"RestoreDestinationsStops", restoreDestinationsStops},
		{"ConcurrentJournal", concurrentJournal},
	}
	cases = append(cases, bidCases...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, h) })
	}
}

// collector is a tracker.Restorer that records what it is given; peers
// may come from several goroutines at once.
type collector struct {
	mu        sync.Mutex
	peers     map[[2]string]tracker.PeerRecord
	completed map[tracker.InfoHash]uint64
	expectAt  int // how many peers had come when ExpectPeers was called; -1: not called
	dupes     int // peers restored more than once
}

func newCollector() *collector {
	return &collector{peers: map[[2]string]tracker.PeerRecord{}, completed: map[tracker.InfoHash]uint64{}, expectAt: -1}
}

func (c *collector) RestorePeer(p tracker.PeerRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := key(p.Info, p.Peer)
	if _, ok := c.peers[k]; ok {
		c.dupes++
	}
	c.peers[k] = p
}

func (c *collector) RestoreCompleted(info tracker.InfoHash, n uint64) {
	c.mu.Lock()
	c.completed[info] = n
	c.mu.Unlock()
}

func (c *collector) ExpectPeers(int) {
	c.mu.Lock()
	c.expectAt = len(c.peers)
	c.mu.Unlock()
}

func key(info tracker.InfoHash, peer i2p.Hash) [2]string {
	return [2]string{string(info[:]), string(peer[:])}
}

// restore reopens p and replays its swarms.
func restore(t *testing.T, h Harness, p tracker.Persister) (tracker.Persister, *collector) {
	t.Helper()
	p = h.Reopen(t, p)
	c := newCollector()
	if err := p.Restore(context.Background(), c); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if c.dupes > 0 {
		t.Errorf("Restore gave %d peers twice", c.dupes)
	}
	if c.expectAt > 0 {
		t.Errorf("ExpectPeers called after %d peers, want before the first", c.expectAt)
	}
	return p, c
}

// infoN and peerN are distinct non-zero keys, one for each n.
func infoN(n uint64) (h tracker.InfoHash) { number(h[:], n); return h }
func peerN(n uint64) (h i2p.Hash)         { number(h[:], n); return h }

func number(b []byte, n uint64) {
	binary.BigEndian.PutUint64(b, n)
	b[len(b)-1] = 0x5a
}

// now is a recent time at the second resolution PeerRecord keeps.
func now() time.Time { return time.Now().Truncate(time.Second) }

func emptyRestoresNothing(t *testing.T, h Harness) {
	_, c := restore(t, h, h.Open(t))
	if len(c.peers) != 0 || len(c.completed) != 0 {
		t.Fatalf("an empty persister restored %d peers and %d counts", len(c.peers), len(c.completed))
	}
}

func peersRoundTrip(t *testing.T, h Harness) {
	p := h.Open(t)
	seen := now()
	want := map[[2]string]tracker.PeerRecord{}
	for i := range uint64(60) {
		r := tracker.PeerRecord{Info: infoN(i % 4), Peer: peerN(i), LastSeen: seen.Add(-time.Duration(i) * time.Second),
			Seed: i%3 == 0, Completed: i%5 == 0}
		p.PeerUpdated(r)
		want[key(r.Info, r.Peer)] = r
	}
	_, c := restore(t, h, p)
	if len(c.peers) != len(want) {
		t.Fatalf("restored %d peers, want %d", len(c.peers), len(want))
	}
	for k, w := range want {
		got, ok := c.peers[k]
		if !ok {
			t.Fatalf("peer %x in %x not restored", w.Peer[:8], w.Info[:4])
		}
		if got.Seed != w.Seed || got.Completed != w.Completed || !got.LastSeen.Equal(w.LastSeen) {
			t.Fatalf("peer restored as %+v, journaled as %+v", got, w)
		}
	}
}

func lastUpdateWins(t *testing.T, h Harness) {
	p := h.Open(t)
	seen := now()
	info, peer := infoN(1), peerN(1)
	p.PeerUpdated(tracker.PeerRecord{Info: info, Peer: peer, LastSeen: seen.Add(-time.Minute)})
	p.PeerUpdated(tracker.PeerRecord{Info: info, Peer: peer, LastSeen: seen, Seed: true, Completed: true})
	// The same peer in another swarm is another record.
	p.PeerUpdated(tracker.PeerRecord{Info: infoN(2), Peer: peer, LastSeen: seen})
	_, c := restore(t, h, p)
	got, ok := c.peers[key(info, peer)]
	if len(c.peers) != 2 || !ok || !got.Seed || !got.Completed || !got.LastSeen.Equal(seen) {
		t.Fatalf("restored %d records, the updated one as %+v (found %v)", len(c.peers), got, ok)
	}
}

func removedPeersStayGone(t *testing.T, h Harness) {
	p := h.Open(t)
	seen := now()
	for i := range uint64(10) {
		p.PeerUpdated(tracker.PeerRecord{Info: infoN(1), Peer: peerN(i), LastSeen: seen})
	}
	p.PeerRemoved(infoN(1), peerN(3))
	p.PeerRemoved(infoN(1), peerN(99)) // never journaled: nothing to do
	p.PeerRemoved(infoN(2), peerN(4))  // another swarm: peer 4 stays
	p, c := restore(t, h, p)
	if _, ok := c.peers[key(infoN(1), peerN(3))]; ok || len(c.peers) != 9 {
		t.Fatalf("restored %d peers (removed one among them: %v), want 9", len(c.peers), ok)
	}
	// Removed after a restart, and journaled again after its removal.
	p.PeerRemoved(infoN(1), peerN(5))
	p.PeerRemoved(infoN(1), peerN(6))
	p.PeerUpdated(tracker.PeerRecord{Info: infoN(1), Peer: peerN(6), LastSeen: seen})
	_, c = restore(t, h, p)
	_, gone := c.peers[key(infoN(1), peerN(5))]
	_, back := c.peers[key(infoN(1), peerN(6))]
	if gone || !back || len(c.peers) != 8 {
		t.Fatalf("restored %d peers, want 8 (peer 5 back: %v, peer 6 back: %v)", len(c.peers), gone, back)
	}
}

func completedCounts(t *testing.T, h Harness) {
	p := h.Open(t)
	p.CompletedChanged(infoN(1), 3)
	p.CompletedChanged(infoN(1), 5)
	p.CompletedChanged(infoN(2), 1<<40)
	p.CompletedChanged(infoN(3), 7)
	p.CompletedChanged(infoN(3), 0)
	_, c := restore(t, h, p)
	if c.completed[infoN(1)] != 5 || c.completed[infoN(2)] != 1<<40 {
		t.Fatalf("restored counts %d and %d, want 5 and %d", c.completed[infoN(1)], c.completed[infoN(2)], uint64(1)<<40)
	}
	// A count set back to zero is restored as zero or not at all.
	if n := c.completed[infoN(3)]; n != 0 {
		t.Fatalf("a count set to 0 restored as %d", n)
	}
}

func newDestinations(t *testing.T, n int) []i2p.Destination {
	t.Helper()
	out := make([]i2p.Destination, n)
	for i := range out {
		k, err := i2p.NewIdentity(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = k.Destination
	}
	return out
}

func destinations(t *testing.T, h Harness) {
	p := h.Open(t)
	ds := newDestinations(t, 4)
	for _, d := range ds {
		p.DestinationSeen(d)
	}
	p.DestinationSeen(ds[0]) // seen again: still one
	p = h.Reopen(t, p)
	got := map[i2p.Hash]i2p.Destination{}
	calls := 0
	err := p.RestoreDestinations(context.Background(), func(d i2p.Destination) bool {
		calls++
		got[d.Hash()] = d
		return true
	})
	if err != nil {
		t.Fatalf("RestoreDestinations: %v", err)
	}
	if calls != len(ds) || len(got) != len(ds) {
		t.Fatalf("restored %d Destinations in %d calls, want %d", len(got), calls, len(ds))
	}
	for _, d := range ds {
		if g, ok := got[d.Hash()]; !ok || !g.Equal(d) {
			t.Fatalf("Destination %s not restored as journaled", d.B32())
		}
	}
}

func restoreDestinationsStops(t *testing.T, h Harness) {
	p := h.Open(t)
	for _, d := range newDestinations(t, 5) {
		p.DestinationSeen(d)
	}
	p = h.Reopen(t, p)
	n := 0
	err := p.RestoreDestinations(context.Background(), func(i2p.Destination) bool { n++; return n < 2 })
	if err != nil || n != 2 {
		t.Fatalf("called fn %d times after it asked to stop at 2 (err %v)", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.RestoreDestinations(ctx, func(i2p.Destination) bool { return true }); err != nil {
		t.Fatalf("ending through ctx gave an error: %v", err)
	}
}

// concurrentJournal: the announce path journals from many goroutines.
func concurrentJournal(t *testing.T, h Harness) {
	p := h.Open(t)
	seen := now()
	const writers, each = 4, 200
	var wg sync.WaitGroup
	for w := range uint64(writers) {
		wg.Go(func() {
			for i := range uint64(each) {
				n := w*each + i
				p.PeerUpdated(tracker.PeerRecord{Info: infoN(n % 8), Peer: peerN(n), LastSeen: seen})
				if i%10 == 0 {
					p.PeerRemoved(infoN(n%8), peerN(n))
				}
				p.CompletedChanged(infoN(w), i+1)
			}
		})
	}
	wg.Wait()
	_, c := restore(t, h, p)
	if want := writers * (each - each/10); len(c.peers) != want {
		t.Fatalf("restored %d peers, want %d", len(c.peers), want)
	}
	for w := range uint64(writers) {
		if c.completed[infoN(w)] != each {
			t.Fatalf("writer %d's count restored as %d, want %d", w, c.completed[infoN(w)], each)
		}
	}
}
