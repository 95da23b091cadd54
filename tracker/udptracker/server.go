package udptracker

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/panics"
	"github.com/go-i2p/go-opentracker/tracker"
	"github.com/go-i2p/go-opentracker/tracker/ratelimit"
)

// DefaultPort is the tracker port of a udp:// URL without one.
const DefaultPort = 6969

// Session is what the transport needs of an I2CP session: sending raw
// datagrams and resolving a hash to a Destination.
type Session interface {
	SendSerialized(to []byte, protocol uint8, fromPort, toPort uint16, payload []byte) error
	Lookup(ctx context.Context, h i2p.Hash) (i2p.Destination, error)
}

// Backlogger is what a Session may also implement to report how full its
// outgoing queue is: queued messages and the queue's capacity. A transport
// whose Session implements it sheds load early, before the queue is full
// (see HandleMessage).
type Backlogger interface {
	Backlog() (queued, capacity int)
}

// Early drop (like a router's WRED): at or below overloadLow percent of
// the session's queue nothing is dropped; above it requests are dropped
// with a probability rising linearly to 1 at overloadHigh percent.
const (
	overloadLow  = 50
	overloadHigh = 90
)

// Swarms is what the transport needs of the swarm model;
// *tracker.Tracker implements it.
type Swarms interface {
	Announce(req *tracker.AnnounceRequest, peers []i2p.Hash) (tracker.AnnounceResult, error)
	Scrape(info tracker.InfoHash) tracker.ScrapeResult
	// RememberDestination caches a verified sender's Destination.
	RememberDestination(d i2p.Destination)
	// CacheDestination caches a Destination the router looked up,
	// without journaling it (the router can look it up again).
	CacheDestination(d i2p.Destination)
	// AppendDestination appends the serialized Destination of h, if
	// cached, to dst.
	AppendDestination(dst []byte, h i2p.Hash) ([]byte, bool)
}

// MaxPeers is the most peers one reply lists: 20 + 50 × 32 = 1620 bytes,
// two tunnel messages, always far below 4 KB.
const MaxPeers = tracker.MaxPeersPerReply

// Config configures the transport.
type Config struct {
	Port     uint16 // the tracker port; default 6969
	Lifetime int    // connection-id lifetime in seconds; default 1200
	// MaxLookups bounds HostLookups in flight; replies waiting on them are
	// bounded by MaxPendingReplies.
	MaxLookups int // default 64
	// MaxUnprovedLookups is a separate bound on lookups for senders
	// whose connection id failed (their error replies); default 4.
	MaxUnprovedLookups int
	MaxPendingReplies  int           // default 1024
	LookupTimeout      time.Duration // default 10 s
	// VerifyWorkers check connects' signatures off the receive
	// goroutine (default half the processors, at least one); VerifyQueue
	// bounds the cheap signatures waiting for them (default 256), and an
	// eighth of it the costly ones (see verify.go).
	VerifyWorkers int
	VerifyQueue   int
	// Limits limits requests per sender (nil: no limits); change them
	// live through the Limits.
	Limits *ratelimit.Limits
	Logger *slog.Logger
	Now    func() time.Time
}

