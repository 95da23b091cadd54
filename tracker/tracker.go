package tracker

import (
	"hash/maphash"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker/ratelimit"
)

// MaxPeersPerReply caps every peer list: 20 + 50 × 32 = 1620 bytes over
// UDP, two tunnel messages, always far below 4 KB.
const MaxPeersPerReply = 50

// MaxScrapeHashes is the most info hashes one scrape may ask about: the
// UDP reply (8 + 74 × 12 bytes) stays within one small datagram, and an
// HTTP scrape is held to the same.
const MaxScrapeHashes = 74

// Config sets the tracker's behaviour; the zero value means defaults.
type Config struct {
	Interval    time.Duration // announce interval told to clients; default 1620 s
	PeerExpiry  time.Duration // default 1.5 × Interval
	DefaultWant int           // peers for a negative num_want; default 50

	MaxSwarms        int // default 1,000,000
	MaxPeersPerSwarm int // default 100,000
	MaxSwarmsPerPeer int // default 2,000; at most 65,535
	// SwarmCreations bounds the new swarms one peer may create; default
	// 10 a minute with a burst of 500. PerMinute -1 means no bound.
	SwarmCreations ratelimit.Limit

	// DestinationCache bounds the hash → Destination cache; default 100,000.
	DestinationCache int

	Bids BidConfig // bid announces and bid scrapes (docs/bids.md); off by default

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
	c.PeerExpiry = min(c.PeerExpiry, MaxExpiry)
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
	c.MaxSwarmsPerPeer = min(c.MaxSwarmsPerPeer, maxRefs)
	switch {
	case c.SwarmCreations.PerMinute < 0:
		c.SwarmCreations = ratelimit.Limit{}
	case c.SwarmCreations.PerMinute == 0:
		c.SwarmCreations = ratelimit.Limit{PerMinute: 10, Burst: 500}
	}
	if c.DestinationCache <= 0 {
		c.DestinationCache = 100_000
	}
	c.Bids.fill()
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

// MaxExpiry bounds the peer expiry: entry times span 48 days, and the
// sweep keeps at least a quarter of that span behind the present.
const MaxExpiry = maxSeen / 4 * time.Second

// The refusals of an announce; each is counted under its reason.
var (
	ErrTooManySwarms = &ClientError[RefusedReason]{RefusedTooManySwarms, "tracker is tracking too many torrents"}
	ErrSwarmFull     = &ClientError[RefusedReason]{RefusedSwarmFull, "torrent has too many peers"}
	ErrPeerInTooMany = &ClientError[RefusedReason]{RefusedPeerInTooMany, "peer is in too many torrents"}
	ErrPeerTableFull = &ClientError[RefusedReason]{RefusedPeerTableFull, "tracker has too many peers"}
	ErrZeroPeer      = &ClientError[RefusedReason]{RefusedZeroPeer, "zero peer hash"}
	ErrCreatingFast  = &ClientError[RefusedReason]{RefusedCreatingFast, "peer created too many torrents recently"}
	ErrTorrentDenied = &ClientError[RefusedReason]{RefusedTorrentDenied, "torrent not allowed on this tracker"}
	ErrPeerDenied    = &ClientError[RefusedReason]{RefusedPeerDenied, "destination denied by this tracker"}
)

// Tracker is the swarm model. It is safe for concurrent use: swarms are
// sharded by info hash, each shard under its own lock, and the peer
// table by peer hash. Lock order: a swarm shard, then a peer shard.
type Tracker struct {
	cfg     Config
	persist Persister
	seed    maphash.Seed
	shards  [swarmShards]swarmShard
	peers   *peerTable
	dests   *DestinationCache
	// creators is each peer's budget of new swarms (evict.go).
	creators *ratelimit.Buckets
	access   atomic.Pointer[accessBox]
	stats    Stats
	swarms   atomic.Int64
	sweepAt  atomic.Uint32 // the shard the background sweep visits next
	bids     bidBook

	// Live settings (changed from the console while serving).
	interval    atomic.Int64 // seconds
	expiry      atomic.Int64 // seconds
	defaultWant atomic.Int64
}

// New makes a tracker that journals to p (nil: nothing is persisted).
func New(cfg Config, p Persister) *Tracker {
	cfg.fill()
	t := &Tracker{cfg: cfg, persist: p, seed: maphash.MakeSeed(), peers: newPeerTable()}
	// Entry times count from an expiry before the start, so restored
	// peers keep their real age.
	base := cfg.Now().Unix() - int64(cfg.PeerExpiry/time.Second) - 60
	for i := range t.shards {
		t.shards[i].rng = wyrand(cfg.Rand.Uint64())
		t.shards[i].base = base
	}
	t.dests = newDestinationCache(cfg.DestinationCache, p, cfg.Now)
	t.creators = ratelimit.NewBuckets(1<<16, cfg.SwarmCreations)
	t.bids.cfg = cfg.Bids
	t.bids.on.Store(cfg.Bids.On)
	t.SetInterval(cfg.Interval, cfg.PeerExpiry)
	t.SetDefaultWant(cfg.DefaultWant)
	return t
}

// SetInterval changes the announce interval told to clients and the peer
// expiry (0: 1.5 × interval; at most MaxExpiry) while serving.
func (t *Tracker) SetInterval(interval, expiry time.Duration) {
	if expiry <= 0 {
		expiry = interval * 3 / 2
	}
	expiry = min(expiry, MaxExpiry)
	t.interval.Store(int64(interval / time.Second))
	t.expiry.Store(int64(expiry / time.Second))
}

// SetDefaultWant changes how many peers a reply lists when the client
// does not say (capped at MaxPeersPerReply).
func (t *Tracker) SetDefaultWant(n int) {
	t.defaultWant.Store(int64(min(max(n, 0), MaxPeersPerReply)))
}

// AccessList decides which torrents and peers the tracker serves; see
// package accesslist.
type AccessList interface {
	// Values, not pointers: an interface call would make a pointer
	// argument, and the request it points into, escape to the heap.
	TorrentAllowed(info InfoHash) bool
	PeerAllowed(peer i2p.Hash) bool
}

type accessBox struct{ a AccessList }

// SetAccessList makes a refuse announces of the torrents and peers it
// denies (nil: serve all).
func (t *Tracker) SetAccessList(a AccessList) {
	if a == nil {
		t.access.Store(nil)
		return
	}
	t.access.Store(&accessBox{a})
}

// SetSwarmCreations changes the bound on new swarms per peer while
// serving (PerMinute 0: no bound).
func (t *Tracker) SetSwarmCreations(lim ratelimit.Limit) { t.creators.Set(lim) }

// Config returns the configuration in force (defaults filled in).
func (t *Tracker) Config() Config { return t.cfg }

// Destinations is the hash → Destination cache.
func (t *Tracker) Destinations() *DestinationCache { return t.dests }

// Stats returns the tracker's counters.
func (t *Tracker) Stats() *Stats { return &t.stats }

// infoHash is the keyed hash of an info hash (chosen by clients, so the
// index's hash must be secret).
func (t *Tracker) infoHash(info *InfoHash) uint64 { return maphash.Bytes(t.seed, info[:]) }

func (t *Tracker) shard(hv uint64) *swarmShard { return &t.shards[t.shardIndex(hv)] }

func (t *Tracker) shardIndex(hv uint64) int { return int((hv >> 32) % swarmShards) }

// now is the clock in unix seconds.
func (t *Tracker) now() int64 { return t.cfg.Now().Unix() }

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
	// URLData is the announce URL's path and query a UDP client sent in
	// BEP 41 options (at most 255 bytes; valid only during the call).
	// The swarm model does not act on it: it is there for a policy (a
	// passkey, say) a deployment adds.
	URLData []byte
	// Bids is the announce's bid part, nil for none; the tracker
	// answers in it when bids are on.
	Bids *BidAnnounce
}

