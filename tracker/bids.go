package tracker

import (
	"bytes"
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// Bids (docs/bids.md): a peer may state a bid with its announce, ask for
// the peers with the highest bids, and a seeder may ask for the swarms
// with the highest bids. A bid is a hint the tracker passes on, never
// checked or settled here.

// BidChangeEvery is how often a peer's bid in one swarm may change.
const BidChangeEvery = 60 // seconds

// MaxBid is the highest bid: bencoded integers are signed 64-bit.
const MaxBid = 1<<63 - 1

// NoBidAge is the age a reply gives a peer without a bid.
const NoBidAge = ^uint32(0)

// BidConfig bounds the bid index; the zero value means defaults.
type BidConfig struct {
	On                 bool // serve bids from the start (SetBids changes it live)
	MaxBids            int  // bids held in all; default 1,000,000
	MaxBiddersPerSwarm int  // default 4,096
}

func (c *BidConfig) fill() {
	if c.MaxBids <= 0 {
		c.MaxBids = 1_000_000
	}
	if c.MaxBiddersPerSwarm <= 0 {
		c.MaxBiddersPerSwarm = 4096
	}
}

// BidAnnounce is an announce's bid part: what the client asked, and
// what the tracker answers beside the peers.
type BidAnnounce struct {
	HasBid bool   // the announce states a bid
	Bid    uint64 // BTT per MiB, at most MaxBid
	Top    bool   // order the first NumBid peers by highest bid
	NumBid int    // with Top; 0 or more than the reply holds: the whole reply

	// Applied: bids are on, and Peers holds the bid of each peer the
	// announce returned, in the same order (entries past them are
	// left as they were). The tracker sets Applied and Refused.
	Applied bool
	// Refused: the stated bid was not taken (a change sooner than
	// BidChangeEvery after the last, or the index full); any standing
	// bid stays.
	Refused bool
	Peers   [MaxPeersPerReply]PeerBid
}

// PeerBid is one returned peer's bid; Age is NoBidAge for none.
type PeerBid struct {
	Amount uint64
	Age    uint32 // seconds since the peer last stated it
}

// BidRecord is what the tracker persists about one bid.
type BidRecord struct {
	Info      InfoHash
	Peer      i2p.Hash
	Amount    uint64
	ChangedAt time.Time // when the amount last changed
	SeenAt    time.Time // when the peer last stated it
}

// BidPersister is what a Persister adds to keep bids across restarts;
// the journal methods follow Persister's rules. A bid is removed
// explicitly (its peer stopped or expired), and RestoreBids runs after
// Restore: a bid whose peer did not come back is removed again.
type BidPersister interface {
	BidChanged(b BidRecord)
	BidRemoved(info InfoHash, peer i2p.Hash)
	RestoreBids(ctx context.Context, fn func(BidRecord)) error
}

// BidReason names what became of a stated bid, for the counters.
type BidReason uint8

// What becomes of bids.
const (
	BidPlaced   BidReason = iota // a peer's first bid in a swarm
	BidChanged                   // a new amount
	BidTooSoon                   // a change refused: within BidChangeEvery
	BidFull                      // a bid refused: the index is full
	BidRemoved                   // with its peer's stopped event
	BidExpired                   // with its peer
	BidOrphaned                  // at restore: its peer did not come back
	numBidReasons
)

var bidNames = [numBidReasons]string{
	BidPlaced: "placed", BidChanged: "changed", BidTooSoon: "refused_too_soon", BidFull: "refused_full",
	BidRemoved: "removed", BidExpired: "expired", BidOrphaned: "orphaned",
}

// Names returns the reasons' names, indexed by reason.
func (BidReason) Names() []string { return bidNames[:] }

// bidBook is the tracker's bid index: per swarm shard, the swarms that
// have bids, under that shard's lock.
type bidBook struct {
	on     atomic.Bool
	cfg    BidConfig
	shards [swarmShards]map[InfoHash]*swarmBids
	held   atomic.Int64
	counts [numBidReasons]atomic.Uint64
}

func (b *bidBook) count(r BidReason) { b.counts[r].Add(1) }

// SetBids turns bid announces and bid scrapes on or off while serving.
// Off, bids are neither taken nor returned; standing ones stay until
// their peers stop or expire.
func (t *Tracker) SetBids(on bool) { t.bids.on.Store(on) }

// BidsEnabled reports whether bids are on.
func (t *Tracker) BidsEnabled() bool { return t.bids.on.Load() }

// BidStats are the bid index's counters and size.
type BidStats struct {
	Held   uint64
	Counts map[string]uint64
}

// BidStats returns the bid counters.
func (t *Tracker) BidStats() BidStats {
	out := BidStats{Held: uint64(max(t.bids.held.Load(), 0)), Counts: make(map[string]uint64, numBidReasons)}
	for i, n := range bidNames {
		out.Counts[n] = t.bids.counts[i].Load()
	}
	return out
}

// bidBytes estimates the memory of shard i's bids (locked): tables,
// top lists, and about 64 bytes of map entry and record a swarm.
func (t *Tracker) bidBytes(i int) int {
	n := 0
	for _, sb := range t.bids.shards[i] {
		n += 64 + sb.bidders.bytes() + 24*cap(sb.top)
	}
	return n
}

// shardNum is the number of the swarm shard for keyed hash hv.
func shardNum(hv uint64) int { return int((hv >> 32) % swarmShards) }

// swarmBidsOf returns the bids of sw in shard i, nil for none.
func (t *Tracker) swarmBidsOf(i int, sw *swarm) *swarmBids {
	m := t.bids.shards[i]
	if len(m) == 0 {
		return nil
	}
	return m[sw.info]
}

// addSwarmBids starts the bids of swarm info in shard i (locked).
func (t *Tracker) addSwarmBids(i int, info InfoHash) *swarmBids {
	if t.bids.shards[i] == nil {
		t.bids.shards[i] = map[InfoHash]*swarmBids{}
	}
	sb := newSwarmBids()
	t.bids.shards[i][info] = sb
	return sb
}

// bidding reports whether the announce req takes part in bids, and
// tells it so. Its Peers are written only as far as the reply goes.
func (t *Tracker) bidding(req *AnnounceRequest) bool {
	if req.Bids == nil {
		return false
	}
	req.Bids.Applied, req.Bids.Refused = t.bids.on.Load(), false
	return req.Bids.Applied
}

// member returns the announcing peer's index once the announce has
// been applied (noPeer: not a member) and, when bidding, the swarm's
// bids after taking the peer's bid (nil: none). Shard i is locked.
func (t *Tracker) member(i int, sw *swarm, pos int, req *AnnounceRequest, now int64, bidding bool) (uint32, *swarmBids) {
	self := noPeer
	if pos >= 0 {
		self = sw.entries[pos].peer()
	}
	if !bidding {
		return self, nil
	}
	sb := t.swarmBidsOf(i, sw)
	if self != noPeer && !req.ReadOnly && req.Bids.HasBid {
		sb = t.applyBid(i, sw, sb, self, req, now)
	}
	return self, sb
}

// applyBid takes the announcing peer's bid (it is a member, at index
// peer) and returns the swarm's bids (sb, or a new one). The swarm's
// shard i is locked.
func (t *Tracker) applyBid(i int, sw *swarm, sb *swarmBids, peer uint32, req *AnnounceRequest, now int64) *swarmBids {
	ba := req.Bids
	old, had := bidder{}, false
	if sb != nil {
		old, had = sb.bidders.get(peer)
	}
	switch {
	case had && old.amount == ba.Bid:
		sb.touch(peer, now)
		if old.seen/journalRefresh != now/journalRefresh {
			t.journalBid(req, ba.Bid, old.changed, now)
		}
		return sb
	case had && now-old.changed < BidChangeEvery:
		ba.Refused = true
		t.bids.count(BidTooSoon)
		return sb
	case !had && (t.bids.held.Load() >= int64(t.bids.cfg.MaxBids) || (sb != nil && sb.bidders.len() >= t.bids.cfg.MaxBiddersPerSwarm)):
		ba.Refused = true
		t.bids.count(BidFull)
		return sb
	}
	if sb == nil {
		sb = t.addSwarmBids(i, sw.info)
	}
	sb.put(peer, bidder{amount: ba.Bid, changed: now, seen: now})
	if had {
		t.bids.count(BidChanged)
	} else {
		t.bids.held.Add(1)
		t.bids.count(BidPlaced)
	}
	t.journalBid(req, ba.Bid, now, now)
	return sb
}

func (t *Tracker) journalBid(req *AnnounceRequest, amount uint64, changed, seen int64) {
	if bp, ok := t.persist.(BidPersister); ok {
		bp.BidChanged(BidRecord{Info: req.InfoHash, Peer: req.Peer, Amount: amount, ChangedAt: time.Unix(changed, 0), SeenAt: time.Unix(seen, 0)})
	}
}

// dropBid removes the bid of the member at index peer (hash h) when it
// leaves sw; shard i is locked. It journals the removal.
func (t *Tracker) dropBid(i int, sw *swarm, peer uint32, h *i2p.Hash, why BidReason) {
	sb := t.swarmBidsOf(i, sw)
	if sb == nil || !sb.remove(peer) {
		return
	}
	if sb.bidders.len() == 0 {
		delete(t.bids.shards[i], sw.info)
	}
	t.bids.held.Add(-1)
	t.bids.count(why)
	if bp, ok := t.persist.(BidPersister); ok {
		bp.BidRemoved(sw.info, *h)
	}
}

// orderByBid puts the highest bidders first in the n sampled peers
// (want of them asked) when the announce asks for it, and fills in the
// returned peers' bids. self is the announcing peer's index (noPeer:
// none). The sample is a uniform draw of min(want, peers) others, so
// after the k highest bidders it still holds want-k others to fill
// with. sb is the swarm's bids (nil: none); its shard sh is locked.
func (t *Tracker) orderByBid(sb *swarmBids, sh *swarmShard, req *AnnounceRequest, self uint32, sampled []uint32, n int, now int64) int {
	ba := req.Bids
	ranked := 0 // the peers from the top list, whose bids it holds
	if ba.Top && sb != nil && n > 0 {
		k := ba.NumBid
		if k <= 0 || k > n {
			k = n
		}
		var topBuf [MaxPeersPerReply]rankedBid
		top := sb.best(k, self, topBuf[:0])
		var restBuf [MaxPeersPerReply]uint32
		rest := restBuf[:0]
		var chosen peerSet
		for _, r := range top {
			chosen.add(r.peer)
		}
		for _, p := range sampled[:n] {
			if !chosen.has(p) {
				rest = append(rest, p)
			}
		}
		for j, r := range top {
			sampled[j] = r.peer
			ba.Peers[j] = PeerBid{Amount: r.amount, Age: bidAge(now, int64(r.seen))}
		}
		for j := len(rest) - 1; j > 0; j-- { // the draw's order is not random
			r := sh.rng.intN(j + 1)
			rest[j], rest[r] = rest[r], rest[j]
		}
		ranked = len(top)
		n = copy(sampled[ranked:n], rest) + ranked
	}
	for j := ranked; j < n; j++ {
		ba.Peers[j] = PeerBid{Age: NoBidAge}
		if sb != nil {
			if b, ok := sb.bidders.get(sampled[j]); ok {
				ba.Peers[j] = PeerBid{Amount: b.amount, Age: bidAge(now, b.seen)}
			}
		}
	}
	return n
}

// bidAge is the age of a bid last stated at seen, in NoBidAge's range.
func bidAge(now, seen int64) uint32 { return uint32(min(max(now-seen, 0), int64(NoBidAge-1))) }

// peerSet is a set of up to MaxPeersPerReply peer indices on the stack:
// open addressing over twice as many slots, index+1 stored (0: empty).
type peerSet [2 * MaxPeersPerReply]uint32

func (s *peerSet) slot(p uint32) int {
	i := int(peerHash(p)>>32) % len(s)
	for s[i] != 0 && s[i] != p+1 {
		i = (i + 1) % len(s)
	}
	return i
}

func (s *peerSet) add(p uint32)      { s[s.slot(p)] = p + 1 }
func (s *peerSet) has(p uint32) bool { return s[s.slot(p)] == p+1 }

// BidSwarm is one line of a bid scrape.
type BidSwarm struct {
	InfoHash InfoHash
	Best     uint64 // the highest bid
	Bidders  int
	Age      uint32 // seconds since the highest bidder stated its bid
}

// higherBid orders a bid scrape: the highest bid first, then the most
// recently stated, then by info hash.
func higherBid(a, b *BidSwarm) bool {
	if a.Best != b.Best {
		return a.Best > b.Best
	}
	if a.Age != b.Age {
		return a.Age < b.Age
	}
	return bytes.Compare(a.InfoHash[:], b.InfoHash[:]) < 0
}

// MaxBidScrape is the most swarms one bid scrape lists.
const MaxBidScrape = 200

// TopBids returns up to n swarms with bids, the highest first; with
// infos, only those swarms. ok is false when bids are off. It visits
// the swarms that have bids, one shard at a time, keeping the best n
// in a heap.
func (t *Tracker) TopBids(n int, infos []InfoHash) (out []BidSwarm, ok bool) {
	if !t.bids.on.Load() {
		return nil, false
	}
	n = min(max(n, 0), MaxBidScrape)
	now := t.now()
	top := best[BidSwarm]{n: n, better: higherBid}
	consider := func(info InfoHash, sb *swarmBids) {
		sb.ensure(1)
		if len(sb.top) == 0 {
			return
		}
		b, _ := sb.bidders.get(sb.top[0].peer)
		s := BidSwarm{InfoHash: info, Best: b.amount, Bidders: sb.bidders.len(), Age: uint32(min(max(now-b.seen, 0), int64(NoBidAge-1)))}
		top.offer(s)
	}
	if len(infos) > 0 {
		for _, info := range infos {
			hv := t.infoHash(&info)
			i := shardNum(hv)
			sh := &t.shards[i]
			sh.mu.Lock()
			if sb := t.bids.shards[i][info]; sb != nil && !slices.ContainsFunc(top.items, func(s BidSwarm) bool { return s.InfoHash == info }) {
				consider(info, sb)
			}
			sh.mu.Unlock()
		}
	} else {
		for i := range t.shards {
			sh := &t.shards[i]
			sh.mu.Lock()
			for info, sb := range t.bids.shards[i] {
				consider(info, sb)
			}
			sh.mu.Unlock()
		}
	}
	return top.sorted(), true
}

// restoreBids replays the persisted bids after the peers: a bid whose
// peer is not a member of its swarm is removed from the journal.
func (t *Tracker) restoreBids(ctx context.Context) error {
	bp, ok := t.persist.(BidPersister)
	if !ok {
		return nil
	}
	return bp.RestoreBids(ctx, func(b BidRecord) { t.restoreBid(bp, b) })
}

func (t *Tracker) restoreBid(bp BidPersister, b BidRecord) {
	hv := t.infoHash(&b.Info)
	i := shardNum(hv)
	sh := &t.shards[i]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sw, _ := sh.lookup(hv, &b.Info)
	idx := noPeer
	if sw != nil {
		if idx = t.peers.find(t.peers.hashOf(&b.Peer), &b.Peer); idx != noPeer && sw.find(idx) < 0 {
			idx = noPeer
		}
	}
	var sb *swarmBids
	had := false
	if idx != noPeer {
		if sb = t.swarmBidsOf(i, sw); sb != nil {
			_, had = sb.bidders.get(idx)
		}
	}
	if idx == noPeer || b.Amount > MaxBid || (!had && t.bids.held.Load() >= int64(t.bids.cfg.MaxBids)) {
		bp.BidRemoved(b.Info, b.Peer)
		t.bids.count(BidOrphaned)
		return
	}
	if sb == nil {
		sb = t.addSwarmBids(i, sw.info)
	}
	if !had {
		t.bids.held.Add(1)
	}
	sb.put(idx, bidder{amount: b.Amount, changed: b.ChangedAt.Unix(), seen: b.SeenAt.Unix()})
}
