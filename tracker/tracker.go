package tracker

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// MaxPeersPerReply caps every peer list: 20 + 50 × 32 = 1620 bytes over
// UDP, two tunnel messages, always far below 4 KB.
const MaxPeersPerReply = 50

// Event is an announce event, numbered as BEP 15 numbers them.
type Event uint32

// The announce events.
const (
	EventNone      Event = 0
	EventCompleted Event = 1
	EventStarted   Event = 2
	EventStopped   Event = 3
)

// Config sets the tracker's behaviour; the zero value means defaults.
type Config struct {
	Interval    time.Duration // announce interval told to clients; default 1620 s
	PeerExpiry  time.Duration // default 1.5 × Interval
	DefaultWant int           // peers for a negative num_want; default 50

	MaxSwarms        int // default 1,000,000
	MaxPeersPerSwarm int // default 100,000
	MaxSwarmsPerPeer int // default 2,000

	// DestinationCache bounds the hash → Destination cache; default 200,000.
	DestinationCache int

	Now    func() time.Time
	Rand   *rand.Rand // seeds the per-shard generators; default random
	Logger *slog.Logger
}

func (c *Config) fill() {
	if c.Interval <= 0 {
		c.Interval = 1620 * time.Second
	}
	if c.PeerExpiry <= 0 {
		c.PeerExpiry = c.Interval * 3 / 2
	}
	if c.DefaultWant <= 0 || c.DefaultWant > MaxPeersPerReply {
		c.DefaultWant = MaxPeersPerReply
	}
	if c.MaxSwarms <= 0 {
		c.MaxSwarms = 1_000_000
	}
	if c.MaxPeersPerSwarm <= 0 {
		c.MaxPeersPerSwarm = 100_000
	}
	if c.MaxSwarmsPerPeer <= 0 {
		c.MaxSwarmsPerPeer = 2_000
	}
	if c.DestinationCache <= 0 {
		c.DestinationCache = 200_000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Errors an announce can be refused with; transports send their text.
var (
	ErrTooManySwarms = errors.New("tracker is tracking too many torrents")
	ErrSwarmFull     = errors.New("torrent has too many peers")
	ErrPeerInTooMany = errors.New("peer is in too many torrents")
	ErrPeerTableFull = errors.New("tracker has too many peers")
	ErrZeroPeer      = errors.New("zero peer hash")
)

// Tracker is the swarm model. It is safe for concurrent use: swarms are
// sharded by info hash, each shard under its own lock.
type Tracker struct {
	cfg     Config
	persist Persister
	epoch   int64 // unix seconds that "seen" counts from
	shards  [swarmShards]swarmShard
	peers   peerTable
	dests   *DestinationCache
	stats   Stats

	// Live settings (changed from the console while serving).
	interval    atomic.Int64 // seconds
	expiry      atomic.Int64 // seconds
	defaultWant atomic.Int64
}

const swarmShards = 64

type swarmShard struct {
	mu     sync.Mutex
	swarms map[InfoHash]*swarm
	rng    *rand.Rand
}

// New makes a tracker that journals to p (nil: nothing is persisted).
func New(cfg Config, p Persister) *Tracker {
	cfg.fill()
	// The epoch lies an expiry before the start, so restored peers keep
	// their real age.
	t := &Tracker{cfg: cfg, persist: p, epoch: cfg.Now().Unix() - int64(cfg.PeerExpiry/time.Second) - 60}
	for i := range t.shards {
		t.shards[i].swarms = make(map[InfoHash]*swarm)
		t.shards[i].rng = rand.New(rand.NewPCG(cfg.Rand.Uint64(), cfg.Rand.Uint64()))
	}
	t.peers.seed = maphash.MakeSeed()
	t.dests = newDestinationCache(cfg.DestinationCache)
	t.SetInterval(cfg.Interval, cfg.PeerExpiry)
	t.SetDefaultWant(cfg.DefaultWant)
	return t
}

// SetInterval changes the announce interval told to clients and the peer
// expiry (0: 1.5 × interval) while serving.
func (t *Tracker) SetInterval(interval, expiry time.Duration) {
	if expiry <= 0 {
		expiry = interval * 3 / 2
	}
	t.interval.Store(int64(interval / time.Second))
	t.expiry.Store(int64(expiry / time.Second))
}

// SetDefaultWant changes how many peers a reply lists when the client
// does not say (capped at MaxPeersPerReply).
func (t *Tracker) SetDefaultWant(n int) {
	t.defaultWant.Store(int64(min(max(n, 0), MaxPeersPerReply)))
}

// Config returns the configuration in force (defaults filled in).
func (t *Tracker) Config() Config { return t.cfg }

// Destinations is the hash → Destination cache.
func (t *Tracker) Destinations() *DestinationCache { return t.dests }

// Stats returns the tracker's counters.
func (t *Tracker) Stats() *Stats { return &t.stats }

func (t *Tracker) shard(info *InfoHash) *swarmShard {
	return &t.shards[info[0]%swarmShards]
}

// now returns seconds since the epoch, clamped to the entry field.
func (t *Tracker) now() uint32 {
	d := t.cfg.Now().Unix() - t.epoch
	return uint32(min(max(d, 1), seenMask))
}

func (t *Tracker) toTime(seen uint32) time.Time { return time.Unix(t.epoch+int64(seen), 0) }

// AnnounceRequest is one announce, transport-neutral.
type AnnounceRequest struct {
	InfoHash InfoHash
	Peer     i2p.Hash
	Event    Event
	Left     uint64 // 0 means a seed
	NumWant  int    // negative: the default; capped at MaxPeersPerReply
	// ReadOnly returns peers without adding or updating the announcing
	// peer (HTTP: an ip that disagrees with the tunnel's headers).
	ReadOnly bool
}

// AnnounceResult is the answer; the sampled peers are in the caller's
// buffer.
type AnnounceResult struct {
	Interval          uint32 // seconds
	Seeders, Leechers uint32
	NumPeers          int
}

// Announce applies req and writes a uniform random sample of up to
// min(len(peers), NumWant, 50) other peers' hashes into peers: leechers
// for a seed, anyone for a leecher, never the requester itself. A stopped
// peer is removed and gets no peers.
func (t *Tracker) Announce(req *AnnounceRequest, peers []i2p.Hash) (AnnounceResult, error) {
	res := AnnounceResult{Interval: uint32(t.interval.Load())}
	if req.Peer.IsZero() {
		t.stats.refuse(RefusedZeroPeer)
		return res, ErrZeroPeer
	}
	want := req.NumWant
	if want < 0 {
		want = int(t.defaultWant.Load())
	}
	want = min(want, MaxPeersPerReply, len(peers))
	seed := req.Left == 0 || req.Event == EventCompleted
	now := t.now()

	sh := t.shard(&req.InfoHash)
	idx := t.peers.find(&req.Peer)
	sh.mu.Lock()
	sw := sh.swarms[req.InfoHash]
	pos := -1
	if sw != nil && idx != noPeer {
		pos = sw.find(idx)
	}

	var journal journalOp
	switch {
	case req.ReadOnly:
	case req.Event == EventStopped:
		if pos >= 0 {
			sw.remove(pos)
			pos = -1
			journal = journalRemoved
			defer t.peers.release(idx)
		}
	case pos >= 0:
		e := &sw.entries[pos]
		e.seen = e.seen&^seenMask | now
		if req.Event == EventCompleted && !e.completed() {
			e.seen |= flagComplete
			sw.completed++
			journal = journalCompleted
		}
		pos = sw.setSeed(pos, seed)
		journal |= journalUpdated
	default:
		var err error
		sw, pos, err = t.join(sh, sw, req, now, seed)
		if err != nil {
			sh.mu.Unlock()
			return res, err
		}
		journal = journalUpdated
		if req.Event == EventCompleted {
			sw.completed++
			journal |= journalCompleted
		}
	}

	var sampled [MaxPeersPerReply]uint32
	n := 0
	if sw != nil {
		res.Seeders, res.Leechers = uint32(sw.seeders()), uint32(sw.leechers)
		if req.Event != EventStopped && want > 0 {
			limit := len(sw.entries)
			if seed {
				limit = sw.leechers // seeds need no seeds
			}
			n = sw.sample(sh.rng, limit, pos, sampled[:want])
		}
	}
	var completed uint64
	if sw != nil {
		completed = sw.completed
		if len(sw.entries) == 0 && sw.completed == 0 {
			delete(sh.swarms, req.InfoHash)
			t.stats.swarms.Add(-1)
		}
	}
	sh.mu.Unlock()

	for i := range n {
		peers[i] = t.peers.hash(sampled[i])
	}
	res.NumPeers = n
	t.stats.announces.Add(1)
	if t.persist != nil {
		if journal&journalUpdated != 0 {
			t.persist.PeerUpdated(PeerRecord{Info: req.InfoHash, Peer: req.Peer, LastSeen: t.toTime(now), Seed: seed})
		}
		if journal&journalRemoved != 0 {
			t.persist.PeerRemoved(req.InfoHash, req.Peer)
		}
		if journal&journalCompleted != 0 {
			t.persist.CompletedChanged(req.InfoHash, completed)
		}
	}
	return res, nil
}

type journalOp uint8

const (
	journalUpdated journalOp = 1 << iota
	journalRemoved
	journalCompleted
)

// join adds a new peer to a swarm (creating it), enforcing the limits.
// Called with the shard locked.
func (t *Tracker) join(sh *swarmShard, sw *swarm, req *AnnounceRequest, now uint32, seed bool) (*swarm, int, error) {
	if sw == nil {
		if t.stats.swarms.Load() >= int64(t.cfg.MaxSwarms) {
			t.stats.refuse(RefusedTooManySwarms)
			return nil, -1, ErrTooManySwarms
		}
		sw = &swarm{}
		sh.swarms[req.InfoHash] = sw
		t.stats.swarms.Add(1)
	}
	if len(sw.entries) >= t.cfg.MaxPeersPerSwarm {
		t.stats.refuse(RefusedSwarmFull)
		return sw, -1, ErrSwarmFull
	}
	idx, ok := t.peers.acquire(&req.Peer)
	if !ok {
		t.stats.refuse(RefusedPeerTableFull)
		return sw, -1, ErrPeerTableFull
	}
	if refs := t.peers.refSlot(idx).Load(); int(refs) > t.cfg.MaxSwarmsPerPeer {
		t.peers.release(idx)
		t.stats.refuse(RefusedPeerInTooMany)
		return sw, -1, ErrPeerInTooMany
	}
	e := entry{peer: idx, seen: now}
	if seed {
		e.seen |= flagSeed
	}
	if req.Event == EventCompleted {
		e.seen |= flagComplete
	}
	return sw, sw.add(e), nil
}

// ScrapeResult is one swarm's counts.
type ScrapeResult struct {
	Seeders, Completed, Leechers uint32
}

// Scrape returns the counts of one swarm (zeros for an unknown one).
func (t *Tracker) Scrape(info InfoHash) ScrapeResult {
	sh := t.shard(&info)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	t.stats.scrapes.Add(1)
	sw := sh.swarms[info]
	if sw == nil {
		return ScrapeResult{}
	}
	return ScrapeResult{Seeders: uint32(sw.seeders()), Completed: uint32(min(sw.completed, 1<<32-1)), Leechers: uint32(sw.leechers)}
}

// ScrapeAll calls fn for every swarm, one shard at a time, until fn
// returns false.
func (t *Tracker) ScrapeAll(fn func(info InfoHash, r ScrapeResult) bool) {
	type row struct {
		info InfoHash
		r    ScrapeResult
	}
	var rows []row
	for i := range t.shards {
		sh := &t.shards[i]
		rows = rows[:0]
		sh.mu.Lock()
		for info, sw := range sh.swarms {
			rows = append(rows, row{info, ScrapeResult{uint32(sw.seeders()), uint32(min(sw.completed, 1<<32-1)), uint32(sw.leechers)}})
		}
		sh.mu.Unlock()
		for _, r := range rows {
			if !fn(r.info, r.r) {
				return
			}
		}
	}
}

// Totals are the swarm model's current sizes.
type Totals struct {
	Swarms, Peers, Seeds, Leechers, Completed uint64
	// Entries is the number of (peer, swarm) memberships.
	Entries uint64
}

// Totals counts everything; it visits every shard (cheap: counters per
// swarm), so call it for the console and metrics, not per request.
func (t *Tracker) Totals() Totals {
	var out Totals
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for _, sw := range sh.swarms {
			out.Swarms++
			out.Seeds += uint64(sw.seeders())
			out.Leechers += uint64(sw.leechers)
			out.Completed += sw.completed
		}
		sh.mu.Unlock()
	}
	out.Entries = out.Seeds + out.Leechers
	out.Peers = uint64(t.peers.len())
	return out
}

// SwarmInfo is one line of the busiest-swarms list.
type SwarmInfo struct {
	InfoHash                    InfoHash
	Seeders, Leechers, Complete uint64
}

// Busiest returns swarms offset..offset+limit ordered by peers (most
// first), and the number of swarms.
func (t *Tracker) Busiest(offset, limit int) ([]SwarmInfo, int) {
	var all []SwarmInfo
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for info, sw := range sh.swarms {
			all = append(all, SwarmInfo{info, uint64(sw.seeders()), uint64(sw.leechers), sw.completed})
		}
		sh.mu.Unlock()
	}
	sortBusiest(all)
	if offset >= len(all) {
		return nil, len(all)
	}
	return all[offset:min(len(all), offset+limit)], len(all)
}

