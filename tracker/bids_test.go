package tracker

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// TestSwarmBidsMatchesSort drives the top list with random puts and
// removals and checks every answer against a sort of all bidders.
func TestSwarmBidsMatchesSort(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		sb := newSwarmBids()
		model := map[uint32]bidder{}
		peers := 1 + rng.IntN(400)
		for step := range 3000 {
			p := uint32(rng.IntN(peers))
			switch r := rng.IntN(10); {
			case r < 5:
				b := bidder{amount: uint64(rng.IntN(50)), changed: int64(rng.IntN(1000)), seen: int64(step)}
				sb.put(p, b)
				model[p] = b
			case r < 6:
				if b, ok := model[p]; ok {
					sb.touch(p, int64(step))
					b.seen = int64(step)
					model[p] = b
				}
			case r < 9:
				_, had := model[p]
				if sb.remove(p) != had {
					t.Fatalf("seed %d step %d: remove(%d) disagrees with the model (had %v)", seed, step, p, had)
				}
				delete(model, p)
			default:
				k := rng.IntN(MaxPeersPerReply + 1)
				skip := noPeer
				if rng.IntN(2) == 0 {
					skip = uint32(rng.IntN(peers))
				}
				var got []uint32
				for _, r := range sb.best(k, skip, nil) {
					got = append(got, r.peer)
					if b, _ := sb.bidders.get(r.peer); b != (bidder{r.amount, r.changed, int64(r.seen)}) {
						t.Fatalf("seed %d step %d: top holds %+v for %+v", seed, step, r, b)
					}
				}
				if want := bruteBest(model, k, skip); !slices.Equal(got, want) {
					t.Fatalf("seed %d step %d: best(%d) = %v, want %v", seed, step, k, got, want)
				}
			}
			if sb.bidders.len() != len(model) || len(sb.top) > topCap {
				t.Fatalf("seed %d step %d: %d bidders (model %d), top %d", seed, step, sb.bidders.len(), len(model), len(sb.top))
			}
		}
	}
}

func bruteBest(model map[uint32]bidder, k int, skip uint32) []uint32 {
	var all []rankedBid
	for p, b := range model {
		if p != skip {
			all = append(all, ranked(p, b))
		}
	}
	slices.SortFunc(all, func(a, b rankedBid) int {
		switch {
		case a.amount != b.amount:
			return -cmpU(a.amount, b.amount)
		case a.changed != b.changed:
			return int(a.changed - b.changed)
		}
		return int(a.peer) - int(b.peer)
	})
	var out []uint32
	for _, r := range all[:min(k, len(all))] {
		out = append(out, r.peer)
	}
	return out
}

func cmpU(a, b uint64) int {
	if a < b {
		return -1
	}
	return 1
}

func bidTracker(p Persister) (*Tracker, *clock) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	return New(Config{Now: c.now, Rand: rand.New(rand.NewPCG(1, 2)), Bids: BidConfig{On: true}}, p), c
}

func bidAnnounce(t *testing.T, tr *Tracker, in InfoHash, p i2p.Hash, ev Event, ba *BidAnnounce, want int) ([]i2p.Hash, *BidAnnounce) {
	t.Helper()
	buf := make([]i2p.Hash, MaxPeersPerReply)
	res, err := tr.Announce(&AnnounceRequest{InfoHash: in, Peer: p, Event: ev, Left: 1, NumWant: want, Bids: ba}, buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:res.NumPeers], ba
}

