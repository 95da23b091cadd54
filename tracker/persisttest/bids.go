package persisttest

import (
	"context"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/tracker"
)

// bidCases are the cases for a Persister that keeps bids.
var bidCases = []struct {
	name string
	fn   func(*testing.T, Harness)
}{
	{"BidsRoundTrip", bidsRoundTrip},
	{"BidLastChangeWins", bidLastChangeWins},
	{"RemovedBidsStayGone", removedBidsStayGone},
}

func bidPersister(t *testing.T, p tracker.Persister) tracker.BidPersister {
	t.Helper()
	bp, ok := p.(tracker.BidPersister)
	if !ok {
		t.Skip("the Persister keeps no bids")
	}
	return bp
}

func restoreBids(t *testing.T, h Harness, p tracker.Persister) (tracker.Persister, map[[2]string]tracker.BidRecord) {
	t.Helper()
	p = h.Reopen(t, p)
	got := map[[2]string]tracker.BidRecord{}
	if err := bidPersister(t, p).RestoreBids(context.Background(), func(b tracker.BidRecord) {
		k := key(b.Info, b.Peer)
		if _, dup := got[k]; dup {
			t.Errorf("bid of %x restored twice", b.Peer[:8])
		}
		got[k] = b
	}); err != nil {
		t.Fatalf("RestoreBids: %v", err)
	}
	return p, got
}

func bidsRoundTrip(t *testing.T, h Harness) {
	p := h.Open(t)
	bp := bidPersister(t, p)
	seen := now()
	want := map[[2]string]tracker.BidRecord{}
	for i := range uint64(40) {
		b := tracker.BidRecord{Info: infoN(i % 3), Peer: peerN(i), Amount: i * 1000,
			ChangedAt: seen.Add(-time.Duration(i) * time.Minute), SeenAt: seen.Add(-time.Duration(i) * time.Second)}
		if i == 7 {
			b.Amount = tracker.MaxBid
		}
		bp.BidChanged(b)
		want[key(b.Info, b.Peer)] = b
	}
	_, got := restoreBids(t, h, p)
	if len(got) != len(want) {
		t.Fatalf("restored %d bids, want %d", len(got), len(want))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok || g.Amount != w.Amount || !g.ChangedAt.Equal(w.ChangedAt) || !g.SeenAt.Equal(w.SeenAt) {
			t.Fatalf("bid restored as %+v (found %v), journaled as %+v", g, ok, w)
		}
	}
}

func bidLastChangeWins(t *testing.T, h Harness) {
	p := h.Open(t)
	bp := bidPersister(t, p)
	seen := now()
	bp.BidChanged(tracker.BidRecord{Info: infoN(1), Peer: peerN(1), Amount: 5, ChangedAt: seen, SeenAt: seen})
	bp.BidChanged(tracker.BidRecord{Info: infoN(1), Peer: peerN(1), Amount: 9, ChangedAt: seen.Add(time.Minute), SeenAt: seen.Add(time.Minute)})
	bp.BidChanged(tracker.BidRecord{Info: infoN(2), Peer: peerN(1), Amount: 3, ChangedAt: seen, SeenAt: seen})
	_, got := restoreBids(t, h, p)
	if b := got[key(infoN(1), peerN(1))]; len(got) != 2 || b.Amount != 9 || !b.ChangedAt.Equal(seen.Add(time.Minute)) {
		t.Fatalf("restored %d bids, the changed one as %+v", len(got), b)
	}
}

func removedBidsStayGone(t *testing.T, h Harness) {
	p := h.Open(t)
	bp := bidPersister(t, p)
	seen := now()
	for i := range uint64(6) {
		bp.BidChanged(tracker.BidRecord{Info: infoN(1), Peer: peerN(i), Amount: i + 1, ChangedAt: seen, SeenAt: seen})
	}
	bp.BidRemoved(infoN(1), peerN(2))
	bp.BidRemoved(infoN(2), peerN(3)) // another swarm: the bid stays
	p, got := restoreBids(t, h, p)
	if _, ok := got[key(infoN(1), peerN(2))]; ok || len(got) != 5 {
		t.Fatalf("restored %d bids (the removed one among them: %v), want 5", len(got), ok)
	}
	// Removed after a restart; a removed bid placed again comes back.
	bp = bidPersister(t, p)
	bp.BidRemoved(infoN(1), peerN(4))
	bp.BidRemoved(infoN(1), peerN(5))
	bp.BidChanged(tracker.BidRecord{Info: infoN(1), Peer: peerN(5), Amount: 50, ChangedAt: seen, SeenAt: seen})
	_, got = restoreBids(t, h, p)
	_, gone := got[key(infoN(1), peerN(4))]
	if gone || got[key(infoN(1), peerN(5))].Amount != 50 || len(got) != 4 {
		t.Fatalf("restored %d bids, want 4 (removed one back: %v, re-placed one %+v)", len(got), gone, got[key(infoN(1), peerN(5))])
	}
}
