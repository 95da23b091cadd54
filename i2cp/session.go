package i2cp

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// DefaultAddr is where routers serve I2CP.
const DefaultAddr = "127.0.0.1:7654"

// MaxRouterFrame is the largest message body routers take from a client
// (i2pd: 65535); a larger one makes i2pd drop the whole connection.
const MaxRouterFrame = 65535

// Errors a Session reports.
var (
	ErrNotReady     = errors.New("i2cp: session not up")
	ErrQueueFull    = errors.New("i2cp: send queue full")
	ErrDisconnected = errors.New("i2cp: disconnected from the router")
	ErrLookupFailed = errors.New("i2cp: lookup found nothing")
	ErrRefused      = errors.New("i2cp: router refused the session")
)

// Message is one received payload. Payload is valid only during the
// handler call: copy what must outlive it.
type Message struct {
	Protocol         uint8
	FromPort, ToPort uint16
	Payload          []byte
}

// Handler processes received messages. It runs on the receive goroutine
// and must not block.
type Handler func(m *Message)

// Phase is where a Session's link to the router stands.
type Phase int

// The phases, in the order a healthy session goes through them.
const (
	PhaseStopped Phase = iota
	PhaseConnecting
	PhaseConnected
	PhaseSessionUp
	PhasePublished
	PhaseDisconnected
)

func (p Phase) String() string {
	return [...]string{"stopped", "connecting", "connected", "session up", "LeaseSet published", "disconnected"}[p]
}

// State is a Phase with its detail and when it began.
type State struct {
	Phase  Phase
	Detail string
	Since  time.Time
}

// Config configures a Session. The zero value connects to DefaultAddr.
type Config struct {
	// Addr is "host:port" or "unix:/path"; with Dial set it only names
	// the link in logs and states.
	Addr string
	// Dial opens the connection to the router, for routers that host the
	// tracker in-process (a net.Pipe) or anything unusual.
	Dial func(ctx context.Context) (net.Conn, error)
	// Options override the session defaults (DefaultOptions).
	Options i2p.Mapping
	// LegacyLeaseSet publishes the older LeaseSet with an ElGamal key
	// instead of a LeaseSet2 with X25519, for old routers (i2pd < 2.48).
	LegacyLeaseSet bool
	// NoLeaseSetBundle sends with SendMessageExpires and the flag that
	// keeps our LeaseSet out of replies.
	NoLeaseSetBundle bool
	// Compress deflates payloads over 66 bytes that shrink, as the Java
	// client does (AppendGzipCompressed); the rest, and every payload
	// while it is off, go as one stored block. It is off by default: a
	// tracker's replies are hashes, ids and signatures that never
	// shrink, and trying would cost each one over 66 bytes a scan or a
	// deflate pass of a few microseconds, on a send path that takes
	// about 5 µs per announce in all. Turn it on for text-like payloads.
	Compress           bool
	Username, Password string
	SendQueue          int // frames; default 8192
	// KeepAlive is the link check period (default 15 s): a GetDate goes
	// out when nothing was sent or received in a period, and a router
	// that answers nothing for two periods is taken as gone.
	KeepAlive time.Duration
	// Coalesce, when set, lets input gather after a small batch: the
	// reader waits this long before it reads again, so that a steady
	// trickle of messages costs one wake-up per few messages instead of
	// one each (replies wait as long; I2P's tunnels take far longer).
	Coalesce   time.Duration
	MinBackoff time.Duration // default 1 s
	MaxBackoff time.Duration // default 60 s
	// OnState is called on every state change, from the session's own
	// goroutines: it must return quickly.
	OnState func(State)
	// OnMessageStatus, with i2cp.messageReliability set to anything but
	// "none" in Options (BestEffort, say), is called for every
	// MessageStatus the router sends: nonce is what SendTracked returned
	// for the message, status a Msg code (MsgAccepted first, then a
	// success or failure). It runs on the receive goroutine and must not
	// block. With reliability none (the default) routers send no
	// statuses and messages carry nonce 0.
	OnMessageStatus func(nonce uint32, status uint8)
	Logger          *slog.Logger
}

// DefaultOptions are what a tracker wants of its session.
func DefaultOptions() i2p.Mapping {
	return i2p.Mapping{
		{Key: "inbound.quantity", Value: "3"},
		{Key: "outbound.quantity", Value: "3"},
		{Key: "inbound.length", Value: "3"},
		{Key: "outbound.length", Value: "3"},
		{Key: "i2cp.fastReceive", Value: "true"},
		{Key: "i2cp.messageReliability", Value: "none"},
		{Key: "i2cp.leaseSetEncType", Value: "4"},
		{Key: "inbound.nickname", Value: "go-opentracker"},
		{Key: "outbound.nickname", Value: "go-opentracker"},
	}
}