// AnnounceResult is the answer; the sampled peers are in the caller's
// buffer.
type AnnounceResult struct {
	Interval          uint32 // seconds
	Seeders, Leechers uint32
	NumPeers          int
}

// Announce applies req and writes a uniform random sample of up to
// min(len(peers), NumWant, 50) other peers' hashes into peers: for a
// seed leechers first, then other seeds; for a leecher anyone; never the
// requester itself. A stopped peer is removed and gets no peers. Refused
// announces (limits) change nothing and return one of the Err values, a
// *ClientError[RefusedReason].
//
// A download is counted once per peer and swarm membership: for a
// completed event, not for a peer that simply announces left = 0; a
// repeated completed event counts nothing, across restarts too (the
// journal keeps the flag). A peer that left the swarm (stopped, or
// expired) and completes again has downloaded again, and counts again.
func (t *Tracker) Announce(req *AnnounceRequest, peers []i2p.Hash) (AnnounceResult, error) {
	res := AnnounceResult{Interval: uint32(t.interval.Load())}
	if err := t.admit(req); err != nil {
		return res, err
	}
	want := req.NumWant
	if want < 0 {
		want = int(t.defaultWant.Load())
	}
	want = min(want, MaxPeersPerReply, len(peers))
	seed := req.Left == 0 || req.Event == EventCompleted
	now := t.now()
	hv := t.infoHash(&req.InfoHash)
	pv := t.peers.hashOf(&req.Peer)
	t.stats.announces.Add(1)
	bidding := t.bidding(req)

	sh := t.shard(hv)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sw, id := sh.lookup(hv, &req.InfoHash)
	pos, idx := -1, noPeer
	if sw != nil {
		// Looked up under the swarm's lock: if the peer is a member,
		// its index cannot be released meanwhile.
		if idx = t.peers.find(pv, &req.Peer); idx != noPeer {
			pos = sw.find(idx)
		}
	}
	switch {
	case req.ReadOnly:
	case req.Event == EventStopped:
		if pos < 0 {
			break
		}
		leechers, seeds := int(sw.leechers), sw.seeders()
		sw.remove(pos)
		pos = -1
		sh.account(sw, leechers, seeds, sw.completed)
		t.dropBid(shardNum(hv), sw, idx, &req.Peer, BidRemoved)
		t.peers.release(idx)
		if t.persist != nil {
			t.persist.PeerRemoved(req.InfoHash, req.Peer)
		}
	case pos >= 0:
		leechers, seeds, completed := int(sw.leechers), sw.seeders(), sw.completed
		e := &sw.entries[pos]
		prev, wasSeed := sh.base+int64(e.lastSeen()), e.seed()
		e.setSeen(sh.stamp(now))
		counted := req.Event == EventCompleted && !e.completed()
		if counted {
			e.setCompleted()
			sw.completed++
		}
		done := e.completed() // e may move with the seed flag
		pos = sw.setSeed(pos, seed)
		sh.account(sw, leechers, seeds, completed)
		// A change is journaled at once; a bare refresh of the time seen
		// once per journalRefresh window.
		if counted || seed != wasSeed || prev/journalRefresh != now/journalRefresh {
			t.journal(req, now, seed, done, counted, sw.completed)
		}
	default:
		var err error
		if sw, id, pos, err = t.join(sh, sw, id, hv, pv, req, now, seed); err != nil {
			return res, err
		}
		done := req.Event == EventCompleted
		t.journal(req, now, seed, done, done, sw.completed)
	}
	if sw == nil {
		return res, nil
	}
	self, bids := t.member(shardNum(hv), sw, pos, req, now, bidding)
	res.Seeders, res.Leechers = uint32(sw.seeders()), sw.leechers
	if req.Event != EventStopped && want > 0 {
		// A leecher draws from everyone; a seed from the leechers first
		// (they are what a seed is for), then other seeds fill what room
		// is left.
		split := len(sw.entries)
		if seed {
			split = int(sw.leechers)
		}
		var sampled [MaxPeersPerReply]uint32
		n := sw.sample(&sh.rng, 0, split, pos, sampled[:want])
		if n < want {
			n += sw.sample(&sh.rng, split, len(sw.entries), pos, sampled[n:want])
		}
		if bidding {
			n = t.orderByBid(bids, sh, req, self, sampled[:], n, now)
		}
		// The hashes are copied under the swarm's lock, while every
		// sampled peer still holds its index.
		for i, p := range sampled[:n] {
			peers[i] = *t.peers.hash(p)
		}
		res.NumPeers = n
	}
	if sh.dropIfEmpty(id, t.infoHash) {
		t.swarms.Add(-1)
		sh.tidy(t.infoHash)
	}
	return res, nil
}

