// Package i2cptest plays the router's side of I2CP, for tests and the demo.
//
// It serves real TCP (or a given connection) for tests, benchmarks, the
// load tool and the demo: it greets clients, checks
// SessionConfig and LeaseSet signatures, requests LeaseSets, delivers
// SendMessage payloads untouched to the target session as MessagePayload,
// and answers HostLookup for the Destinations it knows. For sessions whose
// i2cp.messageReliability is not "none" it reports each message sent with
// a nonce with MessageStatus, as a router does: accepted, then local
// success, success (handed to OnSend) or no LeaseSet (nobody to deliver
// to). Failure injection (dropped connections, a Disconnect or a
// SessionStatus sent on the router's own account, delays, silence,
// refused sessions, required credentials, a listener that goes away and
// comes back) exercises clients' recovery; ObserveSends shows tests what
// clients send.
//
// Virtual clients — Destinations that are not connected sessions — can
// send to sessions with Inject and receive what sessions send them through
// the OnSend hook, so a load generator needs no I2CP connection per client.
package i2cptest

import (
	"bufio"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2p"
)

// Options configure a Router.
type Options struct {
	// LeaseSetDelay is how long after a session is created the router
	// asks for its LeaseSet; default 20 ms.
	LeaseSetDelay time.Duration
	// QueueLen bounds each connection's outgoing frames; default 65536.
	QueueLen int
	// LegacyLeaseSetRequest asks for LeaseSets with the older
	// RequestLeaseSet (21) instead of RequestVariableLeaseSet (37).
	LegacyLeaseSetRequest bool
	// WriteEach writes every frame to the client in a write of its own,
	// as a router does when messages reach it one by one. By default
	// the frames queued for a client go out together in one write.
	WriteEach bool
	// Username and Password, when either is set, are the credentials
	// clients must give in their GetDate (i2cp.username, i2cp.password),
	// as a router with I2CP authorization on: wrong ones get a
	// Disconnect, and so does a CreateSession before the right ones.
	Username, Password string
	Logger             *slog.Logger
}

// SendFunc receives what a session sends to a Destination that is not a
// connected session. payload is the gzip envelope, valid during the call.
type SendFunc func(from i2p.Hash, to i2p.Destination, payload []byte)

// SendObserver sees a SendMessage or SendMessageExpires (typ tells which)
// that a session sent, before the router routes it: its nonce, flags and
// expiration. m.Payload is valid during the call. It runs on the sending
// connection's reader and must not block.
type SendObserver func(from i2p.Hash, typ uint8, m *i2cp.OutMessage)

// Router is a router simulator listening on TCP.
type Router struct {
	opts Options
	addr string

	mu       sync.Mutex
	ln       net.Listener
	conns    map[*conn]struct{}
	sessions map[i2p.Hash]*conn
	known    map[i2p.Hash]i2p.Destination
	names    map[string]i2p.Destination
	nextID   uint16
	onSend   atomic.Pointer[SendFunc]
	observe  atomic.Pointer[SendObserver]
	refuse   atomic.Bool
	noLS2    atomic.Bool // see SetLeaseSet2Unreachable
	mute     atomic.Bool
	delay    atomic.Int64
	closed   bool // Close was called: no connection is served again
	wg       sync.WaitGroup

	delivered, dropped, lookups, destroyed, delayed atomic.Uint64
}

// NewRouter listens on addr: "host:port" ("127.0.0.1:0" for any free
// port) or "unix:/path" for a Unix socket.
func NewRouter(addr string, opts Options) (*Router, error) {
	r := newRouter(opts)
	if err := r.listen(addr); err != nil {
		return nil, err
	}
	return r, nil
}