func TestBidOrdering(t *testing.T) {
	tr, clk := bidTracker(nil)
	ih := info(1)
	for i := range 30 {
		ba := &BidAnnounce{}
		if i%3 == 0 {
			ba = &BidAnnounce{HasBid: true, Bid: uint64(i * 10)}
		}
		bidAnnounce(t, tr, ih, peer(i), EventStarted, ba, 0)
		clk.advance(time.Second)
	}
	got, ba := bidAnnounce(t, tr, ih, peer(100), EventStarted, &BidAnnounce{Top: true, NumBid: 4}, 10)
	if len(got) != 10 || !ba.Applied {
		t.Fatalf("got %d peers (applied %v), want 10", len(got), ba.Applied)
	}
	for j, want := range []int{27, 24, 21, 18} {
		if got[j] != peer(want) || ba.Peers[j].Amount != uint64(want*10) {
			t.Fatalf("peer %d is %x with bid %d, want peer %d bidding %d", j, got[j][:4], ba.Peers[j].Amount, want, want*10)
		}
	}
	if age := ba.Peers[0].Age; age != uint32(30-27) {
		t.Fatalf("highest bid's age %d s, want 3", age)
	}
	seen := map[i2p.Hash]bool{}
	for j, p := range got {
		if seen[p] {
			t.Fatalf("peer %x returned twice", p[:4])
		}
		seen[p] = true
		if j >= 4 && ba.Peers[j].Age != NoBidAge && ba.Peers[j].Amount > 170 {
			t.Fatalf("a filled-in peer outbids the top four: %+v", ba.Peers[j])
		}
	}
	// Off: nothing is taken or returned, and the reply is the same draw.
	tr.SetBids(false)
	_, ba = bidAnnounce(t, tr, ih, peer(101), EventStarted, &BidAnnounce{HasBid: true, Bid: 999, Top: true}, 5)
	if ba.Applied || tr.BidStats().Held != 10 {
		t.Fatalf("bids off: applied %v, held %d", ba.Applied, tr.BidStats().Held)
	}
}

// TestBidsOffChangesNothing: with bids off, an announce with bid
// parameters gets the counts and peers one without them gets (as sets:
// each tracker draws with its own generators).
func TestBidsOffChangesNothing(t *testing.T) {
	plain, _ := newTestTracker(nil)
	off, _ := bidTracker(nil)
	off.SetBids(false)
	for i := range 80 {
		ih := info(i % 3)
		a, pa := announce(t, plain, ih, peer(i), EventStarted, uint64(i%2), MaxPeersPerReply)
		buf := make([]i2p.Hash, MaxPeersPerReply)
		ba := &BidAnnounce{HasBid: true, Bid: uint64(i), Top: true}
		b, err := off.Announce(&AnnounceRequest{InfoHash: ih, Peer: peer(i), Event: EventStarted, Left: uint64(i % 2), NumWant: MaxPeersPerReply, Bids: ba}, buf)
		pb := buf[:b.NumPeers]
		slices.SortFunc(pa, func(x, y i2p.Hash) int { return bytes.Compare(x[:], y[:]) })
		slices.SortFunc(pb, func(x, y i2p.Hash) int { return bytes.Compare(x[:], y[:]) })
		if err != nil || a != b || !slices.Equal(pa, pb) || ba.Applied {
			t.Fatalf("announce %d: %+v %v vs %+v (applied %v, err %v)", i, a, pa, b, ba.Applied, err)
		}
	}
}

func TestBidOncePerMinute(t *testing.T) {
	mp := NewMemoryPersister()
	tr, clk := bidTracker(mp)
	ih := info(2)
	bid := func(amount uint64) *BidAnnounce {
		_, ba := bidAnnounce(t, tr, ih, peer(1), EventNone, &BidAnnounce{HasBid: true, Bid: amount}, 0)
		return ba
	}
	if ba := bid(100); ba.Refused {
		t.Fatal("first bid refused")
	}
	clk.advance(59 * time.Second)
	if ba := bid(200); !ba.Refused {
		t.Fatal("a change after 59 s was taken")
	}
	if ba := bid(100); ba.Refused {
		t.Fatal("restating the standing bid was refused")
	}
	clk.advance(time.Second)
	if ba := bid(200); ba.Refused {
		t.Fatal("a change after 60 s was refused")
	}
	st := tr.BidStats()
	if st.Counts["refused_too_soon"] != 1 || st.Counts["changed"] != 1 || st.Counts["placed"] != 1 || st.Held != 1 {
		t.Fatalf("counters %+v", st)
	}
	got, _ := tr.TopBids(10, nil)
	if len(got) != 1 || got[0].Best != 200 || got[0].Bidders != 1 {
		t.Fatalf("bid scrape %+v", got)
	}
	// Stopped removes the bid, from memory and the journal.
	bidAnnounce(t, tr, ih, peer(1), EventStopped, nil, 0)
	if tr.BidStats().Held != 0 || mp.Bids() != 0 {
		t.Fatalf("after stopped: %d bids held, %d journaled", tr.BidStats().Held, mp.Bids())
	}
}

