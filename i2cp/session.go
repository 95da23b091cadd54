// The session's lifecycle: NewSession, Run's connect-and-retry loop,
// one connection's handshake, and down, which clears what a connection
// leaves behind.
//
// Invariants: a session id is valid (>= 0) only while a connection's
// session is up; down sets it to -1 before it empties the outbox, the
// control queue, the lookups waiting and the delivery tracker, so nothing
// encoded for one session reaches the router on the next. Ready is closed
// exactly while a LeaseSet is published. connectOnce returns only after
// the reader and the writer of its connection stopped.
//
// Lock order: link.mu, then outbox.mu, then deliveryTracker.mu (a sender
// takes the tracker's lock inside the outbox's; the writer takes the
// outbox's inside the link's). handleMu, readyMu and lookupMu are taken
// alone.

package i2cp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
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

// State is a Phase with its detail and when it began. Err is the error
// that ended the last link while the Phase is PhaseDisconnected (tell
// ErrRefused apart with errors.Is), and nil in every other Phase.
type State struct {
	Phase  Phase
	Detail string
	Err    error
	Since  time.Time
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

	handlers atomic.Pointer[routes] // see dispatch.go
	handleMu sync.Mutex

	out  *outbox     // encoded SendMessage frames
	ctrl chan []byte // control frames, never dropped
	// gather is set while the reader works through a batch of input:
	// frames queued meanwhile, by any goroutine, gather in the outbox
	// and the reader writes them in one write before it waits for more
	// input (see send.go).
	gather atomic.Bool

	sessionID atomic.Int32 // -1 while no session
	// legacy: the next connection publishes the older LeaseSet (see
	// SetLegacyLeaseSet); each connection keeps the form it began with.
	legacy atomic.Bool
	// relink ends the current connection so that Run connects again at
	// once; nil between connections.
	relinkMu sync.Mutex
	relink   context.CancelCauseFunc
	// linkDown: a loss of the link was logged and no session came up
	// since, so further failed attempts are not news.
	linkDown atomic.Bool
	state    atomic.Pointer[State]
	readyMu  sync.Mutex
	ready    chan struct{} // closed while published

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
	statusUnmatched, statusLost, panics                       atomic.Uint64
	failedBy                                                  [failureCodes]atomic.Uint64
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
	s.legacy.Store(cfg.LegacyLeaseSet)
	if WantsMessageStatus(s.opts) {
		s.track = &deliveryTracker{}
	}
	s.sessionID.Store(-1)
	s.handlers.Store(&routes{})
	s.setState(PhaseStopped, "")
	return s, nil
}

// Destination is the session's own Destination.
func (s *Session) Destination() i2p.Destination { return s.keys.Destination }

// createOptions are the options a CreateSession carries: the older
// LeaseSet has an ElGamal key (encryption type 0).
func (s *Session) createOptions(legacy bool) i2p.Mapping {
	if legacy {
		return mergeOptions(s.opts, i2p.Mapping{{Key: "i2cp.leaseSetEncType", Value: "0"}})
	}
	return s.opts
}

// LegacyLeaseSet reports whether the session publishes (or, between
// connections, will publish) the older LeaseSet.
func (s *Session) LegacyLeaseSet() bool { return s.legacy.Load() }

// errRelink ends a connection that SetLegacyLeaseSet replaces.
var errRelink = errors.New("i2cp: reconnecting to publish the other LeaseSet form")

// SetLegacyLeaseSet switches the form of LeaseSet the session publishes:
// the older LeaseSet with an ElGamal key (on) or a LeaseSet2 (off). A
// live session is destroyed and created again at once with the new form,
// since a router fixes a session's encryption type when it creates it;
// handlers stay registered. Identities with offline keys cannot sign the
// older form.
func (s *Session) SetLegacyLeaseSet(on bool) error {
	if on && s.keys.Offline != nil {
		return errors.New("i2cp: the older LeaseSet cannot carry an offline signature")
	}
	if s.legacy.Swap(on) == on {
		return nil
	}
	s.relinkMu.Lock()
	if s.relink != nil {
		s.relink(errRelink)
	}
	s.relinkMu.Unlock()
	return nil
}