// Sweep removes every peer not seen within the expiry from one shard
// (the next in turn) and returns how many it removed. Expired peers are
// not journaled: the store's TTL removes them from disk by itself.
func (t *Tracker) sweepShard(i int) int {
	cutoff := int64(t.now()) - t.expiry.Load()
	sh := &t.shards[i]
	var freed []uint32
	sh.mu.Lock()
	for info, sw := range sh.swarms {
		for j := len(sw.entries) - 1; j >= 0; j-- {
			if j >= len(sw.entries) {
				continue
			}
			if int64(sw.entries[j].lastSeen()) < cutoff {
				freed = append(freed, sw.entries[j].peer)
				sw.remove(j)
			}
		}
		if len(sw.entries) == 0 && sw.completed == 0 {
			delete(sh.swarms, info)
			t.stats.swarms.Add(-1)
		}
	}
	sh.mu.Unlock()
	for _, idx := range freed {
		t.peers.release(idx)
	}
	t.stats.expired.Add(uint64(len(freed)))
	return len(freed)
}

// Sweep expires stale peers in every shard now (for tests and shutdown).
func (t *Tracker) Sweep() int {
	n := 0
	for i := range t.shards {
		n += t.sweepShard(i)
	}
	return n
}

// Run expires peers incrementally, one shard per tick, so a full pass
// takes about a minute and never stops the world, until ctx ends.
func (t *Tracker) Run(ctx context.Context) {
	tick := time.NewTicker(time.Minute / swarmShards)
	defer tick.Stop()
	next := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t.sweepShard(next)
			next = (next + 1) % swarmShards
		}
	}
}

