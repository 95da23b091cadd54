// The dispatch table: received messages go to a Handler chosen by their
// protocol and to-port. Each protocol has at most one handler per port
// and one for any port (registered with port 0); the one for the exact
// port wins.
//
//	protocol  to-port  handler
//	17        6969     the UDP tracker's (say)
//	6         0        a streaming layer's, for every port
//
// Invariants: a published routes map is never changed; Handle builds a
// copy and swaps it in, so the reader looks handlers up without a lock.
// Lock order: handleMu is taken only by Handle, which takes no other.

package i2cp

import (
	"runtime/debug"

	"github.com/go-i2p/go-opentracker/internal/panics"
)

// Message is one received payload. Payload is valid only during the
// handler call: copy what must outlive it.
type Message struct {
	Protocol         uint8
	FromPort, ToPort uint16
	Payload          []byte
}

// Handler processes received messages. It runs on the receive goroutine
// and must not block. A handler that panics loses its message: the
// panic is recovered, counted (Stats.HandlerPanics) and logged, and the
// reader goes on.
type Handler func(m *Message)

// AnyPort registers a handler for every to-port of its protocol that has
// no handler of its own.
const AnyPort = 0

// route is a key of the dispatch table: a protocol and a to-port.
type route uint32

func routeOf(protocol uint8, port uint16) route { return route(protocol)<<16 | route(port) }

// routes is the dispatch table.
type routes map[route]Handler

// find returns the handler for a message to port under protocol: the
// one for that port, else the one for any port, else nil.
func (t routes) find(protocol uint8, port uint16) Handler {
	if h := t[routeOf(protocol, port)]; h != nil {
		return h
	}
	return t[routeOf(protocol, AnyPort)]
}

// with returns a copy of t with h registered for (protocol, port); a nil
// h removes the registration.
func (t routes) with(protocol uint8, port uint16, h Handler) routes {
	next := make(routes, len(t)+1)
	for k, v := range t {
		next[k] = v
	}
	if h == nil {
		delete(next, routeOf(protocol, port))
	} else {
		next[routeOf(protocol, port)] = h
	}
	return next
}

// Handle registers h for protocol on port (AnyPort, 0: every port with
// no handler of its own); a nil h removes the registration. A handler
// for a specific port wins over one for any port. Handlers survive
// reconnects.
func (s *Session) Handle(protocol uint8, port uint16, h Handler) {
	s.handleMu.Lock()
	defer s.handleMu.Unlock()
	next := (*s.handlers.Load()).with(protocol, port, h)
	s.handlers.Store(&next)
}

// dispatch hands m to its handler, or counts it unclaimed. A panic in
// the handler ends there: on the reader's goroutine it would end the
// process, at the hands of whoever sent the message.
func (s *Session) dispatch(m *Message) {
	h := (*s.handlers.Load()).find(m.Protocol, m.ToPort)
	if h == nil {
		s.unclaimed.Add(1)
		return
	}
	defer s.recoverHandler(m)
	h(m)
}

// recoverHandler counts and logs a handler's panic (a panics.Fatal goes on): the first with its
// stack, then at each power of two, so a sender that keeps provoking it
// cannot flood the log.
func (s *Session) recoverHandler(m *Message) {
	v := recover()
	if v == nil {
		return
	}
	if panics.IsFatal(v) {
		panic(v) // a handler judged its state untrustworthy: end the process
	}
	n := s.panics.Add(1)
	if n&(n-1) != 0 {
		return
	}
	args := []any{"protocol", m.Protocol, "from_port", m.FromPort, "to_port", m.ToPort, "panic", v, "panics", n}
	if n == 1 {
		args = append(args, "stack", string(debug.Stack()))
	}
	s.cfg.Logger.Error("i2cp: message handler panicked; message dropped", args...)
}
