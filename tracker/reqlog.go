package tracker

import (
	"context"
	"encoding/hex"
	"log/slog"

	"github.com/go-i2p/go-opentracker/i2p"
)

// RequestLine is one announce or scrape as the debug log shows it.
// Transports fill it only when Debugging says the line would be written,
// so a tracker logging above debug pays no formatting or allocation for
// it.
type RequestLine struct {
	Transport string // "udp", "http"
	Kind      string // "announce", "scrape"
	InfoHash  InfoHash
	Peer      i2p.Hash // zero when not known
	Event     Event
	NumWant   int
	Peers     int    // peers returned
	Result    string // "ok", or why it failed or was dropped
}

// Debugging reports whether log writes debug lines: the cheap check a
// transport makes before it fills a RequestLine.
func Debugging(log *slog.Logger) bool {
	return log.Enabled(context.Background(), slog.LevelDebug)
}

// LogRequest writes l at debug.
func LogRequest(log *slog.Logger, l *RequestLine) {
	attrs := []slog.Attr{slog.String("transport", l.Transport), slog.String("info_hash", hex.EncodeToString(l.InfoHash[:]))}
	if l.Peer != (i2p.Hash{}) {
		attrs = append(attrs, slog.String("peer", l.Peer.B32()))
	}
	if l.Kind == "announce" {
		attrs = append(attrs, slog.String("event", l.Event.String()), slog.Int("numwant", l.NumWant), slog.Int("peers", l.Peers))
	}
	attrs = append(attrs, slog.String("result", l.Result))
	log.LogAttrs(context.Background(), slog.LevelDebug, l.Kind, attrs...)
}