func TestBidsExpireWithPeer(t *testing.T) {
	mp := NewMemoryPersister()
	tr, clk := bidTracker(mp)
	bidAnnounce(t, tr, info(3), peer(1), EventStarted, &BidAnnounce{HasBid: true, Bid: 7}, 0)
	bidAnnounce(t, tr, info(3), peer(2), EventStarted, &BidAnnounce{HasBid: true, Bid: 8}, 0)
	clk.advance(tr.Config().PeerExpiry / 2)
	bidAnnounce(t, tr, info(3), peer(2), EventNone, nil, 0) // keeps peer 2, bid untouched
	clk.advance(tr.Config().PeerExpiry/2 + time.Second)
	if n := tr.Sweep(); n != 1 {
		t.Fatalf("swept %d peers, want 1", n)
	}
	got, _ := tr.TopBids(5, nil)
	if tr.BidStats().Held != 1 || mp.Bids() != 1 || len(got) != 1 || got[0].Best != 8 {
		t.Fatalf("after expiry: %d held, %d journaled, scrape %+v", tr.BidStats().Held, mp.Bids(), got)
	}
	// Peer 2 announced without restating its bid: the bid ages.
	if want := uint32((tr.Config().PeerExpiry + time.Second) / time.Second); got[0].Age != want {
		t.Fatalf("bid age %d s, want %d", got[0].Age, want)
	}
}

func TestBidsRestore(t *testing.T) {
	mp := NewMemoryPersister()
	tr, clk := bidTracker(mp)
	for i := range 5 {
		bidAnnounce(t, tr, info(4), peer(i), EventStarted, &BidAnnounce{HasBid: true, Bid: uint64(i)}, 0)
	}
	// A bid journaled for a peer the journal does not have: an orphan.
	mp.BidChanged(BidRecord{Info: info(9), Peer: peer(9), Amount: 1, ChangedAt: clk.t, SeenAt: clk.t})
	tr2, _ := bidTracker(mp)
	if err := tr2.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := tr2.TopBids(10, nil)
	if len(got) != 1 || got[0].Best != 4 || got[0].Bidders != 5 || mp.Bids() != 5 {
		t.Fatalf("restored scrape %+v, %d journaled", got, mp.Bids())
	}
	if tr2.BidStats().Counts["orphaned"] != 1 {
		t.Fatalf("orphans %d", tr2.BidStats().Counts["orphaned"])
	}
}

// TestBidTableMatchesMap checks the open-addressed table (removal by
// backward shift, the filter) against a Go map under random changes.
func TestBidTableMatchesMap(t *testing.T) {
	for seed := range uint64(10) {
		rng := rand.New(rand.NewPCG(seed, 3))
		var tb bidTable
		model := map[uint32]bidder{}
		keys := uint32(1 + rng.IntN(2000))
		for step := range 20000 {
			p := uint32(rng.IntN(int(keys)))
			if rng.IntN(5) < 3 {
				b := bidder{amount: rng.Uint64() >> 1, changed: int64(step), seen: int64(step)}
				tb.set(p, b)
				model[p] = b
			} else {
				_, had := model[p]
				if tb.del(p) != had {
					t.Fatalf("seed %d step %d: del(%d) disagrees", seed, step, p)
				}
				delete(model, p)
			}
			q := uint32(rng.IntN(int(keys)))
			got, ok := tb.get(q)
			want, wok := model[q]
			if ok != wok || got != want || tb.len() != len(model) {
				t.Fatalf("seed %d step %d: get(%d) = %+v %v, want %+v %v (len %d, %d)", seed, step, q, got, ok, want, wok, tb.len(), len(model))
			}
		}
		n := 0
		tb.each(func(p uint32, b bidder) {
			n++
			if model[p] != b {
				t.Fatalf("seed %d: each gave %d %+v, model %+v", seed, p, b, model[p])
			}
		})
		if n != len(model) {
			t.Fatalf("seed %d: each visited %d, want %d", seed, n, len(model))
		}
	}
}
