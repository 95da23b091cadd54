package udptracker

import (
	"context"
	"log/slog"

	"github.com/go-i2p/go-opentracker/tracker"
)

// dropDatagram counts a datagram dropped before its request was parsed
// and, at debug only, logs it: the reason, the datagram's protocol,
// ports and size, and what its parse said (err, nil when the drop did
// not come from one). Above debug it costs the counter and one Enabled
// check, no formatting or allocation.
func (s *Server) dropDatagram(r DropReason, protocol uint8, fromPort, toPort uint16, size int, err error) {
	s.stats.drop(r)
	if tracker.Debugging(s.cfg.Logger) {
		s.logDrop(r, protocol, fromPort, toPort, size, err)
	}
}

func (s *Server) logDrop(r DropReason, protocol uint8, fromPort, toPort uint16, size int, err error) {
	attrs := []slog.Attr{slog.String("reason", r.String()), slog.Int("protocol", int(protocol)),
		slog.Int("from_port", int(fromPort)), slog.Int("to_port", int(toPort)), slog.Int("bytes", size)}
	if err != nil {
		attrs = append(attrs, slog.String("err", err.Error()))
	}
	s.cfg.Logger.LogAttrs(context.Background(), slog.LevelDebug, "udp datagram dropped", attrs...)
}
