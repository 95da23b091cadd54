package tracker

import (
	"fmt"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// BenchmarkAnnounceBids re-announces peers of a swarm (10 and 1000
// peers) in which every other peer bids: without bid parameters (bids
// off, then on), restating a bid (the reply then carries every returned
// peer's bid), and restating it while asking for the highest bidders
// first.
func BenchmarkAnnounceBids(b *testing.B) {
	for _, size := range []int{10, 1000} {
		b.Run(fmt.Sprintf("swarm-%d", size), func(b *testing.B) { benchAnnounceBids(b, size) })
	}
}

func benchAnnounceBids(b *testing.B, size int) {
	for _, c := range []struct {
		name     string
		on       bool
		bid, top bool
	}{{"off", false, false, false}, {"on-no-params", true, false, false}, {"on-bid", true, true, false}, {"on-bid-top", true, true, true}} {
		b.Run(c.name, func(b *testing.B) {
			at := time.Unix(1_800_000_000, 0)
			tr := New(Config{Now: func() time.Time { return at }, Bids: BidConfig{On: true}}, nil)
			buf := make([]i2p.Hash, MaxPeersPerReply)
			ih := benchInfo(1)
			for i := range size {
				req := AnnounceRequest{InfoHash: ih, Peer: benchPeer(i), Left: uint64(i % 3)}
				if i%2 == 0 {
					req.Bids = &BidAnnounce{HasBid: true, Bid: uint64(i * 7 % 1013)}
				}
				tr.Announce(&req, buf)
			}
			tr.SetBids(c.on)
			var ba BidAnnounce
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p := i % size
				req := AnnounceRequest{InfoHash: ih, Peer: benchPeer(p), Left: 1, NumWant: -1}
				if c.bid {
					ba.HasBid, ba.Bid, ba.Top = p%2 == 0, uint64(p*7%1013), c.top
					req.Bids = &ba
				}
				tr.Announce(&req, buf)
				i++
			}
		})
	}
}