// Restore replays the persisted state before serving.
func (t *Tracker) Restore(ctx context.Context) error {
	if t.persist == nil {
		return nil
	}
	if err := t.persist.Restore(ctx, restorer{t}); err != nil {
		return fmt.Errorf("tracker: restore: %w", err)
	}
	return nil
}

// restorer adapts the tracker to the Restorer interface without
// journaling what it restores.
type restorer struct{ t *Tracker }

func (r restorer) RestorePeer(p PeerRecord) {
	t := r.t
	seen := p.LastSeen.Unix() - t.epoch
	if seen < 1 || int64(t.now())-seen > t.expiry.Load() || p.Peer.IsZero() {
		return // expired while the tracker was down
	}
	sh := t.shard(&p.Info)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sw := sh.swarms[p.Info]
	if sw == nil {
		sw = &swarm{}
		sh.swarms[p.Info] = sw
		t.stats.swarms.Add(1)
	}
	idx := t.peers.find(&p.Peer)
	if idx != noPeer && sw.find(idx) >= 0 {
		return
	}
	idx, ok := t.peers.acquire(&p.Peer)
	if !ok {
		return
	}
	e := entry{peer: idx, seen: uint32(min(seen, seenMask))}
	if p.Seed {
		e.seen |= flagSeed
	}
	sw.add(e)
}

func (r restorer) RestoreCompleted(info InfoHash, total uint64) {
	t := r.t
	sh := t.shard(&info)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sw := sh.swarms[info]
	if sw == nil {
		sw = &swarm{}
		sh.swarms[info] = sw
		t.stats.swarms.Add(1)
	}
	sw.completed = total
}

func (r restorer) RestoreDestination(d i2p.Destination) { r.t.dests.put(d) }

// RememberDestination caches a verified sender's Destination and
// journals it.
func (t *Tracker) RememberDestination(d i2p.Destination) {
	if t.dests.put(d) && t.persist != nil {
		t.persist.DestinationSeen(d)
	}
}

// Destination returns a cached Destination.
func (t *Tracker) Destination(h i2p.Hash) (i2p.Destination, bool) { return t.dests.get(h) }
