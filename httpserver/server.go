package httpserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/internal/panics"
)

// Server serves HTTP/1.1 on a listener. The plain requests that come
// often — GET or HEAD, no body — are parsed in place and answered by the
// Responder without net/http: on Linux the server accepts and answers a
// connection that brings its whole request at once with four system
// calls (accept, read, write, close) and no goroutine. Everything else —
// other methods, bodies, malformed heads, requests the Responder leaves
// — goes with the bytes read so far to an http.Server over Handler, as
// does a connection that stays open once the Responder leaves a request;
// with no Responder, or a listener that is no TCP listener on Linux, the
// portable paths serve.
//
// The zero value serves with defaults; set the fields before Serve.
type Server struct {
	// Handler serves what the Responder leaves, through net/http.
	Handler http.Handler
	// Responder answers plain requests first; nil leaves every request
	// to Handler.
	Responder Responder
	// ReadHeaderTimeout bounds the wait for a request head (default 10 s);
	// IdleTimeout the wait for the next request on a kept connection
	// (default 60 s); ReadTimeout the wait for a whole request, body
	// included, on a connection net/http serves (default 20 s); and
	// WriteTimeout the writing of one reply on any path (default 20 s),
	// so a client that stops reading loses its connection.
	ReadHeaderTimeout, IdleTimeout, ReadTimeout, WriteTimeout time.Duration
	// MaxConns bounds the connections held open at once beyond the
	// accept loop — kept alive, waiting for the rest of a head, or
	// served by net/http (default 1024, less when the descriptor limit
	// is low). A connection over it is closed unserved; on Linux a plain
	// request that arrives whole is still answered first.
	MaxConns int
	// MaxConnsPerPeer bounds those held for one peer address (0, the
	// default, is no bound: a router's server tunnel brings every client
	// from the same loopback address).
	MaxConnsPerPeer int
	// MaxHeaderBytes bounds a head net/http reads (net/http's default
	// when 0); the fast parser's own bound is smaller.
	MaxHeaderBytes int
	// ConnContext, when set, gives each connection held as a net.Conn
	// the context its requests carry: the Responder's as
	// Request.Context, net/http's as http.Request.Context (as
	// http.Server.ConnContext does; net/http calls it again for a
	// connection handed to it). The Linux TCP accept loop holds no
	// net.Conn: its requests carry context.Background.
	ConnContext func(ctx context.Context, c net.Conn) context.Context
	Logger      *slog.Logger

	mu      sync.Mutex
	closed  bool
	conns   map[net.Conn]struct{} // kept connections the server answers itself
	std     *http.Server
	handoff *handoffListener
	ln      net.Listener
	lnDup   io.Closer // the listener's descriptor as the accept loop holds it
	date    atomic.Pointer[dateLine]
	held    slots
	panics  panics.Log
}

// Responder answers the plain requests the Server parsed itself.
// handled is false for a request it leaves to the Server's Handler. The
// body is appended to dst and sent as text/plain, not to be cached; the
// status must be one that has a body (not 1xx, 204 or 304). The Request
// is valid only during the call.
type Responder interface {
	Respond(dst []byte, r *Request) (status int, body []byte, handled bool)
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = http.ErrServerClosed

// Serve answers requests on ln until Close; it closes ln.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.std = &http.Server{Handler: s.Handler, ReadHeaderTimeout: s.readHeaderTimeout(), IdleTimeout: s.idleTimeout(),
		ReadTimeout: orDefault(s.ReadTimeout, 20*time.Second), WriteTimeout: s.writeTimeout(),
		MaxHeaderBytes: s.MaxHeaderBytes, ConnContext: s.ConnContext}
	s.held.max = int64(s.MaxConns)
	if s.MaxConns <= 0 {
		s.held.max = int64(descriptorBudget(defaultMaxConns))
	}
	s.held.perPeer = int64(max(s.MaxConnsPerPeer, 0))
	s.held.peers = make(map[peerKey]int64)
	resp := s.Responder
	fast := resp != nil
	if fast {
		s.handoff = newHandoffListener(ln.Addr())
		s.conns = make(map[net.Conn]struct{})
	}
	s.ln = ln
	std, handoff := s.std, s.handoff
	s.mu.Unlock()
	if !fast {
		return s.std.Serve(boundedListener{Listener: ln, s: s})
	}
	go std.Serve(handoff)
	err := s.serveFast(ln, resp)
	handoff.Close()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrServerClosed
	}
	return err
}