// newRouter is a router with its defaults filled in and no listener.
func newRouter(opts Options) *Router {
	if opts.LeaseSetDelay <= 0 {
		opts.LeaseSetDelay = 20 * time.Millisecond
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = 65536
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Router{opts: opts, conns: map[*conn]struct{}{}, sessions: map[i2p.Hash]*conn{}, known: map[i2p.Hash]i2p.Destination{}, names: map[string]i2p.Destination{}}
}

func (r *Router) listen(addr string) error {
	network, where := "tcp", addr
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, where = "unix", path
	}
	ln, err := net.Listen(network, where)
	if err != nil {
		return fmt.Errorf("i2cptest: listen: %w", err)
	}
	r.mu.Lock()
	r.ln = ln
	r.addr = ln.Addr().String()
	if network == "unix" {
		r.addr = "unix:" + r.addr
	}
	r.mu.Unlock()
	r.wg.Add(1)
	go r.accept(ln)
	return nil
}

// Addr is the listening address, in the form a client's Config.Addr takes.
func (r *Router) Addr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addr
}

func (r *Router) accept(ln net.Listener) {
	defer r.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		r.serve(c)
	}
}

// serve starts the reader and writer of one client connection; after
// Close it closes c instead.
func (r *Router) serve(c net.Conn) {
	cc := &conn{r: r, c: c, out: make(chan []byte, r.opts.QueueLen), done: make(chan struct{})}
	cc.sessionID.Store(-1)
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		c.Close()
		return
	}
	r.conns[cc] = struct{}{}
	r.mu.Unlock()
	r.wg.Add(2)
	go cc.readLoop()
	go cc.writeLoop()
}

// Close stops listening and drops every connection.
func (r *Router) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.Stop()
	r.wg.Wait()
	return nil
}

// Stop closes the listener and every connection, as a router that shuts
// down; Restart listens again on the same address.
func (r *Router) Stop() {
	r.mu.Lock()
	ln := r.ln
	r.ln = nil
	r.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	r.DropConnections()
}

// Restart listens again on the address the router had; a router made by
// NewInProcess has none.
func (r *Router) Restart() error {
	addr := r.Addr()
	if addr == "" {
		return errors.New("i2cptest: restart: the router never listened")
	}
	return r.listen(addr)
}

// DropConnections closes every client connection (the listener stays).
func (r *Router) DropConnections() {
	r.mu.Lock()
	conns := make([]*conn, 0, len(r.conns))
	for c := range r.conns {
		conns = append(conns, c)
	}
	r.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// DropSession closes the connection of the session of h, if any.
func (r *Router) DropSession(h i2p.Hash) bool {
	r.mu.Lock()
	c := r.sessions[h]
	r.mu.Unlock()
	if c != nil {
		c.close()
	}
	return c != nil
}

// SetMute makes the router go silent while on: it reads and acts on what
// clients send but writes nothing back, as a hung router would.
func (r *Router) SetMute(on bool) { r.mute.Store(on) }

// SetRefuseSessions makes CreateSession answer Refused while on.
func (r *Router) SetRefuseSessions(on bool) { r.refuse.Store(on) }

// SetDelay delays every delivered message by d (0: none); d applies to
// messages routed from then on. Stats.Delayed counts the messages held.
func (r *Router) SetDelay(d time.Duration) { r.delay.Store(int64(d)) }

// OnSend sets the hook for messages to Destinations that are not sessions.
func (r *Router) OnSend(f SendFunc) { r.onSend.Store(&f) }

// ObserveSends sets a hook that sees every message sessions send (nil:
// none).
func (r *Router) ObserveSends(f SendObserver) {
	if f == nil {
		r.observe.Store(nil)
		return
	}
	r.observe.Store(&f)
}

// session returns the connection of the session of h, nil without one.
func (r *Router) session(h i2p.Hash) *conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessions[h]
}

// Disconnect sends the session of h a Disconnect with reason and closes
// its connection once that is written, as a router that shuts a client
// out. It reports whether h has a session.
func (r *Router) Disconnect(h i2p.Hash, reason string) bool {
	c := r.session(h)
	if c != nil {
		r.forget(c) // at once: the client may be back before the close
		c.disconnect(reason)
	}
	return c != nil
}

