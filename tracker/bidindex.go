package tracker

import "slices"

// swarmBids is one swarm's bids: every bidder by peer index, and top,
// the best bidders in bid order. top is always a prefix of all bidders
// sorted by bid (no bidder outside it ranks above its last), at most
// topCap long, so a reply reads the highest bids without sorting; it
// refills from the bidders only when an announce needs more of it than
// removals have left, at least topCap-MaxPeersPerReply removals apart.
type swarmBids struct {
	bidders bidTable
	top     []rankedBid
}

// topCap bounds a swarm's top list: twice what one reply can ask for.
const topCap = 2 * MaxPeersPerReply

// bidder is one peer's standing bid: its amount, when it last changed,
// and when the peer last stated it (unix seconds).
type bidder struct {
	amount        uint64
	changed, seen int64
}

// rankedBid is a bidder as the top list orders it, with when it was
// last stated (not part of the order), so a reply takes the highest
// bids from the list alone.
type rankedBid struct {
	amount  uint64
	changed int64
	peer    uint32
	seen    uint32
}

// outranks is the bid order: the higher amount first; between equal
// amounts the older bid, then the lower peer index (a total order).
func outranks(a, b *rankedBid) bool {
	if a.amount != b.amount {
		return a.amount > b.amount
	}
	if a.changed != b.changed {
		return a.changed < b.changed
	}
	return a.peer < b.peer
}

func rankCmp(a, b rankedBid) int {
	switch {
	case outranks(&a, &b):
		return -1
	case outranks(&b, &a):
		return 1
	}
	return 0
}

func newSwarmBids() *swarmBids { return &swarmBids{} }

func ranked(peer uint32, b bidder) rankedBid {
	return rankedBid{amount: b.amount, changed: b.changed, peer: peer, seen: uint32(b.seen)}
}

// inTop returns the position of r in top, or -1: by the prefix rule r
// is in top exactly when it does not rank below top's last.
func (s *swarmBids) inTop(r rankedBid) int {
	n := len(s.top)
	if n == 0 || outranks(&s.top[n-1], &r) {
		return -1
	}
	i, found := slices.BinarySearchFunc(s.top, r, rankCmp)
	if !found {
		return -1
	}
	return i
}

// put sets peer's bid to b, replacing any bid it had.
func (s *swarmBids) put(peer uint32, b bidder) {
	if old, ok := s.bidders.get(peer); ok {
		s.dropRank(ranked(peer, old))
	}
	s.bidders.set(peer, b)
	r := ranked(peer, b)
	others := s.bidders.len() - 1 - len(s.top) // bidders outside top, r aside
	n := len(s.top)
	if others > 0 && (n == 0 || !outranks(&r, &s.top[n-1])) {
		return // r ranks below top's last: it stays outside, and top stays a prefix
	}
	i, _ := slices.BinarySearchFunc(s.top, r, rankCmp)
	s.top = slices.Insert(s.top, i, r)
	if len(s.top) > topCap {
		s.top = s.top[:topCap]
	}
}

// touch records that peer, which has a bid, stated it again at now.
func (s *swarmBids) touch(peer uint32, now int64) {
	b, ok := s.bidders.get(peer)
	if !ok {
		return
	}
	if i := s.inTop(ranked(peer, b)); i >= 0 {
		s.top[i].seen = uint32(now)
	}
	s.bidders.setSeen(peer, now)
}

// remove forgets peer's bid and reports whether it had one.
func (s *swarmBids) remove(peer uint32) bool {
	b, ok := s.bidders.get(peer)
	if !ok {
		return false
	}
	s.dropRank(ranked(peer, b))
	s.bidders.del(peer)
	return true
}

func (s *swarmBids) dropRank(r rankedBid) {
	if i := s.inTop(r); i >= 0 {
		s.top = slices.Delete(s.top, i, i+1)
	}
}

// ensure makes top hold at least k bidders, or all there are (k ≤ topCap).
func (s *swarmBids) ensure(k int) {
	if len(s.top) >= k || len(s.top) == s.bidders.len() {
		return
	}
	all := make([]rankedBid, 0, s.bidders.len())
	s.bidders.each(func(p uint32, b bidder) { all = append(all, ranked(p, b)) })
	slices.SortFunc(all, rankCmp)
	s.top = append(s.top[:0], all[:min(len(all), topCap)]...)
}

// best appends to out the k highest bidders but skip (noPeer: none),
// in bid order.
func (s *swarmBids) best(k int, skip uint32, out []rankedBid) []rankedBid {
	s.ensure(min(k+1, topCap))
	for _, r := range s.top {
		if len(out) == k {
			break
		}
		if r.peer != skip {
			out = append(out, r)
		}
	}
	return out
}
