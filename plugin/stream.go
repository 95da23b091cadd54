package plugin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"time"

	"github.com/go-i2p/go-opentracker/httpserver"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/streaming"
	"github.com/go-i2p/go-opentracker/tracker/httptracker"
)

// Timeouts of an HTTP exchange over a stream, as an I2P HTTP server
// tunnel sets them: the head within streamHeaderTimeout, the whole
// request within streamReadTimeout, the reply within streamWriteTimeout.
const (
	streamHeaderTimeout = 15 * time.Second
	streamReadTimeout   = 30 * time.Second
	streamWriteTimeout  = 30 * time.Second
	streamMaxHeader     = 16 << 10
)

// streamServer serves the tracker's HTTP routes over I2P streaming on the
// run's own session, so the HTTP announce URL is on the tracker's own
// address with no tunnel. Announces and scrapes are parsed and answered
// by the httpserver's fast path; whatever it leaves goes to net/http with
// the bytes read so far. The stream's verified remote Destination is the
// requests' peer.
type streamServer struct {
	m    *streaming.Manager
	ln   *streaming.Listener
	srv  *httpserver.Server
	done chan struct{} // closed when Serve has returned
}

// newStreamServer attaches a streaming Manager to sess (protocol 6, every
// port), signing as keys, and prepares an HTTP server for h, its tracker
// paths answered by routes, on its Listener.
func newStreamServer(sess streaming.Session, keys *i2p.PrivateKeys, cfg Config, routes trackerRoutes, log *slog.Logger) (*streamServer, error) {
	m, err := streaming.Attach(sess, streaming.IdentityOf(keys), streamConfig(cfg, log))
	if err != nil {
		return nil, fmt.Errorf("streaming: %w", err)
	}
	ln, err := m.Listen()
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("streaming: %w", err)
	}
	srv := &httpserver.Server{
		Handler:           routes,
		Responder:         routes,
		ReadHeaderTimeout: streamHeaderTimeout,
		IdleTimeout:       streamHeaderTimeout,
		ReadTimeout:       streamReadTimeout,
		WriteTimeout:      streamWriteTimeout,
		MaxHeaderBytes:    streamMaxHeader,
		// The Manager bounds the streams; with none set, its default is
		// below the server's.
		MaxConns:    cfg.MaxStreams,
		ConnContext: streamPeer,
		Logger:      log,
	}
	return &streamServer{m: m, ln: ln, srv: srv, done: make(chan struct{})}, nil
}

// streamConfig is the Manager's configuration under cfg: its limits, and
// the streaming package's defaults for the rest.
func streamConfig(cfg Config, log *slog.Logger) streaming.Config {
	limit := func(n int) int {
		if n == 0 {
			return -1 // no limit
		}
		return n
	}
	return streaming.Config{MaxStreams: cfg.MaxStreams, MaxStreamsPerPeer: cfg.MaxStreamsPerPeer, MaxConnsPerMinute: limit(cfg.StreamsPerMinute),
		MaxConnsPerHour: limit(cfg.StreamsPerHour), MaxTotalConnsPerMinute: limit(cfg.StreamsTotalPerMinute), Logger: log}
}

// streamPeer puts a stream's verified remote Destination in the context
// of its requests: the tracker takes it as the announcing peer.
func streamPeer(ctx context.Context, c net.Conn) context.Context {
	if a, ok := c.RemoteAddr().(streaming.Addr); ok {
		return httptracker.WithPeer(ctx, a.Destination)
	}
	return ctx
}

// start serves until close.
func (s *streamServer) start(log *slog.Logger) {
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, httpserver.ErrServerClosed) {
			log.Error("HTTP over streaming", "err", err)
		}
	}()
}

// close stops accepting, closes the open exchanges and waits for Serve to
// return; the streams still open are reset.
func (s *streamServer) close() {
	s.srv.Close()
	<-s.done
	s.m.Close()
}

// Stats are the Manager's counters.
func (s *streamServer) stats() streaming.Stats { return s.m.Stats() }

// streamStats are the running tracker's streaming counters; ok is false
// while it is stopped.
func (p *Plugin) streamStats() (s streaming.Stats, ok bool) {
	p.mu.Lock()
	r := p.run
	p.mu.Unlock()
	if r == nil {
		return s, false
	}
	return r.stream.stats(), true
}

// streamRefused is the number of SYNs that opened no stream.
func streamRefused(s streaming.Stats) uint64 {
	var n uint64
	for _, v := range s.Refused {
		n += v
	}
	return n
}

// streamRefusals are the refused SYNs by reason.
func streamRefusals(s streaming.Stats) map[string]uint64 { return s.Refused }

// streamDrops are the packets dropped, by reason, with the sends the
// link refused.
func streamDrops(s streaming.Stats) map[string]uint64 {
	m := maps.Clone(s.Dropped)
	m["send_errors"] = s.SendErrors
	return m
}

// streamProblems are the refusals and drops the console lists.
func streamProblems(s streaming.Stats) map[string]uint64 {
	m := streamDrops(s)
	for k, v := range streamRefusals(s) {
		m["refused_"+k] = v
	}
	m["timeouts"] = s.Timeouts
	return m
}
