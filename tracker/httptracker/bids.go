package httptracker

import (
	"encoding/binary"
	"strconv"

	"github.com/go-i2p/go-opentracker/internal/bencode"
	"github.com/go-i2p/go-opentracker/tracker"
)

// Bidder is what the swarm model offers for bids (docs/bids.md);
// *tracker.Tracker implements it. A Swarms without it serves no bids.
type Bidder interface {
	BidsEnabled() bool
	TopBids(n int, infos []tracker.InfoHash) ([]tracker.BidSwarm, bool)
}

// IsBidsPath reports whether p is the bid-scrape path.
func IsBidsPath(p string) bool { return p == "/bids" }

// DefaultBidScrape is how many swarms a bid scrape lists without n.
const DefaultBidScrape = 50

// bidParams are an announce's raw bid parameters: read only when bids
// are on, so with them off the announce is what it was without them.
type bidParams struct {
	bid, bids, numBid string
	given             bool
}

func (b *bidParams) set(key, value string) {
	b.given = true
	switch key {
	case "bid":
		b.bid = value
	case "bids":
		b.bids = value
	case "numbid":
		b.numBid = value
	}
}

var (
	errBadBid  = newFailure(FailMalformed, "bid must be a non-negative integer of at most 9223372036854775807")
	errBadBids = newFailure(FailMalformed, "bids must be top")
	errNumBid  = newFailure(FailMalformed, "numbid must be a non-negative integer")
)

// parse fills ba's request fields from the parameters (the reply's
// are the tracker's to write).
func (b *bidParams) parse(ba *tracker.BidAnnounce) error {
	ba.HasBid, ba.Bid, ba.Top, ba.NumBid = false, 0, false, 0
	if b.bid != "" {
		v, err := strconv.ParseUint(b.bid, 10, 64)
		if err != nil || v > tracker.MaxBid {
			return errBadBid
		}
		ba.HasBid, ba.Bid = true, v
	}
	switch b.bids {
	case "":
	case "top":
		ba.Top = true
	default:
		return errBadBids
	}
	if b.numBid != "" {
		v, err := strconv.Atoi(b.numBid)
		if err != nil || v < 0 {
			return errNumBid
		}
		ba.NumBid = v
	}
	return nil
}

func (h *Handler) bidsOn() bool { return h.bidder != nil && h.bidder.BidsEnabled() }

// appendCompactBids appends the compact reply's bid keys, which sort
// before "complete": "bid ages", n big-endian u32 ages, and "bids", n
// big-endian u64 amounts, parallel to the peers.
func appendCompactBids(dst []byte, ba *tracker.BidAnnounce, n int) []byte {
	dst = append(dst, "8:bid ages"...)
	dst = strconv.AppendInt(dst, int64(4*n), 10)
	dst = append(dst, ':')
	for i := range n {
		dst = binary.BigEndian.AppendUint32(dst, ba.Peers[i].Age)
	}
	dst = append(dst, "4:bids"...)
	dst = strconv.AppendInt(dst, int64(8*n), 10)
	dst = append(dst, ':')
	for i := range n {
		dst = binary.BigEndian.AppendUint64(dst, ba.Peers[i].Amount)
	}
	return dst
}

// appendPeerBid appends a non-compact peer's bid keys, which sort
// before "ip"; a peer without a bid has none.
func appendPeerBid(dst []byte, pb *tracker.PeerBid) []byte {
	if pb.Age == tracker.NoBidAge {
		return dst
	}
	dst = append(dst, "3:bid"...)
	dst = bencode.AppendInt(dst, int64(pb.Amount))
	dst = append(dst, "7:bid age"...)
	return bencode.AppendInt(dst, int64(pb.Age))
}

// bidScrape answers /bids: the swarms with the highest bids, or those
// of the info_hash parameters, the highest first.
func (h *Handler) bidScrape(dst []byte, r *Request) []byte {
	h.stats.bidScrapes.Add(1)
	if err := h.admitScrape(r); err != nil {
		return h.fail(dst, "bid scrape", err)
	}
	var q scrapeQuery
	if err := parseScrapeQuery(r.RawQuery, &q); err != nil {
		return h.fail(dst, "bid scrape", err)
	}
	n := DefaultBidScrape
	err := forEachParam(r.RawQuery, func(key, value string) error {
		if key != "n" {
			return nil
		}
		v, err := strconv.Atoi(value)
		if err != nil || v < 0 {
			return errBadNumber
		}
		n = min(v, tracker.MaxBidScrape)
		return nil
	})
	if err != nil {
		return h.fail(dst, "bid scrape", err)
	}
	infos := make([]tracker.InfoHash, q.n)
	for i := range q.n {
		infos[i] = q.hashes[i]
	}
	rows, _ := h.bidder.TopBids(n, infos)
	// Keys sorted: age, bid, bidders, info_hash.
	dst = append(dst, "d6:swarmsl"...)
	for _, s := range rows {
		dst = append(dst, "d3:age"...)
		dst = bencode.AppendInt(dst, int64(s.Age))
		dst = append(dst, "3:bid"...)
		dst = bencode.AppendInt(dst, int64(s.Best))
		dst = append(dst, "7:bidders"...)
		dst = bencode.AppendInt(dst, int64(s.Bidders))
		dst = append(dst, "9:info_hash20:"...)
		dst = append(dst, s.InfoHash[:]...)
		dst = append(dst, 'e')
	}
	return append(dst, "ee"...)
}