// Stats are a Session's counters.
type Stats struct {
	Received, Sent                     uint64
	DroppedUnclaimed, DroppedMalformed uint64
	DroppedQueueFull, DroppedNotReady  uint64
	Lookups, LookupFailures            uint64
	DroppedStale, DroppedTooLarge      uint64 // queued for an earlier session; over the router's frame limit
	Reconnects                         uint64
	RouterSilent                       uint64 // links dropped because the router stopped answering

	// MessageStatus reports (with i2cp.messageReliability other than
	// none): messages the router accepted, reported delivered (success
	// codes) and reported failed, the failures by status code (index 31
	// counts codes 31 and over).
	MessagesAccepted, MessagesSucceeded uint64
	MessageFailures                     uint64
	FailedByStatus                      [32]uint64
	// StatusUnmatched counts reports for no message awaiting one (late
	// ones for lost messages, duplicates, nonce 0); StatusLost, messages
	// whose final report never came: pushed out of the 4096 followed at
	// once by newer sends, or in flight when the link went down.
	StatusUnmatched, StatusLost uint64
}

// Session is one I2CP session for one identity, kept up across router
// restarts. Safe for concurrent use.
type Session struct {
	keys   *i2p.PrivateKeys
	lsKeys i2p.LeaseSetKeys
	cfg    Config
	opts   i2p.Mapping
	// addrSet: Addr was given (with Dial it names what Dial reaches).
	addrSet bool

	handlers atomic.Pointer[map[uint32]Handler]
	handleMu sync.Mutex

	out  *outbox     // encoded SendMessage frames
	ctrl chan []byte // control frames, never dropped
	// gather is set while the reader handles frames: replies gather in
	// the outbox and the reader writes them in one write before it waits
	// for more input.
	gather atomic.Bool

	sessionID atomic.Int32 // -1 while no session
	state     atomic.Pointer[State]
	readyMu   sync.Mutex
	ready     chan struct{} // closed while published

	lookupMu sync.Mutex
	lookups  map[uint32]chan lookupResult
	nextReq  atomic.Uint32

	// track follows messages sent with a nonce; nil with reliability
	// none, when sends carry nonce 0 and cost nothing more.
	track *deliveryTracker

	received, sent, unclaimed, malformed, queueFull, notReady atomic.Uint64
	lookupsN, lookupFails, reconnects                         atomic.Uint64
	stale, tooLarge, silent                                   atomic.Uint64
	msgAccepted, msgSucceeded                                 atomic.Uint64
	statusUnmatched, statusLost                               atomic.Uint64
	failedBy                                                  [failureCodes]atomic.Uint64
}

type lookupResult struct {
	d   i2p.Destination
	err error
}