// State returns the current state.
func (s *Session) State() State { return *s.state.Load() }

func (s *Session) setState(p Phase, detail string) {
	s.storeState(&State{Phase: p, Detail: detail, Since: time.Now()})
}

// setDown records a lost link: err ended it, and the next attempt is in
// wait.
func (s *Session) setDown(err error, wait time.Duration) {
	detail := fmt.Sprintf("%v (retrying in %s)", err, wait.Round(time.Second))
	s.storeState(&State{Phase: PhaseDisconnected, Detail: detail, Err: err, Since: time.Now()})
}

func (s *Session) storeState(st *State) {
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

// Run keeps the session connected until ctx ends, reconnecting with
// exponential backoff (jittered, capped) and re-creating the session with
// the same identity. It returns when ctx ends, once nothing of the
// session runs on: every failure on the way is retried, none is fatal.
//
// The router's SessionStatus is handled so: Created brings the session
// up; Updated (the answer to a reconfiguration) and Host change nothing;
// Destroyed, Invalid (the router found the configuration or the session
// invalid) and Refused end the link, reported as a disconnect whose
// detail names the status, and Run connects again. So does a Disconnect
// from the router, whose reason the detail quotes. Handlers stay
// registered throughout.
func (s *Session) Run(ctx context.Context) {
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
			return
		}
		if published {
			backoff = s.cfg.MinBackoff
		}
		if errors.Is(err, errRelink) {
			s.cfg.Logger.Info("i2cp: reconnecting to the router", "addr", s.addrText(), "reason", err, "legacy_leaseset", s.legacy.Load())
			continue
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		s.logDown(err, wait)
		s.setDown(err, wait)
		select {
		case <-ctx.Done():
			s.setState(PhaseStopped, "")
			return
		case <-time.After(wait):
		}
		backoff = min(backoff*2, s.cfg.MaxBackoff)
	}
}

// logDown logs a lost link once, at info, with the error; the attempts
// that fail after it, until a session comes up again, only at debug.
func (s *Session) logDown(err error, wait time.Duration) {
	if s.linkDown.Swap(true) {
		s.cfg.Logger.Debug("i2cp: router still unreachable; retrying", "addr", s.addrText(), "err", err, "retry_in", wait.Round(time.Millisecond))
		return
	}
	s.cfg.Logger.Info("i2cp: router link down; retrying", "addr", s.addrText(), "err", err, "retry_in", wait.Round(time.Millisecond))
}

// logUp logs, once at info, that a session came up: the first, or one
// after the link was lost.
func (s *Session) logUp(id uint16) {
	if s.linkDown.Swap(false) || s.reconnects.Load() > 0 {
		s.cfg.Logger.Info("i2cp: reconnected to the router", "addr", s.addrText(), "session", id)
		return
	}
	s.cfg.Logger.Info("i2cp: session created", "addr", s.addrText(), "session", id)
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
func (s *Session) connectOnce(parent context.Context) (published bool, err error) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	s.relinkMu.Lock()
	s.relink = cancel
	s.relinkMu.Unlock()
	defer func() {
		s.relinkMu.Lock()
		s.relink = nil
		s.relinkMu.Unlock()
		if parent.Err() == nil && errors.Is(context.Cause(ctx), errRelink) {
			err = errRelink
		}
	}()
	legacy := s.legacy.Load()
	conn, err := s.dial(ctx)
	if err != nil {
		return false, fmt.Errorf("connect to router at %s: %w", s.addrText(), err)
	}
	defer conn.Close()
	unwatch := context.AfterFunc(ctx, func() { conn.Close() }) // until the writer takes over
	src := newDrainReader(conn)
	br := bufio.NewReaderSize(src, 64<<10)
	bw := bufio.NewWriterSize(conn, 64<<10)
	if err := s.handshake(br, bw, conn); err != nil {
		unwatch()
		return false, err
	}
	s.setState(PhaseConnected, s.addrText())
	cs, err := AppendCreateSession(nil, s.keys, s.createOptions(legacy), time.Now())
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
	rd := &frameReader{s: s, br: br, src: src, l: l, legacy: legacy, published: &pub, rx: &rx, writerDone: writerDone}
	go func() { readErr <- rd.readLoop() }()
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