// admit refuses a zero peer and what the access list denies.
func (t *Tracker) admit(req *AnnounceRequest) error {
	if req.Peer.IsZero() {
		return t.refuse(ErrZeroPeer)
	}
	if b := t.access.Load(); b != nil {
		switch {
		case !b.a.PeerAllowed(req.Peer):
			return t.refuse(ErrPeerDenied)
		case !b.a.TorrentAllowed(req.InfoHash):
			return t.refuse(ErrTorrentDenied)
		}
	}
	return nil
}

// refuse counts a refusal under its reason and returns it.
func (t *Tracker) refuse(err *ClientError[RefusedReason]) error {
	t.stats.refuse(err.Reason)
	return err
}

// journalRefresh (seconds) bounds how stale a journaled time seen may
// be: a peer that announces again and again without a change is
// journaled once per window, not on every announce, so a restart may
// expire it up to this much early (the expiry is 1.5 intervals).
const journalRefresh = 60

// journal records an added or updated peer (done: its download was
// counted) and, when counted, the swarm's new download count. It runs
// under the swarm's lock, so the journal sees one swarm's changes in the
// order they happened.
func (t *Tracker) journal(req *AnnounceRequest, now int64, seed, done, counted bool, completed uint64) {
	if t.persist == nil {
		return
	}
	t.persist.PeerUpdated(PeerRecord{Info: req.InfoHash, Peer: req.Peer, LastSeen: time.Unix(now, 0), Seed: seed, Completed: done})
	if counted {
		t.persist.CompletedChanged(req.InfoHash, completed)
	}
}