// NewSession makes a Session for keys; Run connects it.
func NewSession(keys *i2p.PrivateKeys, cfg Config) (*Session, error) {
	addrSet := cfg.Addr != ""
	if !addrSet {
		cfg.Addr = DefaultAddr
	}
	if cfg.SendQueue <= 0 {
		cfg.SendQueue = 8192
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = 15 * time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 60 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if o := keys.Offline; o != nil {
		if cfg.LegacyLeaseSet {
			return nil, errors.New("i2cp: the older LeaseSet cannot carry an offline signature: use LeaseSet2 (LegacyLeaseSet off) or a key file without offline keys")
		}
		if err := o.Verify(keys.Destination, time.Now()); err != nil {
			return nil, fmt.Errorf("i2cp: identity: %w", err)
		}
	}
	lsKeys, err := keys.LeaseSetKeys()
	if err != nil {
		return nil, err
	}
	s := &Session{keys: keys, lsKeys: lsKeys, cfg: cfg, addrSet: addrSet, opts: mergeOptions(DefaultOptions(), cfg.Options),
		out: newOutbox(cfg.SendQueue), ctrl: make(chan []byte, 64),
		ready: make(chan struct{}), lookups: map[uint32]chan lookupResult{}}
	if cfg.LegacyLeaseSet {
		s.opts = mergeOptions(s.opts, i2p.Mapping{{Key: "i2cp.leaseSetEncType", Value: "0"}})
	}
	if WantsMessageStatus(s.opts) {
		s.track = &deliveryTracker{}
	}
	s.sessionID.Store(-1)
	empty := map[uint32]Handler{}
	s.handlers.Store(&empty)
	s.setState(PhaseStopped, "")
	return s, nil
}

// mergeOptions returns base with the pairs of over: a key base has
// takes over's value in place, a new key is appended.
func mergeOptions(base, over i2p.Mapping) i2p.Mapping {
	out := append(i2p.Mapping(nil), base...)
	for _, p := range over {
		replaced := false
		for i := range out {
			if out[i].Key == p.Key {
				out[i].Value, replaced = p.Value, true
			}
		}
		if !replaced {
			out = append(out, p)
		}
	}
	return out
}

// Destination is the session's own Destination.
func (s *Session) Destination() i2p.Destination { return s.keys.Destination }

// Handle registers h for protocol on port (0: any port). A handler for a
// specific port wins over one for any port. Handlers survive reconnects.
func (s *Session) Handle(protocol uint8, port uint16, h Handler) {
	s.handleMu.Lock()
	defer s.handleMu.Unlock()
	next := map[uint32]Handler{}
	for k, v := range *s.handlers.Load() {
		next[k] = v
	}
	next[uint32(protocol)<<16|uint32(port)] = h
	s.handlers.Store(&next)
}

func (s *Session) dispatch(m *Message) {
	table := *s.handlers.Load()
	h := table[uint32(m.Protocol)<<16|uint32(m.ToPort)]
	if h == nil {
		h = table[uint32(m.Protocol)<<16]
	}
	if h == nil {
		s.unclaimed.Add(1)
		return
	}
	h(m)
}

// State returns the current state.
func (s *Session) State() State { return *s.state.Load() }

func (s *Session) setState(p Phase, detail string) {
	st := &State{Phase: p, Detail: detail, Since: time.Now()}
	s.state.Store(st)
	if s.cfg.OnState != nil {
		s.cfg.OnState(*st)
	}
}

// Ready returns a channel that is closed while the session is up and its
// LeaseSet published.
func (s *Session) Ready() <-chan struct{} {
	s.readyMu.Lock()
	defer s.readyMu.Unlock()
	return s.ready
}

// WaitReady blocks until the session is published or ctx ends.
func (s *Session) WaitReady(ctx context.Context) error {
	select {
	case <-s.Ready():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Backlog is how many frames wait for the router and how many may wait
// before sends are refused (ErrQueueFull): a congestion signal a
// transport can read on every message, to drop work early while the
// queue fills (it takes no lock).
func (s *Session) Backlog() (queued, capacity int) {
	return int(s.out.queued.Load()), s.out.maxFrame
}

// Stats returns a copy of the counters.
func (s *Session) Stats() Stats {
	st := Stats{
		Received: s.received.Load(), Sent: s.sent.Load(),
		DroppedUnclaimed: s.unclaimed.Load(), DroppedMalformed: s.malformed.Load(),
		DroppedQueueFull: s.queueFull.Load(), DroppedNotReady: s.notReady.Load(),
		Lookups: s.lookupsN.Load(), LookupFailures: s.lookupFails.Load(),
		DroppedStale: s.stale.Load(), DroppedTooLarge: s.tooLarge.Load(),
		Reconnects: s.reconnects.Load(), RouterSilent: s.silent.Load(),
		MessagesAccepted: s.msgAccepted.Load(), MessagesSucceeded: s.msgSucceeded.Load(),
		StatusUnmatched: s.statusUnmatched.Load(), StatusLost: s.statusLost.Load(),
	}
	for i := range st.FailedByStatus {
		st.FailedByStatus[i] = s.failedBy[i].Load()
		st.MessageFailures += st.FailedByStatus[i]
	}
	return st
}

// Send wraps payload in the gzip envelope (protocol, ports) and queues it
// for to. It never blocks: with the queue full the message is dropped and
// counted.
func (s *Session) Send(to i2p.Destination, protocol uint8, fromPort, toPort uint16, payload []byte) error {
	return s.SendSerialized(to.Bytes(), protocol, fromPort, toPort, payload)
}

// SendSerialized is Send to a Destination given as its serialized bytes
// (a cache's copy, say), which it copies into the message.
func (s *Session) SendSerialized(to []byte, protocol uint8, fromPort, toPort uint16, payload []byte) error {
	_, err := s.send(to, protocol, fromPort, toPort, payload)
	return err
}

// SendTracked is SendSerialized that also returns the nonce the message
// carries, under which Config.OnMessageStatus reports what became of it.
// With i2cp.messageReliability none the nonce is 0 and no report comes.
func (s *Session) SendTracked(to []byte, protocol uint8, fromPort, toPort uint16, payload []byte) (nonce uint32, err error) {
	return s.send(to, protocol, fromPort, toPort, payload)
}

func (s *Session) send(to []byte, protocol uint8, fromPort, toPort uint16, payload []byte) (uint32, error) {
	h := Header{Protocol: protocol, FromPort: fromPort, ToPort: toPort}
	if s.cfg.Compress && mayShrink(payload) {
		// The compressed envelope is made before the outbox is locked:
		// deflate takes microseconds, which other senders and the writer
		// must not wait for. Any other payload is stored, written once
		// straight into its frame.
		zbuf := envelopes.Get().(*[]byte)
		*zbuf = appendDeflated((*zbuf)[:0], h, payload)
		nonce, err := s.enqueue(to, h, payload, *zbuf)
		envelopes.Put(zbuf)
		return nonce, err
	}
	return s.enqueue(to, h, payload, nil)
}

// enqueue queues a SendMessage of payload in the envelope env, or, with
// env nil, in the stored-block envelope it writes itself.
func (s *Session) enqueue(to []byte, h Header, payload, env []byte) (uint32, error) {
	glen := GzipLen(len(payload))
	if env != nil {
		glen = len(env)
	}
	typ := byte(TypeSendMessage)
	extra := 0
	if s.cfg.NoLeaseSetBundle {
		typ, extra = TypeSendMessageExpires, 8
	}
	body := 2 + len(to) + 4 + glen + 4 + extra
	if body > MaxRouterFrame {
		s.tooLarge.Add(1)
		return 0, fmt.Errorf("%w: a %d-byte payload makes a %d-byte SendMessage (routers take %d)", ErrPayloadTooLarge, len(payload), body, MaxRouterFrame)
	}
	b, ok := s.out.reserve(frameHeaderLen + body)
	if !ok {
		s.queueFull.Add(1)
		return 0, ErrQueueFull
	}
	// The session id is read under the outbox's lock: a disconnect
	// clears the outbox after it clears the id, so no frame for an
	// earlier session stays queued.
	id := s.sessionID.Load()
	if id < 0 {
		s.out.cancel()
		s.notReady.Add(1)
		return 0, ErrNotReady
	}
	// Nonce 0 asks for no MessageStatus; with reliability requested
	// every message gets its own, followed until its final status.
	var nonce uint32
	if s.track != nil {
		var evicted bool
		if nonce, evicted = s.track.add(); evicted {
			s.statusLost.Add(1)
		}
	}
	b = AppendFrameHeader(b, typ, body)
	b = binary.BigEndian.AppendUint16(b, uint16(id))
	b = append(b, to...)
	b = binary.BigEndian.AppendUint32(b, uint32(glen))
	if env != nil {
		b = append(b, env...)
	} else {
		b = AppendGzip(b, h, payload)
	}
	b = binary.BigEndian.AppendUint32(b, nonce)
	if extra > 0 {
		b = binary.BigEndian.AppendUint16(b, FlagNoLeaseSet)
		ms := uint64(time.Now().Add(2 * time.Minute).UnixMilli())
		b = append(b, byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms))
	}
	// While the reader handles a batch it writes the replies itself at
	// the batch's end; the writer is woken only every gatherFrames
	// frames, so that writing overlaps reading in long batches.
	if n := s.out.commit(b); !s.gather.Load() || n >= gatherFrames {
		s.out.signal()
	}
	return nonce, nil
}

// envelopes holds scratch buffers for compressed envelopes.
var envelopes = sync.Pool{New: func() any { return new([]byte) }}

// coalesceBelow: a batch this small means input trickles in; with
// Config.Coalesce set the reader then waits before it reads again, as
// long as the input rate stays below coalesceRate: above it a wait
// would only hold back a client that waits for its replies (measured:
// a gate at 100,000 with a 2 ms wait kept a client with 128 requests in
// flight below it, at half its rate).
const (
	coalesceBelow = 64
	coalesceRate  = 50_000 // frames a second
)

// rateGate measures the reader's input rate over windows of 10 ms.
type rateGate struct {
	start  time.Time
	frames int
	isSlow bool
}

// slow counts n more frames and reports whether the rate of the last
// full window was below coalesceRate.
func (g *rateGate) slow(n int) bool {
	g.frames += n
	now := time.Now()
	if d := now.Sub(g.start); d >= 10*time.Millisecond {
		g.isSlow = float64(g.frames) < coalesceRate*d.Seconds()
		g.start, g.frames = now, 0
	}
	return g.isSlow
}

// gatherFrames is how many replies the reader lets gather before the
// writer starts on them, so that reading and writing overlap.
const gatherFrames = 64

// Lookup asks the router for the Destination whose hash is h.
func (s *Session) Lookup(ctx context.Context, h i2p.Hash) (i2p.Destination, error) {
	return s.lookup(ctx, HostLookup{Type: LookupHash, Hash: h})
}

// LookupName asks the router to resolve a host name (e.g. "x.i2p").
func (s *Session) LookupName(ctx context.Context, name string) (i2p.Destination, error) {
	return s.lookup(ctx, HostLookup{Type: LookupName, Name: name})
}

func (s *Session) lookup(ctx context.Context, hl HostLookup) (i2p.Destination, error) {
	id := s.sessionID.Load()
	if id < 0 {
		return i2p.Destination{}, ErrNotReady
	}
	s.lookupsN.Add(1)
	hl.SessionID = uint16(id)
	hl.RequestID = s.nextReq.Add(1)
	hl.Timeout = 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		hl.Timeout = min(max(time.Until(dl), time.Millisecond), 5*time.Minute)
	}
	// The router answers within Timeout; a lookup lost with its link (or
	// queued for a session that ended) must not wait forever.
	ctx, cancel := context.WithTimeout(ctx, hl.Timeout+5*time.Second)
	defer cancel()
	ch := make(chan lookupResult, 1)
	s.lookupMu.Lock()
	s.lookups[hl.RequestID] = ch
	s.lookupMu.Unlock()
	defer func() {
		s.lookupMu.Lock()
		delete(s.lookups, hl.RequestID)
		s.lookupMu.Unlock()
	}()
	select {
	case s.ctrl <- AppendHostLookup(nil, hl):
	case <-ctx.Done():
		s.lookupFails.Add(1)
		return i2p.Destination{}, ctx.Err()
	}
	select {
	case r := <-ch:
		if r.err != nil {
			s.lookupFails.Add(1)
		}
		return r.d, r.err
	case <-ctx.Done():
		s.lookupFails.Add(1)
		return i2p.Destination{}, ctx.Err()
	}
}

// Run keeps the session connected until ctx ends, reconnecting with
// exponential backoff (jittered, capped) and re-creating the session with
// the same identity. It returns nil when ctx ends.
//
// The router's SessionStatus is handled so: Created brings the session
// up; Updated (the answer to a reconfiguration) and Host change nothing;
// Destroyed, Invalid (the router found the configuration or the session
// invalid) and Refused end the link, reported as a disconnect whose
// detail names the status, and Run connects again. So does a Disconnect
// from the router, whose reason the detail quotes. Handlers stay
// registered throughout.
func (s *Session) Run(ctx context.Context) error {
	backoff := s.cfg.MinBackoff
	for first := true; ; first = false {
		if !first {
			s.reconnects.Add(1)
		}
		s.setState(PhaseConnecting, s.addrText())
		published, err := s.connectOnce(ctx)
		s.down(err)
		if ctx.Err() != nil {
			s.setState(PhaseStopped, "")
			return nil
		}
		if published {
			backoff = s.cfg.MinBackoff
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		s.cfg.Logger.Warn("i2cp: router link down; retrying", "addr", s.addrText(), "err", err, "retry_in", wait.Round(time.Millisecond))
		s.setState(PhaseDisconnected, fmt.Sprintf("%v (retrying in %s)", err, wait.Round(time.Second)))
		select {
		case <-ctx.Done():
			s.setState(PhaseStopped, "")
			return nil
		case <-time.After(wait):
		}
		backoff = min(backoff*2, s.cfg.MaxBackoff)
	}
}

func (s *Session) addrText() string {
	if s.cfg.Dial != nil && !s.addrSet {
		return "in-process"
	}
	return s.cfg.Addr
}

func (s *Session) dial(ctx context.Context) (net.Conn, error) {
	if s.cfg.Dial != nil {
		return s.cfg.Dial(ctx)
	}
	var d net.Dialer
	if path, ok := strings.CutPrefix(s.cfg.Addr, "unix:"); ok {
		return d.DialContext(ctx, "unix", path)
	}
	return d.DialContext(ctx, "tcp", s.cfg.Addr)
}

// down resets per-connection state: no session, lookups failed, queued
// frames (encoded for the old session) discarded.
func (s *Session) down(err error) {
	s.sessionID.Store(-1)
	s.readyMu.Lock()
	select {
	case <-s.ready:
		s.ready = make(chan struct{})
	default:
	}
	s.readyMu.Unlock()
	s.lookupMu.Lock()
	for id, ch := range s.lookups {
		ch <- lookupResult{err: fmt.Errorf("%w: %v", ErrDisconnected, err)}
		delete(s.lookups, id)
	}
	s.lookupMu.Unlock()
	s.stale.Add(uint64(s.out.reset()))
	if s.track != nil {
		s.statusLost.Add(uint64(s.track.reset()))
	}
	for {
		select {
		case <-s.ctrl:
		default:
			return
		}
	}
}

// connectOnce runs one connection to its end and reports whether the
// session got published on it. It returns only after its reader and
// writer have stopped, so nothing of this connection outlives it.
func (s *Session) connectOnce(ctx context.Context) (published bool, err error) {
	conn, err := s.dial(ctx)
	if err != nil {
		return false, fmt.Errorf("connect to router at %s: %w", s.addrText(), err)
	}
	defer conn.Close()
	unwatch := context.AfterFunc(ctx, func() { conn.Close() }) // until the writer takes over
	br := bufio.NewReaderSize(conn, 64<<10)
	bw := bufio.NewWriterSize(conn, 64<<10)
	if err := s.handshake(br, bw, conn); err != nil {
		unwatch()
		return false, err
	}
	s.setState(PhaseConnected, s.addrText())
	cs, err := AppendCreateSession(nil, s.keys, s.opts, time.Now())
	if err == nil {
		_, err = bw.Write(cs)
	}
	if err == nil {
		err = bw.Flush()
	}
	if !unwatch() || err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, err
	}

	// When ctx ends the writer says goodbye; a write stuck on a router
	// that reads nothing is cut off after a second.
	l := newLink(conn, bw)
	defer context.AfterFunc(ctx, func() { l.cutOff(time.Second) })()

	var rx atomic.Uint64 // frames read: the writer's liveness check
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	writeErr := make(chan error, 1)
	go func() { writeErr <- s.writeLoop(ctx, stop, l, &rx); close(writerDone) }()
	readErr := make(chan error, 1)
	var pub atomic.Bool
	go func() { readErr <- s.readLoop(br, l, &pub, &rx, writerDone) }()
	select {
	case err = <-readErr:
		close(stop)
		<-writeErr
	case err = <-writeErr:
		conn.Close()
		<-readErr
	}
	return pub.Load(), err
}

func (s *Session) handshake(br *bufio.Reader, bw *bufio.Writer, conn net.Conn) error {
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	defer conn.SetDeadline(time.Time{})
	var opts i2p.Mapping
	if s.cfg.Username != "" || s.cfg.Password != "" {
		opts = i2p.Mapping{{Key: "i2cp.username", Value: s.cfg.Username}, {Key: "i2cp.password", Value: s.cfg.Password}}
	}
	gd, err := AppendGetDate([]byte{ProtocolByte}, GetDate{Version: ProtocolVersion, Options: opts})
	if err != nil {
		return err
	}
	if _, err := bw.Write(gd); err != nil {
		return fmt.Errorf("i2cp handshake: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("i2cp handshake: %w", err)
	}
	typ, body, err := ReadFrame(br, nil)
	if err != nil {
		return fmt.Errorf("i2cp handshake: %w", err)
	}
	switch typ {
	case TypeSetDate:
		sd, err := ParseSetDate(body)
		if err != nil {
			return err
		}
		s.cfg.Logger.Debug("i2cp: connected", "router_version", sd.Version)
		return nil
	case TypeDisconnect:
		reason, _ := ParseDisconnect(body)
		return fmt.Errorf("%w: %s", ErrDisconnected, reason)
	}
	return fmt.Errorf("%w: expected SetDate, got message type %d", ErrMalformed, typ)
}

// link serializes the writes of one connection: the writer goroutine's
// and the reader's own, which sends the replies of a batch it has read
// itself, saving a wake-up of the writer per batch. The reader's writes
// are bounded in time (inlineBudget): a router that stops reading must
// not stop us reading, so what does not go out in time is left, as the
// unwritten tail of its frame, for the writer goroutine to send first.
type link struct {
	mu   sync.Mutex
	conn net.Conn
	bw   *bufio.Writer // control frames; flushed before mu is released
	rest []byte        // unwritten tail of a reader's write
	// closing is set when the session ends: write deadlines then stay.
	closing atomic.Bool
}

// inlineBudget bounds one write by the reader.
const inlineBudget = 2 * time.Millisecond

func newLink(conn net.Conn, bw *bufio.Writer) *link { return &link{conn: conn, bw: bw} }

// cutOff makes writes stuck on a router that reads nothing fail within
// d, for good (the session is ending).
func (l *link) cutOff(d time.Duration) {
	l.closing.Store(true)
	_ = l.conn.SetWriteDeadline(time.Now().Add(d))
}

// flushRest sends what a reader's write left over; l.mu is held.
func (l *link) flushRest() error {
	if len(l.rest) == 0 {
		return nil
	}
	if _, err := l.conn.Write(l.rest); err != nil {
		return err
	}
	l.rest = l.rest[:0]
	return nil
}

// write sends frame f (whole frames only) and flushes.
func (l *link) write(f []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.flushRest(); err != nil {
		return err
	}
	if _, err := l.bw.Write(f); err != nil {
		return err
	}
	return l.bw.Flush()
}

// writeOut sends every frame queued in the outbox in one write. The
// reader calls it with
// inline set: then it never waits, for the writer's lock or for more
// than inlineBudget on the connection, and reports that the writer must
// finish (handOff).
func (s *Session) writeOut(l *link, inline bool) (handOff bool, err error) {
	if !inline {
		l.mu.Lock()
	} else if !l.mu.TryLock() {
		return true, nil // the writer is writing (maybe stuck): it takes these next
	}
	defer l.mu.Unlock()
	if len(l.rest) > 0 {
		if inline {
			return true, nil // the writer is on it
		}
		if err := l.flushRest(); err != nil {
			return false, err
		}
	}
	// Every frame in the outbox is for the session now up: Send reads
	// the session id under the outbox's lock, and a disconnect empties
	// the outbox after it clears the id.
	b, frames := s.out.take()
	defer s.out.done(b)
	if frames == 0 {
		return false, nil
	}
	s.sent.Add(uint64(frames))
	if !inline || l.closing.Load() {
		_, err := l.conn.Write(b) // bw is empty: nothing to keep in order with
		return false, err
	}
	_ = l.conn.SetWriteDeadline(time.Now().Add(inlineBudget))
	n, err := l.conn.Write(b)
	_ = l.conn.SetWriteDeadline(time.Time{})
	if l.closing.Load() { // cutOff ran meanwhile: its deadline stays
		_ = l.conn.SetWriteDeadline(time.Now().Add(time.Second))
	}
	if errors.Is(err, os.ErrDeadlineExceeded) && !l.closing.Load() {
		l.rest = append(l.rest[:0], b[n:]...)
		return true, nil
	}
	return false, err
}

// writeLoop writes control frames, and data frames when told (the
// reader writes those of its own batches itself). Control frames queued
// for an earlier session are dropped. Every KeepAlive it checks the link: with
// nothing read since the last check it sends a GetDate, and if the one
// before went unanswered the router is gone; with nothing written it
// sends a GetDate as keepalive. When ctx ends it tells the router
// goodbye (DestroySession).
func (s *Session) writeLoop(ctx context.Context, stop <-chan struct{}, l *link, rx *atomic.Uint64) error {
	tick := time.NewTicker(s.cfg.KeepAlive)
	defer tick.Stop()
	var lastRx, lastSent uint64
	pinged, wroteCtrl := false, false
	for {
		select {
		case <-stop:
			return nil
		case <-ctx.Done():
			if id := s.sessionID.Load(); id >= 0 {
				l.cutOff(time.Second)
				_ = l.write(AppendDestroySession(nil, uint16(id)))
			}
			return ctx.Err()
		case f := <-s.ctrl:
			if s.current(f) {
				if err := l.write(f); err != nil {
					return err
				}
				wroteCtrl = true
			}
		case <-s.out.kick:
			if _, err := s.writeOut(l, false); err != nil {
				return err
			}
		case <-tick.C:
			n := rx.Load()
			heard := n != lastRx
			lastRx = n
			if !heard && pinged {
				s.silent.Add(1)
				return fmt.Errorf("%w: router silent for %s", ErrDisconnected, 2*s.cfg.KeepAlive)
			}
			sent := s.sent.Load()
			if !heard || (!wroteCtrl && sent == lastSent) {
				gd, _ := AppendGetDate(nil, GetDate{Version: ProtocolVersion})
				if err := l.write(gd); err != nil {
					return err
				}
			}
			pinged, wroteCtrl, lastSent = !heard, false, sent
		}
	}
}

// current reports whether a queued frame (every one carries its session
// id first in the body) belongs to the session now up; a frame encoded
// for an earlier session is counted and dropped.
func (s *Session) current(f []byte) bool {
	id := s.sessionID.Load()
	if id >= 0 && len(f) >= 7 && binary.BigEndian.Uint16(f[5:]) == uint16(id) {
		return true
	}
	s.stale.Add(1)
	return false
}

func (s *Session) readLoop(br *bufio.Reader, l *link, published *atomic.Bool, rx *atomic.Uint64, writerDone <-chan struct{}) error {
	buf := make([]byte, 0, 64<<10)
	var scratch []byte
	var m Message
	// While it handles frames, the replies they cause gather in the
	// outbox (Send does not wake the writer); before the reader waits
	// for more input it writes them itself, in one write.
	defer s.gather.Store(false)
	batch := 0 // frames read since the reader last waited
	var trickle rateGate
	for {
		if br.Buffered() == 0 {
			s.gather.Store(false) // from here a Send wakes the writer
			handOff, err := s.writeOut(l, true)
			if err != nil {
				return err
			}
			if handOff {
				s.out.signal()
			}
			if s.cfg.Coalesce > 0 && trickle.slow(batch) && batch < coalesceBelow {
				time.Sleep(s.cfg.Coalesce)
			}
			batch = 0
		}
		batch++
		typ, body, err := ReadFrame(br, buf)
		if err != nil {
			return err
		}
		if batch == 1 {
			s.gather.Store(true) // until the reader next waits
		}
		rx.Add(1)
		switch typ {
		case TypeMessagePayload:
			_, _, env, err := ParseMessagePayload(body)
			if err != nil {
				s.malformed.Add(1)
				continue
			}
			h, data, err := ParseGzip(env, &scratch)
			if err != nil {
				s.malformed.Add(1)
				continue
			}
			s.received.Add(1)
			m = Message{Protocol: h.Protocol, FromPort: h.FromPort, ToPort: h.ToPort, Payload: data}
			s.dispatch(&m)
		case TypeSessionStatus:
			id, status, err := ParseSessionStatus(body)
			if err != nil {
				return err
			}
			switch status {
			case StatusCreated:
				s.sessionID.Store(int32(id))
				s.setState(PhaseSessionUp, fmt.Sprintf("session %d", id))
			case StatusUpdated, StatusHost:
			case StatusDestroyed:
				return fmt.Errorf("%w: session destroyed by the router", ErrDisconnected)
			case StatusInvalid:
				return fmt.Errorf("%w: session configuration invalid", ErrRefused)
			case StatusRefused:
				return fmt.Errorf("%w (is the destination already in use by another client?)", ErrRefused)
			default:
				return fmt.Errorf("%w: unknown session status %d", ErrMalformed, status)
			}
		case TypeRequestVariableLeaseSet, TypeRequestLeaseSet:
			parse := ParseRequestVariableLeaseSet
			if typ == TypeRequestLeaseSet {
				parse = ParseRequestLeaseSet
			}
			id, leases, err := parse(body)
			if err != nil {
				return err
			}
			frame, err := s.leaseSetFrame(id, leases)
			if err != nil {
				return err
			}
			select {
			case s.ctrl <- frame:
			case <-writerDone:
				return ErrDisconnected
			}
			if !published.Swap(true) {
				s.setState(PhasePublished, fmt.Sprintf("%d leases", len(leases)))
				s.readyMu.Lock()
				select {
				case <-s.ready:
				default:
					close(s.ready)
				}
				s.readyMu.Unlock()
			}
		case TypeHostReply:
			_, reqID, code, d, err := ParseHostReply(body)
			if err != nil {
				s.malformed.Add(1)
				continue
			}
			res := lookupResult{d: d}
			if code != 0 {
				res.err = fmt.Errorf("%w (code %d)", ErrLookupFailed, code)
			}
			s.lookupMu.Lock()
			if ch, ok := s.lookups[reqID]; ok {
				ch <- res
				delete(s.lookups, reqID)
			}
			s.lookupMu.Unlock()
		case TypeMessageStatus:
			ms, err := ParseMessageStatus(body)
			if err != nil {
				s.malformed.Add(1)
				continue
			}
			s.messageStatus(ms)
		case TypeSetDate:
			// keepalive answer
		case TypeDisconnect:
			reason, _ := ParseDisconnect(body)
			return fmt.Errorf("%w: router says %q", ErrDisconnected, reason)
		default:
			s.cfg.Logger.Debug("i2cp: ignoring message", "type", typ)
		}
	}
}

// leaseSetFrame builds the LeaseSet the router asked for.
func (s *Session) leaseSetFrame(sessionID uint16, leases []Lease) ([]byte, error) {
	signer := s.keys.Signer()
	if s.cfg.LegacyLeaseSet {
		ls := &LeaseSet{Destination: s.keys.Destination, EncryptionKey: s.lsKeys.ElGamalPublic, Leases: leases}
		if err := ls.Sign(signer); err != nil {
			return nil, err
		}
		return AppendCreateLeaseSet(nil, sessionID, ls, s.lsKeys.ElGamalPrivate), nil
	}
	now := time.Now()
	expires := now.Add(10 * time.Minute) // no leases: a short-lived, empty LeaseSet
	for i, l := range leases {
		if i == 0 || l.End.After(expires) {
			expires = l.End
		}
	}
	ls := &LeaseSet2{
		Destination: s.keys.Destination,
		Published:   now,
		Expires:     expires,
		Offline:     s.keys.Offline,
		Keys:        []EncryptionKey{{Type: i2p.CryptoX25519, Key: s.lsKeys.X25519Public}},
		Leases:      leases,
	}
	if ls.Expires.Sub(ls.Published) > 0xffff*time.Second {
		ls.Expires = ls.Published.Add(0xffff * time.Second)
	}
	if o := ls.Offline; o != nil && ls.Expires.Unix() > int64(o.Expires) {
		ls.Expires = time.Unix(int64(o.Expires), 0)
	}
	if ls.Expires.Before(ls.Published) {
		ls.Expires = ls.Published
	}
	if err := ls.Sign(signer); err != nil {
		return nil, err
	}
	return AppendCreateLeaseSet2(nil, sessionID, ls, []PrivateKey{{Type: i2p.CryptoX25519, Key: s.lsKeys.X25519Private}})
}