// Close stops Serve and closes every connection, like http.Server.Close.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	std, handoff, conns, ln, lnDup := s.std, s.handoff, s.conns, s.ln, s.lnDup
	s.conns = nil
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	if lnDup != nil {
		lnDup.Close()
	}
	for c := range conns {
		c.Close()
	}
	if handoff != nil {
		handoff.Close()
	}
	if std != nil {
		return std.Close()
	}
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (s *Server) readHeaderTimeout() time.Duration {
	return orDefault(s.ReadHeaderTimeout, 10*time.Second)
}
func (s *Server) idleTimeout() time.Duration  { return orDefault(s.IdleTimeout, 60*time.Second) }
func (s *Server) writeTimeout() time.Duration { return orDefault(s.WriteTimeout, 20*time.Second) }

// connContext is ConnContext's context for c, or nil without one.
func (s *Server) connContext(c net.Conn) context.Context {
	if s.ConnContext == nil {
		return nil
	}
	return s.ConnContext(context.Background(), c)
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// serveConns is the portable fast path: a goroutine per connection, as
// net/http has, but plain requests parsed in place.
func (s *Server) serveConns(ln net.Listener, resp Responder) error {
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return err
		}
		if err != nil {
			backoff = s.pause(backoff, err)
			continue
		}
		backoff = 0
		if h, ok := s.hold(c); ok {
			go s.serveConnFast(h, resp, carried{})
		}
	}
}

// pause sleeps after a failed accept (out of descriptors, say), longer
// each time in a row, as net/http does.
func (s *Server) pause(last time.Duration, err error) time.Duration {
	s.held.acceptErrors.Add(1)
	next := max(5*time.Millisecond, min(2*last, time.Second))
	s.logger().Warn("HTTP server: accept failed; retrying", "err", err, "in", next)
	time.Sleep(next)
	return next
}

