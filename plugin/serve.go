package plugin

import (
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/tracker/httptracker"
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
// with MountTracker: the tracker's own HTTP/1.1 server, which answers
// announces and scrapes without net/http and hands every other request
// to it. Any http.Handler server serves the handler as well.
func NewTrackerServer(h http.Handler, log *slog.Logger) Server {
	return &httptracker.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second, Logger: log}
}
