package httptracker

import (
	"bytes"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/httpserver"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/counters"
	"github.com/go-i2p/go-opentracker/internal/panics"
	"github.com/go-i2p/go-opentracker/tracker"
	"github.com/go-i2p/go-opentracker/tracker/ratelimit"
)

// MaxPeers is the most peers one reply lists.
const MaxPeers = tracker.MaxPeersPerReply

// Swarms is what the HTTP transport needs of the swarm model;
// *tracker.Tracker implements it.
type Swarms interface {
	Announce(req *tracker.AnnounceRequest, peers []i2p.Hash) (tracker.AnnounceResult, error)
	Scrape(info tracker.InfoHash) tracker.ScrapeResult
	// ScrapeAll calls fn for every swarm until fn returns false.
	ScrapeAll(fn func(info tracker.InfoHash, r tracker.ScrapeResult) bool)
	RememberDestination(d i2p.Destination)
	// AppendDestination appends the serialized Destination of h, if
	// cached, to dst.
	AppendDestination(dst []byte, h i2p.Hash) ([]byte, bool)
}

// Config configures the handler.
type Config struct {
	FullScrape bool // allow /scrape without info_hash (every swarm)
	// Strict refuses announces from a peer no one vouches for: neither
	// the transport (an I2P stream, Request.Peer) nor an I2P server
	// tunnel (the X-I2P-Dest* headers). Off, the ip parameter is trusted
	// for such requests, as zzzot does, at most UnverifiedRate a second.
	Strict bool
	// UnverifiedRate bounds the announces per second, with a burst of
	// twice as many, that may add, update or remove a peer named only by
	// ip when Strict is off (DefaultUnverifiedRate when 0); those over it
	// get a failure.
	UnverifiedRate int
	// Limits charges each announce of a verified peer to its
	// ratelimit.HTTP budget (nil: no limit); those over it get a failure.
	Limits *ratelimit.Limits
	Logger *slog.Logger
}

// DefaultUnverifiedRate is Config.UnverifiedRate's default.
const DefaultUnverifiedRate = 20

// Handler serves the tracker's HTTP paths: /a, /announce, /announce.php,
// /announce.jsp, /scrape, /scrape.php, /scrape.jsp and /a/scrape.
type Handler struct {
	cfg        Config
	swarms     Swarms
	stats      Stats
	strict     atomic.Bool
	fullScrape atomic.Bool
	unverified bucket    // announces without a vouched-for peer
	bufs       sync.Pool // *[]byte
	scratch    sync.Pool // *announceScratch
	panics     panics.Log
	bidder     Bidder // nil: the swarm model serves no bids
}

// announceScratch keeps the request and the peer sample off the heap:
// the swarm model takes pointers into them.
type announceScratch struct {
	req   tracker.AnnounceRequest
	peers [MaxPeers]i2p.Hash
	dest  []byte // a peer's Destination, for non-compact replies
	bids  tracker.BidAnnounce
}

// New returns a Handler over the swarm model.
func New(cfg Config, swarms Swarms) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.UnverifiedRate <= 0 {
		cfg.UnverifiedRate = DefaultUnverifiedRate
	}
	h := &Handler{cfg: cfg, swarms: swarms}
	h.bidder, _ = swarms.(Bidder)
	h.unverified.init(cfg.UnverifiedRate, 2*cfg.UnverifiedRate)
	h.strict.Store(cfg.Strict)
	h.fullScrape.Store(cfg.FullScrape)
	h.bufs.New = func() any { b := make([]byte, 0, 4096); return &b }
	h.scratch.New = func() any { return new(announceScratch) }
	return h
}

// Stats returns the handler's counters.
func (h *Handler) Stats() *Stats { return &h.stats }

// SetFullScrape allows or refuses scrapes without info_hash (live).
func (h *Handler) SetFullScrape(on bool) { h.fullScrape.Store(on) }

// SetStrict turns strict destination enforcement on or off (live).
func (h *Handler) SetStrict(on bool) { h.strict.Store(on) }

// IsAnnouncePath and IsScrapePath tell the tracker paths apart.
func IsAnnouncePath(p string) bool {
	switch p {
	case "/a", "/announce", "/announce.php", "/announce.jsp":
		return true
	}
	return false
}

// IsScrapePath reports whether p is one of the scrape paths.
func IsScrapePath(p string) bool {
	switch p {
	case "/scrape", "/scrape.php", "/scrape.jsp", "/a/scrape":
		return true
	}
	return false
}