// SendSessionStatus sends the session of h a SessionStatus with status,
// as a router that updates (i2cp.StatusUpdated), invalidates
// (i2cp.StatusInvalid) or destroys (i2cp.StatusDestroyed) a session on its
// own account. After Invalid or Destroyed the router forgets the session;
// the connection stays open, and messages still sent for the session are
// dropped. It reports whether h has a session.
func (r *Router) SendSessionStatus(h i2p.Hash, status uint8) bool {
	c := r.session(h)
	if c == nil {
		return false
	}
	id := c.sessionID.Load()
	if id < 0 {
		return false
	}
	if status == i2cp.StatusInvalid || status == i2cp.StatusDestroyed {
		r.forget(c)
	}
	c.send(i2cp.AppendSessionStatus(nil, uint16(id), status))
	return true
}

// forget ends the session of c on the router's side: it is no longer
// published or found, and what c still sends for it is dropped.
func (r *Router) forget(c *conn) {
	c.ended.Store(true)
	c.published.Store(false)
	c.sessionID.Store(-1)
	r.mu.Lock()
	if h := c.dest.Hash(); r.sessions[h] == c {
		delete(r.sessions, h)
	}
	r.mu.Unlock()
}

// SessionOptions returns the options the session of h was created with,
// as its SessionConfig carried them.
func (r *Router) SessionOptions(h i2p.Hash) (i2p.Mapping, bool) {
	c := r.session(h) // its options are set before it is registered
	if c == nil {
		return nil, false
	}
	return c.opts, true
}

// Register makes d known to HostLookup (a virtual client).
func (r *Router) Register(d i2p.Destination) {
	r.mu.Lock()
	r.known[d.Hash()] = d
	r.mu.Unlock()
}

// RegisterName makes HostLookup by name resolve name to d.
func (r *Router) RegisterName(name string, d i2p.Destination) {
	r.mu.Lock()
	r.names[name] = d
	r.mu.Unlock()
}

// Inject delivers a gzip envelope to the session of Destination to, as if
// a remote client had sent it.
func (r *Router) Inject(to i2p.Hash, envelope []byte) error {
	r.mu.Lock()
	c := r.sessions[to]
	r.mu.Unlock()
	if c == nil || !c.published.Load() {
		r.dropped.Add(1)
		return fmt.Errorf("i2cptest: no published session for %s", to.B32())
	}
	c.deliver(envelope, nil)
	return nil
}