// join adds a new peer to a swarm (creating it), enforcing the limits.
// Called with the shard locked; a refusal leaves no empty swarm behind.
func (t *Tracker) join(sh *swarmShard, sw *swarm, id uint32, hv, pv uint64, req *AnnounceRequest, now int64, seed bool) (*swarm, uint32, int, error) {
	if sw == nil {
		if !t.mayCreate((*[32]byte)(&req.Peer), now) {
			return nil, 0, -1, t.refuse(ErrCreatingFast)
		}
		if t.swarms.Load() >= int64(t.cfg.MaxSwarms) && !t.makeRoom(t.shardIndex(hv), (*[32]byte)(&req.Peer), now) {
			return nil, 0, -1, t.refuse(ErrTooManySwarms)
		}
		sw, id = sh.create(hv, &req.InfoHash, t.infoHash)
		t.swarms.Add(1)
	}
	fail := func(err *ClientError[RefusedReason]) (*swarm, uint32, int, error) {
		if sh.dropIfEmpty(id, t.infoHash) {
			t.swarms.Add(-1)
		}
		return nil, 0, -1, t.refuse(err)
	}
	if len(sw.entries) >= t.cfg.MaxPeersPerSwarm {
		return fail(ErrSwarmFull)
	}
	idx, refusal := t.peers.acquire(pv, &req.Peer, t.cfg.MaxSwarmsPerPeer)
	if refusal != nil {
		return fail(refusal)
	}
	leechers, seeds, completed := int(sw.leechers), sw.seeders(), sw.completed
	if req.Event == EventCompleted {
		sw.completed++
	}
	pos := sw.add(newEntry(idx, sh.stamp(now), seed, req.Event == EventCompleted))
	sh.account(sw, leechers, seeds, completed)
	return sw, id, pos, nil
}

// ScrapeResult is one swarm's counts.
type ScrapeResult struct {
	Seeders, Completed, Leechers uint32
}

// scrape returns the swarm's counts, the download count capped at 32 bits.
func (s *swarm) scrape() ScrapeResult {
	return ScrapeResult{Seeders: uint32(s.seeders()), Completed: uint32(min(s.completed, 1<<32-1)), Leechers: s.leechers}
}

// Scrape returns the counts of one swarm (zeros for an unknown one).
func (t *Tracker) Scrape(info InfoHash) ScrapeResult {
	hv := t.infoHash(&info)
	sh := t.shard(hv)
	t.stats.scrapes.Add(1)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sw, _ := sh.lookup(hv, &info); sw != nil {
		return sw.scrape()
	}
	return ScrapeResult{}
}

// ScrapeAll calls fn for every swarm, one shard at a time, until fn
// returns false. fn runs without any lock held.
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
		sh.each(func(sw *swarm) { rows = append(rows, row{sw.info, sw.scrape()}) })
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

// Totals adds up the shards' running totals: cheap, for the console
// and metrics.
func (t *Tracker) Totals() Totals {
	var out Totals
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		out.Swarms += uint64(sh.index.n)
		out.Seeds += uint64(sh.seeds)
		out.Leechers += uint64(sh.leechers)
		out.Completed += sh.completed
		sh.mu.Unlock()
	}
	out.Entries = out.Seeds + out.Leechers
	out.Peers = uint64(t.peers.len())
	return out
}

// MemoryBytes estimates the swarm model's memory: records, indices,
// entries and the peer table (not the destination cache).
func (t *Tracker) MemoryBytes() int {
	n := t.peers.bytes()
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		n += cap(sh.swarms)*64 + sh.index.bytes() + 4*cap(sh.free) + t.bidBytes(i)
		sh.each(func(sw *swarm) {
			n += 6 * cap(sw.entries)
			if sw.pos != nil {
				n += sw.pos.bytes()
			}
		})
		sh.mu.Unlock()
	}
	return n
}