// Respond answers announces and scrapes the httpserver parsed; other
// paths are not handled. The body is appended to dst. Handler is an
// httpserver.Responder.
func (h *Handler) Respond(dst []byte, r *httpserver.Request) (status int, body []byte, handled bool) {
	req := requestOf(r)
	status, body, handled = h.respond(dst, &req)
	if status == statusPanic {
		r.Close = true // whatever the connection holds after it is suspect
	}
	return status, body, handled
}

// statusPanic answers a request whose handling panicked, and only such a
// request: announces and scrapes answer failures with 200 and a
// bencoded reason.
const statusPanic = http.StatusInternalServerError

// respond answers the tracker paths for both ways in, Respond and
// ServeHTTP. A panic while answering is recovered, counted (FailPanic)
// and logged: the client gets a 500 (statusPanic), and the tracker
// serves on.
func (h *Handler) respond(dst []byte, r *Request) (status int, body []byte, handled bool) {
	announce := IsAnnouncePath(r.Path)
	bids := !announce && IsBidsPath(r.Path) && h.bidsOn()
	if !announce && !bids && !IsScrapePath(r.Path) {
		return 0, dst, false
	}
	if r.Forwarded {
		h.stats.count(FailInproxy)
		return http.StatusForbidden, append(dst, "requests through an inproxy are refused\n"...), true
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.stats.count(FailMethod)
		return http.StatusMethodNotAllowed, append(dst, "method not allowed: use GET\n"...), true
	}
	defer func() {
		if v := recover(); v != nil {
			if panics.IsFatal(v) || panics.Within(tracker.ImportPath) {
				// The swarm model's state cannot be trusted, and net/http
				// would recover a plain re-raise and serve on.
				panics.Escape(h.cfg.Logger, "HTTP tracker "+r.Path, v)
			}
			h.stats.count(FailPanic)
			h.panics.Recovered(h.cfg.Logger, "HTTP tracker "+r.Path, v)
			status, body, handled = statusPanic, append(dst, "internal error\n"...), true
		}
	}()
	// Called directly, not through a func value, so r stays on the
	// caller's stack.
	if announce {
		return http.StatusOK, h.announce(dst, r), true
	}
	if bids {
		return http.StatusOK, h.bidScrape(dst, r), true
	}
	return http.StatusOK, h.scrape(dst, r), true
}