// WaitPublished waits until the session of h has published its LeaseSet.
func (r *Router) WaitPublished(ctx context.Context, h i2p.Hash) error {
	for {
		r.mu.Lock()
		c := r.sessions[h]
		r.mu.Unlock()
		if c != nil && c.published.Load() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("i2cptest: session %s not published: %w", h.B32(), ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Stats are the simulator's counters.
type Stats struct {
	Delivered, Dropped, Lookups uint64
	Destroyed                   uint64 // sessions ended by DestroySession
	Delayed                     uint64 // messages held back by SetDelay
	Sessions                    int
}

// Stats returns the counters.
func (r *Router) Stats() Stats {
	r.mu.Lock()
	n := len(r.sessions)
	r.mu.Unlock()
	return Stats{Delivered: r.delivered.Load(), Dropped: r.dropped.Load(), Lookups: r.lookups.Load(), Destroyed: r.destroyed.Load(),
		Delayed: r.delayed.Load(), Sessions: n}
}

// conn is one client connection (with at most one session).
type conn struct {
	r         *Router
	c         net.Conn
	out       chan []byte
	done      chan struct{}
	closeOnce sync.Once
	sessionID atomic.Int32
	dest      i2p.Destination
	opts      i2p.Mapping // the session's options; set before it is registered
	// reliable: the session wants MessageStatus reports; set with opts.
	reliable  bool
	published atomic.Bool
	ls2       atomic.Bool // the published LeaseSet is a LeaseSet2
	ended     atomic.Bool // the router ended the session (SendSessionStatus)
	msgID     atomic.Uint32
	// authorized: the client gave the credentials Options require. Only
	// the connection's reader uses it.
	authorized bool
}

func (c *conn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.c.Close()
		c.r.mu.Lock()
		delete(c.r.conns, c)
		if !c.dest.IsZero() && c.r.sessions[c.dest.Hash()] == c {
			delete(c.r.sessions, c.dest.Hash())
		}
		c.r.mu.Unlock()
	})
}

func (c *conn) send(frame []byte) {
	select {
	case c.out <- frame:
	case <-c.done:
	default:
		c.r.dropped.Add(1) // the client does not read fast enough
	}
}

// disconnect sends a Disconnect and has the writer close the connection
// once it is written (or at once, should the queue stay full).
func (c *conn) disconnect(reason string) {
	c.send(i2cp.AppendDisconnect(nil, reason))
	select {
	case c.out <- nil: // the writer's cue to flush and close
	case <-c.done:
	case <-time.After(time.Second):
		c.close()
	}
}

// deliver sends envelope to this connection's session as a
// MessagePayload, after the router's delay if one is set; after, when
// not nil, runs once the message is on its way.
func (c *conn) deliver(envelope []byte, after func()) {
	frame := i2cp.AppendMessagePayload(make([]byte, 0, 15+len(envelope)), uint16(c.sessionID.Load()), c.msgID.Add(1), envelope)
	if d := time.Duration(c.r.delay.Load()); d > 0 {
		c.r.delayed.Add(1)
		time.AfterFunc(d, func() {
			c.r.delivered.Add(1) // before the client can see it
			c.send(frame)
			if after != nil {
				after()
			}
		})
		return
	}
	c.r.delivered.Add(1)
	c.send(frame)
	if after != nil {
		after()
	}
}

func (c *conn) writeLoop() {
	defer c.r.wg.Done()
	bw := bufio.NewWriterSize(c.c, 64<<10)
	for {
		select {
		case <-c.done:
			return
		case f := <-c.out:
			if f == nil { // disconnect: what is written goes out, then the end
				_ = bw.Flush()
				c.close()
				return
			}
			if c.r.mute.Load() {
				continue
			}
			if _, err := bw.Write(f); err != nil {
				c.close()
				return
			}
			if c.r.opts.WriteEach || len(c.out) == 0 {
				if err := bw.Flush(); err != nil {
					c.close()
					return
				}
			}
		}
	}
}

func (c *conn) readLoop() {
	defer c.r.wg.Done()
	defer c.close()
	br := bufio.NewReaderSize(c.c, 64<<10)
	b, err := br.ReadByte()
	if err != nil || b != i2cp.ProtocolByte {
		return
	}
	buf := make([]byte, 0, 64<<10)
	for {
		typ, body, err := i2cp.ReadFrame(br, buf)
		if err != nil {
			return
		}
		if err := c.handle(typ, body); err != nil {
			c.r.opts.Logger.Debug("i2cptest: closing connection", "err", err)
			c.disconnect(err.Error())
			select { // let the Disconnect go out
			case <-c.done:
			case <-time.After(time.Second):
			}
			return
		}
	}
}

var errProtocol = errors.New("i2cptest: protocol violation")

// Reasons a router that requires credentials gives when it disconnects.
var (
	errAuthFailed   = errors.New("i2cptest: authorization failed")
	errAuthRequired = errors.New("i2cptest: authorization required")
)

// authRequired reports whether clients must give credentials.
func (r *Router) authRequired() bool { return r.opts.Username != "" || r.opts.Password != "" }

// checkAuth checks the credentials a GetDate carries, if any.
func (c *conn) checkAuth(gd i2cp.GetDate) error {
	if !c.r.authRequired() || c.authorized {
		return nil
	}
	user, hasUser := gd.Options.Get("i2cp.username")
	pass, hasPass := gd.Options.Get("i2cp.password")
	if !hasUser && !hasPass {
		return nil // CreateSession will insist
	}
	okUser := subtle.ConstantTimeCompare([]byte(user), []byte(c.r.opts.Username)) == 1
	okPass := subtle.ConstantTimeCompare([]byte(pass), []byte(c.r.opts.Password)) == 1
	if !okUser || !okPass {
		return errAuthFailed
	}
	c.authorized = true
	return nil
}

func (c *conn) handle(typ byte, body []byte) error {
	switch typ {
	case i2cp.TypeGetDate:
		gd, err := i2cp.ParseGetDate(body)
		if err != nil {
			return err
		}
		if err := c.checkAuth(gd); err != nil {
			return err
		}
		c.send(i2cp.AppendSetDate(nil, i2cp.SetDate{Date: time.Now(), Version: i2cp.ProtocolVersion}))
	case i2cp.TypeCreateSession:
		return c.createSession(body)
	case i2cp.TypeCreateLeaseSet2:
		id, ls, _, err := i2cp.ParseCreateLeaseSet2(body)
		if err != nil {
			return err
		}
		c.ls2.Store(true)
		return c.leaseSetCreated(id, ls.Destination)
	case i2cp.TypeCreateLeaseSet:
		id, ls, err := i2cp.ParseCreateLeaseSet(body)
		if err != nil {
			return err
		}
		c.ls2.Store(false)
		return c.leaseSetCreated(id, ls.Destination)
	case i2cp.TypeSendMessage, i2cp.TypeSendMessageExpires:
		m, err := i2cp.ParseSendMessage(body, typ == i2cp.TypeSendMessageExpires)
		if err != nil {
			return err
		}
		if int32(m.SessionID) != c.sessionID.Load() {
			if c.ended.Load() {
				return nil // sent before the client heard the router ended it
			}
			return fmt.Errorf("%w: SendMessage for session %d", errProtocol, m.SessionID)
		}
		from := c.dest.Hash()
		if f := c.r.observe.Load(); f != nil {
			seen := m // escapes to the hook: allocated only with one set
			(*f)(from, typ, &seen)
		}
		var report func(status uint8)
		if c.reliable && m.Nonce != 0 {
			report = c.reporter(&m)
			report(i2cp.MsgAccepted)
		}
		c.r.route(from, m.To, m.Payload, report)
	case i2cp.TypeHostLookup:
		hl, err := i2cp.ParseHostLookup(body)
		if err != nil {
			return err
		}
		c.r.lookups.Add(1)
		d, ok := c.r.find(hl)
		code := uint8(1)
		if ok {
			code = 0
		}
		c.send(i2cp.AppendHostReply(nil, hl.SessionID, hl.RequestID, code, d))
	case i2cp.TypeDestroySession:
		id, err := i2cp.ParseDestroySession(body)
		if err != nil {
			return err
		}
		if int32(id) != c.sessionID.Load() {
			return fmt.Errorf("%w: DestroySession for session %d", errProtocol, id)
		}
		c.r.destroyed.Add(1)
		c.send(i2cp.AppendSessionStatus(nil, id, i2cp.StatusDestroyed))
		return errors.New("session destroyed")
	default:
		// Messages the simulator does not need are ignored, as routers do.
	}
	return nil
}

// sessionDateSkew is how far a SessionConfig's date may be from the
// router's clock (the Java router's limit).
const sessionDateSkew = 3 * time.Minute

// reporter returns a function that sends the client a MessageStatus
// with the status given for m, under a message id of the router's.
func (c *conn) reporter(m *i2cp.OutMessage) func(status uint8) {
	ms := i2cp.MessageStatus{SessionID: m.SessionID, MessageID: c.msgID.Add(1), Size: uint32(len(m.Payload)), Nonce: m.Nonce}
	return func(status uint8) {
		report := ms
		report.Status = status
		c.send(i2cp.AppendMessageStatus(nil, report))
	}
}

func (c *conn) createSession(body []byte) error {
	if c.r.authRequired() && !c.authorized {
		return errAuthRequired
	}
	cfg, err := i2cp.ParseCreateSession(body)
	if err != nil {
		return err
	}
	// As the Java router: the signature covers the options sorted by key,
	// and the date must be within 3 minutes of the router's clock.
	if skew := time.Since(cfg.Date); skew > sessionDateSkew || skew < -sessionDateSkew {
		c.r.opts.Logger.Debug("i2cptest: SessionConfig date off", "skew", skew)
		c.send(i2cp.AppendSessionStatus(nil, 0, i2cp.StatusInvalid))
		return nil
	}
	if err := cfg.Verify(); err != nil {
		c.r.opts.Logger.Debug("i2cptest: SessionConfig signature", "err", err)
		c.send(i2cp.AppendSessionStatus(nil, 0, i2cp.StatusInvalid))
		return nil
	}
	if c.r.refuse.Load() || c.sessionID.Load() >= 0 {
		c.send(i2cp.AppendSessionStatus(nil, 0, i2cp.StatusRefused))
		return nil
	}
	h := cfg.Destination.Hash()
	c.r.mu.Lock()
	if old := c.r.sessions[h]; old != nil && old != c {
		c.r.mu.Unlock()
		c.send(i2cp.AppendSessionStatus(nil, 0, i2cp.StatusInvalid))
		return nil
	}
	c.r.nextID++
	c.sessionID.Store(int32(c.r.nextID))
	c.dest = cfg.Destination
	c.opts = cfg.Options
	c.reliable = i2cp.WantsMessageStatus(cfg.Options)
	c.ended.Store(false)
	c.r.sessions[h] = c
	c.r.mu.Unlock()
	id := uint16(c.sessionID.Load())
	c.send(i2cp.AppendSessionStatus(nil, id, i2cp.StatusCreated))
	time.AfterFunc(c.r.opts.LeaseSetDelay, func() {
		var gw i2p.Hash
		copy(gw[:], "i2cptest gateway")
		leases := []i2cp.Lease{{Gateway: gw, TunnelID: uint32(id), End: time.Now().Add(10 * time.Minute)}}
		if c.r.opts.LegacyLeaseSetRequest {
			c.send(i2cp.AppendRequestLeaseSet(nil, id, leases))
		} else {
			c.send(i2cp.AppendRequestVariableLeaseSet(nil, id, leases))
		}
	})
	return nil
}

func (c *conn) leaseSetCreated(id uint16, d i2p.Destination) error {
	if int32(id) != c.sessionID.Load() || d.Hash() != c.dest.Hash() {
		return fmt.Errorf("%w: LeaseSet for another session or destination", errProtocol)
	}
	c.published.Store(true)
	return nil
}

// route delivers a session's message to the target session, or hands it
// to the OnSend hook. report, when not nil, receives the outcome as a
// MessageStatus code: local success once delivered to a session, success
// once handed to the hook, no LeaseSet when nobody takes the message.
func (r *Router) route(from i2p.Hash, to i2p.Destination, envelope []byte, report func(status uint8)) {
	r.mu.Lock()
	target := r.sessions[to.Hash()]
	r.mu.Unlock()
	published := target != nil && target.published.Load()
	if published && !r.unfindable(target) {
		var after func()
		if report != nil {
			after = func() { report(i2cp.MsgLocalSuccess) }
		}
		target.deliver(envelope, after) // copies into the MessagePayload frame
		return
	}
	if f := r.onSend.Load(); f != nil && !published {
		(*f)(from, to, envelope)
		r.delivered.Add(1)
		if report != nil {
			report(i2cp.MsgGuaranteedSuccess)
		}
		return
	}
	r.dropped.Add(1)
	if report != nil {
		report(i2cp.MsgNoLeaseSet)
	}
}

func (r *Router) find(hl i2cp.HostLookup) (i2p.Destination, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if hl.Type == i2cp.LookupName {
		d, ok := r.names[hl.Name]
		return d, ok
	}
	if c := r.sessions[hl.Hash]; c != nil {
		return c.dest, true
	}
	d, ok := r.known[hl.Hash]
	return d, ok
}

// Sessions lists the Destinations of the published sessions.
func (r *Router) Sessions() []i2p.Destination {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []i2p.Destination
	for _, c := range r.sessions {
		if c.published.Load() {
			out = append(out, c.dest)
		}
	}
	return out
}

// SessionID returns the session id the router gave the session of h.
func (r *Router) SessionID(h i2p.Hash) (uint16, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.sessions[h]
	if c == nil {
		return 0, false
	}
	return uint16(c.sessionID.Load()), true
}