func (c *Config) fill() {
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.MaxLookups <= 0 {
		c.MaxLookups = 64
	}
	if c.MaxUnprovedLookups <= 0 {
		c.MaxUnprovedLookups = 4
	}
	if c.MaxPendingReplies <= 0 {
		c.MaxPendingReplies = 1024
	}
	if c.LookupTimeout <= 0 {
		c.LookupTimeout = 10 * time.Second
	}
	if c.VerifyWorkers <= 0 {
		c.VerifyWorkers = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if c.VerifyQueue <= 0 {
		c.VerifyQueue = 256
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Server answers proposal-160 requests arriving on an I2CP session.
type Server struct {
	cfg     Config
	self    i2p.Hash
	ids     *ConnIDs
	swarms  Swarms
	session Session
	backlog Backlogger // nil: the session reports no backlog
	stats   Stats
	panics  panics.Log

	bufs     sync.Pool // *[replyBufLen]byte
	scratch  sync.Pool // *announceScratch
	destBufs sync.Pool // *[]byte: a Destination copied from the cache

	// Connects waiting for their signature check (verify.go).
	cheap, costly chan verifyJob
	jobBufs       sync.Pool    // *[]byte
	verifying     atomic.Int64 // queued or being checked
	stop          chan struct{}
	stopOnce      sync.Once

	mu          sync.Mutex
	pending     map[i2p.Hash]*pendingReplies
	pendingN    int
	lookupsBusy int
	// unprovedBusy counts lookups for senders a connection id did not
	// prove.
	unprovedBusy int
	ctx          context.Context
}

const replyBufLen = 20 + MaxPeers*i2p.HashLen + bidBlockLen

// announceScratch holds what one announce needs beyond the stack: the
// swarm model takes pointers into it, so it would escape to the heap
// (some 2 KB a request) if it lived in locals.
type announceScratch struct {
	ann   Announce
	req   tracker.AnnounceRequest
	peers [MaxPeers]i2p.Hash
	bids  tracker.BidAnnounce
}

type pendingReplies struct {
	replies []pendingReply
}

type pendingReply struct {
	toPort  uint16
	payload []byte
}

// NewServer makes a transport for the tracker whose own Destination hash
// is self, with the connection-id secret (persisted by the caller).
func NewServer(cfg Config, self i2p.Hash, secret []byte, swarms Swarms, session Session) (*Server, error) {
	cfg.fill()
	ids, err := NewConnIDs(secret, cfg.Lifetime)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, self: self, ids: ids, swarms: swarms, session: session,
		pending: map[i2p.Hash]*pendingReplies{},
		ctx:     context.Background(),
		cheap:   make(chan verifyJob, cfg.VerifyQueue),
		costly:  make(chan verifyJob, max(cfg.VerifyQueue/8, 1)),
		stop:    make(chan struct{}),
	}
	s.jobBufs.New = func() any { b := make([]byte, 0, 1024); return &b }
	s.bufs.New = func() any { return new([replyBufLen]byte) }
	s.scratch.New = func() any { return new(announceScratch) }
	s.destBufs.New = func() any { b := make([]byte, 0, i2p.MinDestinationLen+64); return &b }
	s.backlog, _ = session.(Backlogger)
	for range cfg.VerifyWorkers {
		go s.verifyWorker()
	}
	return s, nil
}

// SetContext sets the context that bounds background lookups and the
// signature checkers; cancel it to stop them when the transport shuts
// down.
func (s *Server) SetContext(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	go func() {
		<-ctx.Done()
		s.stopOnce.Do(func() { close(s.stop) })
	}()
}

// limits are the per-sender limits (nil: none).
func (s *Server) limits() *ratelimit.Limits { return s.cfg.Limits }

// Stats returns the transport's counters.
func (s *Server) Stats() *Stats { return &s.stats }

// ConnIDs returns the connection-id issuer (for tests and tools).
func (s *Server) ConnIDs() *ConnIDs { return s.ids }

// HandleMessage processes one I2CP payload addressed to the tracker. It
// must be registered for protocols 17, 19 and 20 on the tracker port; it
// never blocks on the network (lookups run in the background).
//
// When the session's outgoing queue fills (its Backlog) past half, it
// drops requests early, before any signature check or swarm work, with a
// probability that reaches 1 at 90 %: the queue sheds load gradually
// instead of refusing everything once full, and replies the queue could
// not take are not computed at all.
//
// A panic while handling one payload is recovered, counted (DropPanic)
// and logged: the session serves the next one.
func (s *Server) HandleMessage(protocol uint8, fromPort, toPort uint16, payload []byte) {
	defer s.recoverPanic()
	switch {
	case s.backlog != nil && s.overloaded():
		s.dropDatagram(DropOverload, protocol, fromPort, toPort, len(payload), nil)
	case toPort != s.cfg.Port:
		s.dropDatagram(DropWrongPort, protocol, fromPort, toPort, len(payload), nil)
	case fromPort == 0:
		s.dropDatagram(DropFromPortZero, protocol, fromPort, toPort, len(payload), nil)
	case protocol == datagram.ProtocolDatagram2:
		s.queueVerify(fromPort, payload)
	case protocol == datagram.ProtocolDatagram3:
		s.handleDatagram3(fromPort, payload)
	case protocol == datagram.ProtocolDatagram1:
		s.dropDatagram(DropDatagram1, protocol, fromPort, toPort, len(payload), nil)
	default:
		s.dropDatagram(DropWrongProtocol, protocol, fromPort, toPort, len(payload), nil)
	}
}

// recoverPanic, deferred, recovers a panic of the handler it ends,
// unless it was raised in the swarm model, whose locks and indexes it may
// have left half done: that one goes on and ends the process.
func (s *Server) recoverPanic() {
	if v := recover(); v != nil {
		if panics.IsFatal(v) || panics.Within(tracker.ImportPath) {
			panics.Raise(v)
		}
		s.stats.drop(DropPanic)
		s.panics.Recovered(s.cfg.Logger, "UDP tracker", v)
	}
}

// overloaded decides whether to drop one request for the session's
// backlog: never up to overloadLow percent full, always from
// overloadHigh, in between with a probability rising linearly.
func (s *Server) overloaded() bool {
	queued, capacity := s.backlog.Backlog()
	if capacity <= 0 {
		return false
	}
	fill := uint64(max(queued, 0)) * 100 // percent × capacity
	low, high := uint64(capacity)*overloadLow, uint64(capacity)*overloadHigh
	switch {
	case fill <= low:
		return false
	case fill >= high:
		return true
	}
	return rand.Uint64N(high-low) < fill-low
}

// handleDatagram2 verifies and answers a Datagram2 (on a verify
// worker); from is its claimed sender, as PeekDatagram2 read it, and
// cost its price against the sender's connect budget.
func (s *Server) handleDatagram2(fromPort uint16, payload []byte, from i2p.Destination, cost int) {
	var d datagram.Datagram2
	if err := datagram.VerifyDatagram2(payload, from, s.self, s.cfg.Now(), &d); err != nil {
		s.dropDatagram(dropForDatagram(err), datagram.ProtocolDatagram2, fromPort, s.cfg.Port, len(payload), err)
		return
	}
	s.swarms.RememberDestination(d.From)
	h, err := ParseHeader(d.Payload)
	if err != nil {
		s.dropDatagram(DropMalformed, datagram.ProtocolDatagram2, fromPort, s.cfg.Port, len(payload), err)
		return
	}
	switch h.Action {
	case ActionConnect:
	case ActionAnnounce, ActionScrape:
		s.stats.errorReply(ErrorWrongDatagram)
		s.send(d.From.Bytes(), fromPort, s.errorPayload(h.TransactionID, msgNeedDatagram3))
		return
	default:
		s.stats.errorReply(ErrorUnknownAction)
		s.send(d.From.Bytes(), fromPort, s.errorPayload(h.TransactionID, msgUnknownAction))
		return
	}
	if err := CheckConnect(h); err != nil {
		s.stats.drop(DropMalformed)
		return
	}
	sender := d.From.Hash()
	if !s.limits().Allow(ratelimit.Connect, (*ratelimit.Key)(&sender), s.cfg.Now().UnixNano(), cost) {
		s.stats.errorReply(ErrorConnectLimited)
		s.send(d.From.Bytes(), fromPort, s.errorPayload(h.TransactionID, msgLimited))
		return
	}
	s.stats.connects.Add(1)
	buf := s.bufs.Get().(*[replyBufLen]byte)
	reply := AppendConnectResponse(buf[:0], h.TransactionID, s.ids.Issue(&sender, s.cfg.Now()), s.ids.Lifetime())
	s.send(d.From.Bytes(), fromPort, reply)
	s.bufs.Put(buf)
}

// Error messages sent back to clients.
const (
	msgNeedDatagram2 = "connect must be sent as a Datagram2"
	msgNeedDatagram3 = "announce and scrape must be sent as a Datagram3"
	msgBadConnID     = "Invalid connection ID"
	msgUnknownAction = "unknown action"
	msgMalformed     = "malformed request: "
	msgRefused       = "tracker refused the announce: "
	msgInternal      = "internal error"
	msgLimited       = "too many requests: slow down"
)

func (s *Server) handleDatagram3(fromPort uint16, payload []byte) {
	var d datagram.Datagram3
	if err := datagram.ParseDatagram3(payload, &d); err != nil {
		s.dropDatagram(dropForDatagram(err), datagram.ProtocolDatagram3, fromPort, s.cfg.Port, len(payload), err)
		return
	}
	if d.From.IsZero() {
		s.dropDatagram(DropZeroSender, datagram.ProtocolDatagram3, fromPort, s.cfg.Port, len(payload), nil)
		return
	}
	h, err := ParseHeader(d.Payload)
	if err != nil {
		s.dropDatagram(DropMalformed, datagram.ProtocolDatagram3, fromPort, s.cfg.Port, len(payload), err)
		return
	}
	buf := s.bufs.Get().(*[replyBufLen]byte)
	defer s.bufs.Put(buf)
	var reply []byte
	proved := false
	switch h.Action {
	case ActionConnect:
		s.stats.errorReply(ErrorWrongDatagram)
		reply = AppendErrorResponse(buf[:0], h.TransactionID, msgNeedDatagram2)
	case ActionAnnounce, ActionScrape:
		proved = s.ids.Valid(h.ConnectionID, &d.From, s.cfg.Now())
		if !proved {
			s.stats.errorReply(ErrorBadConnID)
			reply = AppendErrorResponse(buf[:0], h.TransactionID, msgBadConnID)
		} else {
			reply = s.served(buf, &d.From, d.Payload, h)
		}
	default:
		s.stats.errorReply(ErrorUnknownAction)
		reply = AppendErrorResponse(buf[:0], h.TransactionID, msgUnknownAction)
	}
	s.replyToHash(d.From, fromPort, reply, proved)
}

// served answers an announce or scrape from a sender whose connection
// id proved it, within the sender's budget for the kind.
func (s *Server) served(buf *[replyBufLen]byte, from *i2p.Hash, payload []byte, h Header) []byte {
	kind, refusal := ratelimit.Announce, ErrorAnnounceLimited
	if h.Action == ActionScrape {
		kind, refusal = ratelimit.Scrape, ErrorScrapeLimited
	}
	if !s.limits().Allow(kind, (*ratelimit.Key)(from), s.cfg.Now().UnixNano(), 1) {
		s.stats.errorReply(refusal)
		return AppendErrorResponse(buf[:0], h.TransactionID, msgLimited)
	}
	if h.Action == ActionAnnounce {
		return s.announce(buf, from, payload, h.TransactionID)
	}
	return s.scrape(buf, payload, h.TransactionID)
}

func (s *Server) announce(buf *[replyBufLen]byte, from *i2p.Hash, payload []byte, tx uint32) []byte {
	sc := s.scratch.Get().(*announceScratch)
	defer s.scratch.Put(sc)
	a := &sc.ann
	if err := ParseAnnounce(payload, a); err != nil {
		s.stats.errorReply(ErrorMalformed)
		if tracker.Debugging(s.cfg.Logger) {
			tracker.LogRequest(s.cfg.Logger, &tracker.RequestLine{Transport: "udp", Kind: "announce", Peer: *from, Result: "malformed: " + err.Error()})
		}
		return AppendErrorResponse(buf[:0], tx, msgMalformed+err.Error())
	}
	// The URL data (a.URLData, bounded by MaxURLData) is counted and
	// handed to the swarm model with the request.
	if len(a.URLData) > 0 {
		s.stats.urlData.Add(1)
	}
	if a.BadOptions {
		s.stats.badOptions.Add(1)
	}
	left := a.Left
	if a.Event == tracker.EventCompleted {
		left = 0 // a client that just completed is a seed, whatever it says
	}
	// A negative num_want passes through: the swarm model applies its
	// (live) default.
	sc.req = tracker.AnnounceRequest{InfoHash: a.InfoHash, Peer: *from, Event: a.Event, Left: left, NumWant: int(a.NumWant), URLData: a.URLData}
	if a.Bid.Present {
		a.Bid.announce(&sc.bids)
		sc.req.Bids = &sc.bids
	}
	res, err := s.swarms.Announce(&sc.req, sc.peers[:])
	if tracker.Debugging(s.cfg.Logger) {
		l := tracker.RequestLine{Transport: "udp", Kind: "announce", InfoHash: a.InfoHash, Peer: *from, Event: a.Event, NumWant: int(a.NumWant),
			Peers: min(res.NumPeers, MaxPeers), Result: "ok"}
		if err != nil {
			l.Result = "refused: " + err.Error()
		}
		tracker.LogRequest(s.cfg.Logger, &l)
	}
	if err != nil {
		return s.refused(buf, tx, err)
	}
	s.stats.announces.Add(1)
	out := AppendAnnounceResponseHeader(buf[:0], tx, res.Interval, res.Leechers, res.Seeders)
	n := min(res.NumPeers, MaxPeers)
	for i := range n {
		out = append(out, sc.peers[i][:]...)
	}
	if sc.req.Bids != nil && sc.bids.Applied {
		out = appendBidBlock(out, &sc.bids, n)
	}
	return out
}

// refused answers an announce the swarm model refused: with the text of
// a tracker.ClientError, else (an error of the tracker's own, logged)
// with msgInternal.
func (s *Server) refused(buf *[replyBufLen]byte, tx uint32, err error) []byte {
	s.stats.errorReply(ErrorRefused)
	msg := msgInternal
	if ce, ok := errors.AsType[*tracker.ClientError[tracker.RefusedReason]](err); ok {
		msg = ce.Msg
	} else {
		s.cfg.Logger.Error("announce failed", "err", err)
	}
	return AppendErrorResponse(buf[:0], tx, msgRefused+msg)
}

func (s *Server) scrape(buf *[replyBufLen]byte, payload []byte, tx uint32) []byte {
	var sc Scrape
	if err := ParseScrape(payload, &sc); err != nil {
		s.stats.errorReply(ErrorMalformed)
		return AppendErrorResponse(buf[:0], tx, msgMalformed+err.Error())
	}
	s.stats.scrapes.Add(1)
	if tracker.Debugging(s.cfg.Logger) && sc.Len() > 0 {
		tracker.LogRequest(s.cfg.Logger, &tracker.RequestLine{Transport: "udp", Kind: "scrape", InfoHash: sc.Hash(0), Result: "ok"})
	}
	out := AppendScrapeResponseHeader(buf[:0], tx)
	for i := range sc.Len() {
		r := s.swarms.Scrape(sc.Hash(i))
		out = AppendScrapeEntry(out, r.Seeders, r.Completed, r.Leechers)
	}
	return out
}

func (s *Server) errorPayload(tx uint32, msg string) []byte {
	return AppendErrorResponse(make([]byte, 0, 8+len(msg)), tx, msg)
}

// send sends a raw reply to a known Destination.
func (s *Server) send(to []byte, toPort uint16, payload []byte) {
	if err := s.session.SendSerialized(to, datagram.ProtocolRaw, s.cfg.Port, toPort, payload); err != nil {
		s.stats.sendFailures.Add(1)
		return
	}
	s.stats.replies.Add(1)
}

// replyToHash sends to a Datagram3 sender: from the cache when we know
// its Destination, else after a background HostLookup. The payload is
// copied when it has to wait. A sender whose connection id did not
// prove it (proved false: anyone can claim any hash) is looked up only
// within a budget of its own, MaxUnprovedLookups, so random senders
// cannot take the lookups real peers need.
func (s *Server) replyToHash(h i2p.Hash, toPort uint16, payload []byte, proved bool) {
	bp := s.destBufs.Get().(*[]byte)
	d, ok := s.swarms.AppendDestination((*bp)[:0], h)
	if ok {
		s.send(d, toPort, payload)
	}
	*bp = d[:0]
	s.destBufs.Put(bp)
	if ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pendingN >= s.cfg.MaxPendingReplies {
		s.stats.drop(DropPendingFull)
		return
	}
	reply := pendingReply{toPort: toPort, payload: append([]byte(nil), payload...)}
	if p, ok := s.pending[h]; ok {
		p.replies = append(p.replies, reply)
		s.pendingN++
		return
	}
	switch {
	case !proved && s.unprovedBusy >= s.cfg.MaxUnprovedLookups:
		s.stats.drop(DropUnprovedLookupsBusy)
		return
	case proved && s.lookupsBusy >= s.cfg.MaxLookups:
		s.stats.drop(DropLookupsBusy) // a real peer starved of lookups
		return
	}
	s.pending[h] = &pendingReplies{replies: []pendingReply{reply}}
	s.pendingN++
	if proved {
		s.lookupsBusy++
	} else {
		s.unprovedBusy++
	}
	s.stats.lookups.Add(1)
	go s.lookup(s.ctx, h, proved)
}

// lookup resolves h and sends what waited for it. One goroutine per
// distinct unknown sender, at most MaxLookups (proved senders) plus
// MaxUnprovedLookups at once.
func (s *Server) lookup(ctx context.Context, h i2p.Hash, proved bool) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.LookupTimeout)
	d, err := s.session.Lookup(ctx, h)
	cancel()
	s.mu.Lock()
	p := s.pending[h]
	delete(s.pending, h)
	s.pendingN -= len(p.replies)
	if proved {
		s.lookupsBusy--
	} else {
		s.unprovedBusy--
	}
	s.mu.Unlock()
	if err != nil {
		s.stats.lookupFailures.Add(1)
		s.stats.drop(DropLookupFailed)
		if !errors.Is(err, context.Canceled) {
			s.cfg.Logger.Debug("lookup of announcing peer failed", "peer", h.B32(), "err", err)
		}
		return
	}
	if d.Hash() != h {
		s.stats.lookupFailures.Add(1)
		s.stats.drop(DropLookupFailed)
		return
	}
	s.swarms.CacheDestination(d)
	for _, r := range p.replies {
		s.send(d.Bytes(), r.toPort, r.payload)
	}
}

func dropForDatagram(err error) DropReason {
	switch {
	case errors.Is(err, datagram.ErrBadSignature):
		return DropBadSignature
	case errors.Is(err, datagram.ErrBadOffline):
		return DropBadSignature
	default:
		return DropMalformedDatagram
	}
}
