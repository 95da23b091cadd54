package plugin

import (
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/go-i2p/go-opentracker/httpserver"
	"github.com/go-i2p/go-opentracker/i2cp"
)

// DefaultI2CPAddr is the router's usual I2CP address.
const DefaultI2CPAddr = i2cp.DefaultAddr

// Server serves a handler on a listener until Close. Serve returns
// http.ErrServerClosed after Close.
type Server interface {
	Serve(ln net.Listener) error
	Close() error
}

// NewTrackerServer returns a server for the handler the plugin mounts
// with MountTracker: an httpserver.Server whose fast path is the same
// router, so announces and scrapes are answered without net/http and
// every other request goes to h. Any http.Handler server serves the
// handler as well; for a handler that is not the plugin's, the server is
// net/http alone. Its connection counters appear on the plugin's
// /metrics.
func NewTrackerServer(h http.Handler, log *slog.Logger) Server {
	srv := &httpserver.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second, Logger: log}
	if routes, ok := h.(trackerRoutes); ok {
		srv.Responder = routes
		routes.p.trackerServer.Store(srv)
	}
	return srv
}