// serveConnFast is the path for a connection that outlives its first
// request (kept alive, or its head came in pieces): a goroutine reads
// heads with deadlines and answers them as the accept loop does, until
// the client closes, asks to close, or sends something for net/http.
// c holds a slot (hold).
func (s *Server) serveConnFast(c net.Conn, resp Responder, from carried) {
	if !s.track(c, true) {
		c.Close()
		return
	}
	keep := false
	defer func() {
		s.track(c, false)
		if !keep {
			c.Close()
		}
	}()
	if len(from.out) > 0 {
		c.SetWriteDeadline(time.Now().Add(s.writeTimeout()))
		if _, err := c.Write(from.out); err != nil || from.closeAfter {
			return
		}
	}
	buf := make([]byte, 0, 4096)
	buf = append(buf, from.buffered...)
	var reply, body []byte
	answered := from.answered
	headStarted := false // the read deadline is the head's
	ctx := s.connContext(c)
	for {
		req := Request{ctx: ctx}
		for {
			n, err := ParseRequest(buf, &req)
			if err == nil {
				var ok bool
				reply, body, ok = s.answer(resp, &req, reply, body)
				if !ok {
					keep = s.handOff(c, buf) // a request for net/http
					return
				}
				buf = buf[:copy(buf, buf[n:])]
				headStarted = false
				c.SetWriteDeadline(time.Now().Add(s.writeTimeout()))
				if _, err := c.Write(reply); err != nil || req.Close {
					return
				}
				answered = true
				continue
			}
			if err == ErrNotPlain {
				keep = s.handOff(c, buf)
				return
			}
			break // incomplete: read on
		}
		// Between requests the client may idle; once a head has begun
		// it has ReadHeaderTimeout in all, not per read.
		switch {
		case len(buf) == 0 && answered:
			c.SetReadDeadline(time.Now().Add(s.idleTimeout()))
			headStarted = false
		case !headStarted:
			c.SetReadDeadline(time.Now().Add(s.readHeaderTimeout()))
			headStarted = true
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil && n == 0 {
			return // closed, timed out, or reset
		}
	}
}

// carried is what a connection brings to serveConnFast from the accept
// loop.
type carried struct {
	out        []byte // a reply still to write
	buffered   []byte // bytes read after the last request answered
	closeAfter bool   // close once out is written
	answered   bool   // a request was answered: the client may idle
}

// answer appends the reply to a parsed request — head and body — to
// reply, using body as the Responder's buffer; both come back for reuse.
// ok is false when the Responder leaves the request to net/http.
func (s *Server) answer(resp Responder, req *Request, reply, body []byte) (_, _ []byte, ok bool) {
	status, body, handled := s.respond(resp, req, body)
	if !handled {
		return reply, body, false
	}
	reply = s.appendHead(reply[:0], status, len(body), req)
	if req.Method != http.MethodHead {
		reply = append(reply, body...)
	}
	return reply, body, true
}

// respond calls the Responder. A panic in it costs its connection, as
// under net/http, not the process: the client gets a 500 and the
// connection closes. A panics.Fatal goes on and ends the process (the
// accept loop and serveConnFast run on goroutines of their own).
func (s *Server) respond(resp Responder, req *Request, body []byte) (status int, out []byte, handled bool) {
	defer func() {
		if v := recover(); v != nil {
			if panics.IsFatal(v) {
				panics.Raise(v)
			}
			s.panics.Recovered(s.logger(), "HTTP server "+req.Path, v)
			status, out, handled = http.StatusInternalServerError, append(body[:0], "internal error\n"...), true
			req.Close = true
		}
	}()
	return resp.Respond(body[:0], req)
}

// appendHead writes a reply's status line and headers.
func (s *Server) appendHead(dst []byte, status, length int, req *Request) []byte {
	if req.http10 {
		dst = append(dst, "HTTP/1.0 "...) // as net/http answers a 1.0 client
	} else {
		dst = append(dst, "HTTP/1.1 "...)
	}
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, http.StatusText(status)...)
	// No Allow header: the parser hands every method but GET and HEAD
	// to net/http, so a 405 never comes this way.
	dst = append(dst, "\r\nContent-Type: text/plain\r\nCache-Control: no-cache\r\n"...)
	dst = append(dst, s.dateLine()...)
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(length), 10)
	if req.Close {
		dst = append(dst, "\r\nConnection: close"...)
	} else if req.keepAlive10() {
		dst = append(dst, "\r\nConnection: keep-alive"...)
	}
	return append(dst, "\r\n\r\n"...)
}

// dateLine is the Date header for one second, formatted once.
type dateLine struct {
	unix int64
	line string
}

func (s *Server) dateLine() string {
	now := time.Now()
	if d := s.date.Load(); d != nil && d.unix == now.Unix() {
		return d.line
	}
	d := &dateLine{unix: now.Unix(), line: "Date: " + now.UTC().Format(http.TimeFormat) + "\r\n"}
	s.date.Store(d)
	return d.line
}

// holdDup records the listener's duplicate descriptor for Close to
// close too; it fails once the server is closed.
func (s *Server) holdDup(c io.Closer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.lnDup = c
	return true
}

// track adds or removes a connection the server answers itself; adding
// fails once the server is closed.
func (s *Server) track(c net.Conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		return false
	}
	if add {
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
	return true
}

// handOff gives a connection and the bytes read from it to net/http; it
// reports whether net/http took it (else the caller closes it).
func (s *Server) handOff(c net.Conn, buffered []byte) bool {
	c.SetDeadline(time.Time{}) // net/http sets the ones it wants
	pc := &prefixConn{Conn: c}
	if len(buffered) > 0 {
		pc.prefix = append([]byte(nil), buffered...)
	}
	return s.handoff.give(pc)
}

// prefixConn is a connection whose first bytes were already read.
type prefixConn struct {
	net.Conn
	prefix []byte
}

// CloseWrite passes net/http's half-close through (it looks for it
// before closing a connection whose request it refused).
func (c *prefixConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// handoffListener is the listener net/http serves: it yields the
// connections the fast path passes on.
type handoffListener struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newHandoffListener(addr net.Addr) *handoffListener {
	return &handoffListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *handoffListener) give(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }

// keepAlive10 reports an HTTP/1.0 client that asked to keep the
// connection (the reply must say it will).
func (r *Request) keepAlive10() bool { return r.http10 && !r.Close }