// ServeHTTP answers announce and scrape requests; other paths get 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := RequestFrom(r)
	bp := h.bufs.Get().(*[]byte)
	status, body, handled := h.respond((*bp)[:0], &req)
	if !handled {
		h.bufs.Put(bp)
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr["Content-Type"] = textPlain
	hdr["Cache-Control"] = noCache
	hdr["Content-Length"] = []string{strconv.Itoa(len(body))}
	if status == http.StatusMethodNotAllowed {
		hdr["Allow"] = allowGet
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	if cap(body) <= 64<<10 {
		*bp = body[:0]
		h.bufs.Put(bp)
	}
}

var (
	textPlain = []string{"text/plain"}
	noCache   = []string{"no-cache"}
	allowGet  = []string{"GET, HEAD"}
)

// identity resolves the announcing peer: a Destination the transport
// verified (Request.Peer) or the X-I2P-Dest* headers an I2P server
// tunnel adds (clients cannot forge them) win over the ip parameter.
// mismatch reports an ip that names someone else; verified, a peer
// someone vouches for; err is a *failure.
func (h *Handler) identity(r *Request, ip string) (peer i2p.Hash, dest i2p.Destination, mismatch, verified bool, err error) {
	vouched, dest, verified := vouchedPeer(r)
	if !verified && h.strict.Load() {
		return peer, dest, false, false, errNotTunneled
	}
	if ip == "" {
		if verified {
			return vouched, dest, false, true, nil
		}
		return peer, dest, false, false, errNoIP
	}
	if looksLikeIP(ip) {
		return peer, dest, false, verified, errClearnetIP
	}
	if r.DestB64 != "" && !dest.IsZero() && strings.TrimSuffix(ip, ".i2p") == r.DestB64 {
		return vouched, dest, false, true, nil // what the tunnel vouches for, parsed once
	}
	d, err := parseIPDestination(ip)
	if err != nil {
		return peer, dest, false, verified, err
	}
	if verified && d.Hash() != vouched {
		return vouched, dest, true, true, nil
	}
	if verified && dest.IsZero() {
		dest = d // the tunnel gave only the hash, which ip matches
	}
	return d.Hash(), d, false, verified, nil
}

// vouchedPeer is the peer the transport verified, else the one the
// tunnel's headers name (the full Destination from X-I2P-DestB64, the
// hash alone from X-I2P-DestHash or X-I2P-DestB32); ok is false when
// neither names one.
func vouchedPeer(r *Request) (h i2p.Hash, d i2p.Destination, ok bool) {
	if r.Peer != nil {
		return r.Peer.Hash(), *r.Peer, true
	}
	if b64 := r.DestB64; b64 != "" {
		if d, err := i2p.ParseDestinationBase64(b64); err == nil {
			return d.Hash(), d, true
		}
	}
	if s := r.DestHash; s != "" {
		if hh, err := i2p.ParseHashBase64(s); err == nil {
			return hh, d, true
		}
	}
	if s := r.DestB32; s != "" {
		if hh, err := i2p.ParseB32(s); err == nil {
			return hh, d, true
		}
	}
	return h, d, false
}

// looksLikeIP reports whether s is an IPv4 or IPv6 literal rather than
// Base64 (Base64 never contains '.', ':' is not in the I2P alphabet).
func looksLikeIP(s string) bool {
	s = strings.TrimSuffix(s, ".i2p")
	return strings.IndexByte(s, '.') >= 0 || strings.IndexByte(s, ':') >= 0 // two vector scans; ContainsAny goes byte by byte
}

// leftToCount is the left the swarm model counts the peer by.
func (q *announceQuery) leftToCount() uint64 {
	switch {
	case q.event == tracker.EventCompleted:
		return 0 // a client that just completed is a seed, whatever it says
	case !q.hasLeft:
		return 1 // left is required; without it, count the peer as a leecher
	}
	return q.left
}

// admitRate charges an announce to its rate: a verified peer's own
// ratelimit.HTTP budget, else the shared budget of unverified ones.
func (h *Handler) admitRate(peer *i2p.Hash, verified bool) error {
	if !verified {
		if !h.unverified.allow(time.Now()) {
			return errUnverifiedRate
		}
		return nil
	}
	if !h.cfg.Limits.Allow(ratelimit.HTTP, (*ratelimit.Key)(peer), time.Now().UnixNano(), 1) {
		return errLimited
	}
	return nil
}

// admitScrape charges a scrape from a verified sender to that sender's
// ratelimit.HTTP budget, the one its announces draw on. A scrape with no
// verified sender names no one to charge; it changes nothing stored.
func (h *Handler) admitScrape(r *Request) error {
	if h.cfg.Limits == nil {
		return nil
	}
	peer, _, verified := vouchedPeer(r)
	if !verified {
		return nil
	}
	return h.admitRate(&peer, true)
}

func (h *Handler) announce(dst []byte, r *Request) []byte {
	h.stats.announces.Add(1)
	var q announceQuery
	if err := parseAnnounceQuery(r.RawQuery, &q); err != nil {
		return h.fail(dst, "announce", err)
	}
	switch {
	case !q.hasInfoHash:
		return h.fail(dst, "announce", errNoInfoHash)
	case !q.hasPeerID:
		return h.fail(dst, "announce", errNoPeerID)
	}
	peer, dest, mismatch, verified, err := h.identity(r, q.ip)
	if err != nil {
		return h.fail(dst, "announce", err)
	}
	want := min(q.numWant, MaxPeers) // negative: the swarm model's default
	if mismatch && (want == 0 || q.event == tracker.EventStopped) {
		return h.fail(dst, "announce", errMismatch)
	}
	if mismatch {
		h.stats.count(FailMismatch)
	}
	if err := h.admitRate(&peer, verified); err != nil {
		return h.fail(dst, "announce", err)
	}
	left := q.leftToCount()
	sc := h.scratch.Get().(*announceScratch)
	defer h.scratch.Put(sc)
	sc.req = tracker.AnnounceRequest{InfoHash: q.infoHash, Peer: peer, Event: q.event, Left: left, NumWant: want, ReadOnly: mismatch}
	if q.bids.given && h.bidsOn() {
		if err := q.bids.parse(&sc.bids); err != nil {
			return h.fail(dst, "announce", err)
		}
		sc.req.Bids = &sc.bids
	}
	peers := &sc.peers
	res, err := h.swarms.Announce(&sc.req, peers[:])
	if tracker.Debugging(h.cfg.Logger) {
		h.logAnnounce(&q, peer, min(res.NumPeers, MaxPeers), err)
	}
	if err != nil {
		return h.refused(dst, err)
	}
	if !dest.IsZero() && !mismatch {
		// Only once the swarm model took the announce: a refused one
		// leaves nothing in the journal.
		h.swarms.RememberDestination(dest)
	}
	n := min(res.NumPeers, MaxPeers)
	bids := sc.req.Bids != nil && sc.bids.Applied
	// Keys in sorted order: [bid ages, bids,] complete, incomplete,
	// interval, peers.
	dst = append(dst, 'd')
	if bids && q.compact {
		dst = appendCompactBids(dst, &sc.bids, n)
	}
	dst = append(dst, "8:completei"...)
	dst = strconv.AppendUint(dst, uint64(res.Seeders), 10)
	dst = append(dst, "e10:incompletei"...)
	dst = strconv.AppendUint(dst, uint64(res.Leechers), 10)
	dst = append(dst, "e8:intervali"...)
	dst = strconv.AppendUint(dst, uint64(res.Interval), 10)
	dst = append(dst, "e5:peers"...)
	if q.compact {
		dst = strconv.AppendInt(dst, int64(n*i2p.HashLen), 10)
		dst = append(dst, ':')
		for i := range n {
			dst = append(dst, peers[i][:]...)
		}
	} else {
		dst = append(dst, 'l')
		for i := range n {
			d, ok := h.swarms.AppendDestination(sc.dest[:0], peers[i])
			sc.dest = d
			if !ok {
				// A peer whose Destination the cache does not hold (see
				// the package documentation): left out, counted.
				h.stats.omitted.Add(1)
				continue
			}
			// Keys sorted: [bid, bid age,] ip, peer id, port.
			dst = append(dst, 'd')
			if bids {
				dst = appendPeerBid(dst, &sc.bids.Peers[i])
			}
			dst = append(dst, "2:ip"...)
			dst = strconv.AppendInt(dst, int64(i2p.Base64Len(len(d))+4), 10)
			dst = append(dst, ':')
			dst = i2p.AppendBase64(dst, d)
			dst = append(dst, ".i2p7:peer id20:"...)
			dst = append(dst, peerIDFor(peers[i])...)
			dst = append(dst, "4:porti6881ee"...)
		}
		dst = append(dst, 'e')
	}
	return append(dst, 'e')
}

// logAnnounce writes the debug line of an announce the swarm model saw.
func (h *Handler) logAnnounce(q *announceQuery, peer i2p.Hash, peers int, err error) {
	l := tracker.RequestLine{Transport: "http", Kind: "announce", InfoHash: q.infoHash, Peer: peer, Event: q.event, NumWant: q.numWant, Peers: peers, Result: "ok"}
	if err != nil {
		l.Result = "refused: " + err.Error()
	}
	tracker.LogRequest(h.cfg.Logger, &l)
}

// peerIDFor gives the non-compact "peer id" of a peer: the first 20 bytes
// of its Destination hash. The tracker keys peers by Destination and does
// not keep the ids they announced with (20 bytes a peer it would rather
// not spend); clients identify I2P peers by Destination, and the derived
// id is stable and unique per Destination.
func peerIDFor(h i2p.Hash) []byte { return h[:20] }

func (h *Handler) scrape(dst []byte, r *Request) []byte {
	h.stats.scrapes.Add(1)
	if err := h.admitScrape(r); err != nil {
		return h.fail(dst, "scrape", err)
	}
	start := len(dst)
	var q scrapeQuery
	if err := parseScrapeQuery(r.RawQuery, &q); err != nil {
		return h.fail(dst, "scrape", err)
	}
	if tracker.Debugging(h.cfg.Logger) && q.n > 0 {
		tracker.LogRequest(h.cfg.Logger, &tracker.RequestLine{Transport: "http", Kind: "scrape", InfoHash: q.hashes[0], Result: "ok"})
	}
	dst = append(dst, "d5:filesd"...)
	entry := func(info [20]byte, r tracker.ScrapeResult) {
		dst = append(dst, "20:"...)
		dst = append(dst, info[:]...)
		dst = append(dst, "d8:completei"...)
		dst = strconv.AppendUint(dst, uint64(r.Seeders), 10)
		dst = append(dst, "e10:downloadedi"...)
		dst = strconv.AppendUint(dst, uint64(r.Completed), 10)
		dst = append(dst, "e10:incompletei"...)
		dst = strconv.AppendUint(dst, uint64(r.Leechers), 10)
		dst = append(dst, "ee"...)
	}
	if q.n == 0 {
		if !h.fullScrape.Load() {
			return h.fail(dst[:0], "scrape", errFullScrape)
		}
		// The swarm model walks its shards in no useful order; bencode
		// wants the keys sorted. 32 bytes a swarm, for a request the
		// operator has to allow.
		type row struct {
			info tracker.InfoHash
			r    tracker.ScrapeResult
		}
		var rows []row
		h.swarms.ScrapeAll(func(info tracker.InfoHash, r tracker.ScrapeResult) bool {
			rows = append(rows, row{info, r})
			return true
		})
		slices.SortFunc(rows, func(a, b row) int { return bytes.Compare(a.info[:], b.info[:]) })
		for _, r := range rows {
			entry(r.info, r.r)
		}
		dst = append(dst, "ee"...)
		h.stats.fullScrapes.Add(1)
		h.stats.fullScrapeBytes.Add(uint64(len(dst) - start))
		return dst
	}
	// bencode wants dictionary keys sorted and unique.
	hashes := q.hashes[:q.n]
	slices.SortFunc(hashes, func(a, b [20]byte) int { return bytes.Compare(a[:], b[:]) })
	for i, info := range hashes {
		if i > 0 && info == hashes[i-1] {
			continue
		}
		entry(info, h.swarms.Scrape(info))
	}
	return append(dst, "ee"...)
}

// Stats counts requests and failures; safe for concurrent use.
type Stats struct {
	announces, scrapes atomic.Uint64
	bidScrapes         atomic.Uint64
	// fullScrapes and fullScrapeBytes count the full scrapes answered
	// and the bytes of their bodies.
	fullScrapes, fullScrapeBytes atomic.Uint64
	omitted                      atomic.Uint64
	failures                     counters.Set[FailReason]
}

// FailReason names why a request got a failure (or a 403 or 405).
type FailReason uint8

// The failure reasons.
const (
	FailMalformed FailReason = iota
	FailNoIP
	FailClearnetIP
	FailBadDest
	FailMismatch
	FailNotTunneled
	FailInproxy
	FailFullScrape
	FailRefused
	FailIPTooLong
	FailMethod
	FailPanic // the handler panicked on it: recovered, counted, logged
	FailUnverifiedRate
	FailLimited // a verified peer over its ratelimit.HTTP budget
	numFailReasons
)

var failNames = [numFailReasons]string{
	FailMalformed: "malformed", FailNoIP: "no_ip", FailClearnetIP: "clearnet_ip", FailBadDest: "bad_destination",
	FailMismatch: "ip_mismatch", FailNotTunneled: "not_tunneled", FailInproxy: "inproxy", FailFullScrape: "full_scrape_disabled",
	FailRefused: "refused", FailIPTooLong: "ip_too_long", FailMethod: "method_not_allowed", FailPanic: "handler_panic",
	FailUnverifiedRate: "unverified_rate", FailLimited: "rate_limited",
}

// Names returns the reasons' names, indexed by reason.
func (FailReason) Names() []string { return failNames[:] }

func (r FailReason) String() string { return counters.Name(r) }

func (s *Stats) count(r FailReason) { s.failures.Add(r) }

// Snapshot is a copy of the counters.
type Snapshot struct {
	Announces, Scrapes, BidScrapes uint64
	// FullScrapes counts the full scrapes answered, FullScrapeBytes the
	// bytes of their bodies.
	FullScrapes, FullScrapeBytes uint64
	// Omitted counts peers left out of non-compact replies for want of
	// their Destination.
	Omitted  uint64
	Failures map[string]uint64
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() Snapshot {
	return Snapshot{Announces: s.announces.Load(), Scrapes: s.scrapes.Load(), BidScrapes: s.bidScrapes.Load(),
		FullScrapes: s.fullScrapes.Load(), FullScrapeBytes: s.fullScrapeBytes.Load(), Omitted: s.omitted.Load(), Failures: s.failures.Snapshot()}
}
