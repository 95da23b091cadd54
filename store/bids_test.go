package store

import (
	"context"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker"
)

// TestBidsSurviveRestart runs a tracker with bids on a real Badger
// directory, closes it, and starts another on the same directory: the
// bids come back, a stopped peer's does not, and neither does a bid
// whose peer expired while the tracker was down.
func TestBidsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	at := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return at }
	cfg := tracker.Config{Now: clock, Bids: tracker.BidConfig{On: true}}
	s := open(t, dir, Options{Now: clock})
	tr := tracker.New(cfg, s)
	var info, other tracker.InfoHash
	info[0], other[0] = 1, 2
	buf := make([]i2p.Hash, tracker.MaxPeersPerReply)
	ann := func(tr *tracker.Tracker, in tracker.InfoHash, p int, ev tracker.Event, ba *tracker.BidAnnounce) {
		t.Helper()
		if _, err := tr.Announce(&tracker.AnnounceRequest{InfoHash: in, Peer: hashN(uint64(p)), Event: ev, Left: 1, NumWant: -1, Bids: ba}, buf); err != nil {
			t.Fatal(err)
		}
	}
	for p := range 4 {
		ann(tr, info, p, tracker.EventStarted, &tracker.BidAnnounce{HasBid: true, Bid: uint64(100 * (p + 1))})
	}
	ann(tr, other, 9, tracker.EventStarted, &tracker.BidAnnounce{HasBid: true, Bid: 7})
	ann(tr, info, 3, tracker.EventStopped, nil) // its bid of 400 goes with it
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, dir, Options{Now: clock})
	defer s.Close()
	tr = tracker.New(cfg, s)
	if err := tr.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := tr.TopBids(10, nil)
	if len(got) != 2 || got[0].InfoHash != info || got[0].Best != 300 || got[0].Bidders != 3 || got[1].Best != 7 {
		t.Fatalf("after restart: %+v", got)
	}
	// The restored bids keep their once-a-minute clock.
	ba := &tracker.BidAnnounce{HasBid: true, Bid: 999}
	ann(tr, info, 2, tracker.EventNone, ba)
	if !ba.Refused {
		t.Fatal("a restored bid changed within its minute")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Down for longer than the peer expiry: the peers and their bids
	// are gone, and the orphaned bid records are removed.
	at = at.Add(2 * tr.Config().PeerExpiry)
	s = open(t, dir, Options{Now: clock})
	tr = tracker.New(cfg, s)
	if err := tr.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := tr.TopBids(10, nil); len(got) != 0 || tr.BidStats().Counts["orphaned"] != 4 {
		t.Fatalf("after the expiry: %+v, %d orphaned", got, tr.BidStats().Counts["orphaned"])
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := s.RestoreBids(context.Background(), func(tracker.BidRecord) { n++ }); err != nil || n != 0 {
		t.Fatalf("%d bid records left on disk (err %v)", n, err)
	}
	s.Close()
}
