// Package i2cptest plays the router's side of I2CP over real TCP for
// tests, benchmarks, the load tool and the demo: it greets clients, checks
// SessionConfig and LeaseSet signatures, requests LeaseSets, delivers
// SendMessage payloads untouched to the target session as MessagePayload,
// and answers HostLookup for the Destinations it knows. Failure injection
// (dropped connections, delays, refused sessions, a listener that goes
// away and comes back) exercises clients' recovery.
//
// Virtual clients — Destinations that are not connected sessions — can
// send to sessions with Inject and receive what sessions send them through
// the OnSend hook, so a load generator needs no I2CP connection per client.
package i2cptest

import (
	"bufio"
	"context"
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
	Logger                *slog.Logger
}

// SendFunc receives what a session sends to a Destination that is not a
// connected session. payload is the gzip envelope, valid during the call.
type SendFunc func(from i2p.Hash, to i2p.Destination, payload []byte)

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
	refuse   atomic.Bool
	mute     atomic.Bool
	delay    atomic.Int64
	wg       sync.WaitGroup

	delivered, dropped, lookups, destroyed atomic.Uint64
}

// NewRouter listens on addr: "host:port" ("127.0.0.1:0" for any free
// port) or "unix:/path" for a Unix socket.
func NewRouter(addr string, opts Options) (*Router, error) {
	if opts.LeaseSetDelay <= 0 {
		opts.LeaseSetDelay = 20 * time.Millisecond
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = 65536
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Router{opts: opts, conns: map[*conn]struct{}{}, sessions: map[i2p.Hash]*conn{}, known: map[i2p.Hash]i2p.Destination{}, names: map[string]i2p.Destination{}}
	if err := r.listen(addr); err != nil {
		return nil, err
	}
	return r, nil
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
		cc := &conn{r: r, c: c, out: make(chan []byte, r.opts.QueueLen), done: make(chan struct{})}
		cc.sessionID.Store(-1)
		r.mu.Lock()
		r.conns[cc] = struct{}{}
		r.mu.Unlock()
		r.wg.Add(2)
		go cc.readLoop()
		go cc.writeLoop()
	}
}

// Close stops listening and drops every connection.
func (r *Router) Close() error {
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

// Restart listens again on the address the router had.
func (r *Router) Restart() error { return r.listen(r.Addr()) }

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

// SetDelay delays every delivered message by d (0: none).
func (r *Router) SetDelay(d time.Duration) { r.delay.Store(int64(d)) }

// OnSend sets the hook for messages to Destinations that are not sessions.
func (r *Router) OnSend(f SendFunc) { r.onSend.Store(&f) }

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
	c.deliver(envelope)
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
	Sessions                    int
}

// Stats returns the counters.
func (r *Router) Stats() Stats {
	r.mu.Lock()
	n := len(r.sessions)
	r.mu.Unlock()
	return Stats{Delivered: r.delivered.Load(), Dropped: r.dropped.Load(), Lookups: r.lookups.Load(), Destroyed: r.destroyed.Load(), Sessions: n}
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
	published atomic.Bool
	msgID     atomic.Uint32
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

func (c *conn) deliver(envelope []byte) {
	frame := i2cp.AppendMessagePayload(make([]byte, 0, 15+len(envelope)), uint16(c.sessionID.Load()), c.msgID.Add(1), envelope)
	if d := time.Duration(c.r.delay.Load()); d > 0 {
		time.AfterFunc(d, func() { c.send(frame); c.r.delivered.Add(1) })
		return
	}
	c.send(frame)
	c.r.delivered.Add(1)
}

func (c *conn) writeLoop() {
	defer c.r.wg.Done()
	bw := bufio.NewWriterSize(c.c, 64<<10)
	for {
		select {
		case <-c.done:
			return
		case f := <-c.out:
			if c.r.mute.Load() {
				continue
			}
			if _, err := bw.Write(f); err != nil {
				c.close()
				return
			}
			if len(c.out) == 0 {
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
			c.send(i2cp.AppendDisconnect(nil, err.Error()))
			time.Sleep(10 * time.Millisecond) // let the Disconnect go out
			return
		}
	}
}

var errProtocol = errors.New("i2cptest: protocol violation")

func (c *conn) handle(typ byte, body []byte) error {
	switch typ {
	case i2cp.TypeGetDate:
		if _, err := i2cp.ParseGetDate(body); err != nil {
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
		return c.leaseSetCreated(id, ls.Destination)
	case i2cp.TypeCreateLeaseSet:
		id, ls, err := i2cp.ParseCreateLeaseSet(body)
		if err != nil {
			return err
		}
		return c.leaseSetCreated(id, ls.Destination)
	case i2cp.TypeSendMessage, i2cp.TypeSendMessageExpires:
		m, err := i2cp.ParseSendMessage(body, typ == i2cp.TypeSendMessageExpires)
		if err != nil {
			return err
		}
		if int32(m.SessionID) != c.sessionID.Load() {
			return fmt.Errorf("%w: SendMessage for session %d", errProtocol, m.SessionID)
		}
		c.r.route(c.dest.Hash(), m.To, m.Payload)
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

func (c *conn) createSession(body []byte) error {
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
// to the OnSend hook.
func (r *Router) route(from i2p.Hash, to i2p.Destination, envelope []byte) {
	r.mu.Lock()
	target := r.sessions[to.Hash()]
	r.mu.Unlock()
	if target != nil && target.published.Load() {
		target.deliver(envelope) // copies into the MessagePayload frame
		return
	}
	if f := r.onSend.Load(); f != nil {
		(*f)(from, to, envelope)
		r.delivered.Add(1)
		return
	}
	r.dropped.Add(1)
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
