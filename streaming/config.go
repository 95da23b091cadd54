package streaming

import (
	"log/slog"
	"time"
)

// Config tunes a Manager. Zero fields take the defaults in parentheses.
type Config struct {
	MTU               int // payload bytes per packet we advertise and send (1730)
	MaxStreams        int // open streams in all (256)
	MaxStreamsPerPeer int // open streams per remote Destination (16)
	AcceptBacklog     int // accepted streams waiting for Accept (64)
	SendBuffer        int // bytes written but not yet acknowledged, per stream (64 KiB)
	RecvBuffer        int // bytes received but not yet read, per stream (64 KiB)

	InitialWindow int           // packets in flight before any ACK (3)
	MaxWindow     int           // packets in flight at most (128)
	InitialRTO    time.Duration // retransmission timeout before an RTT sample (9 s)
	MinRTO        time.Duration // (100 ms)
	MaxRTO        time.Duration // (45 s)
	MaxResends    int           // sends of one packet before the stream fails (8)

	AckDelay   time.Duration // longest wait before acknowledging (200 ms)
	FlushDelay time.Duration // wait for more data (a Close, say) before sending a short packet (10 ms)
	ReplyHold  time.Duration // wait for the application's answer before an empty SYN reply to a SYN with data (150 ms)
	Inactivity time.Duration // a stream that hears nothing this long fails (90 s)
	Linger     time.Duration // after Close, how long to wait for the peer's CLOSE (30 s)

	MaxEarly     int           // streams with packets waiting for their SYN (64)
	EarlyPackets int           // packets kept per such stream (8)
	EarlyTimeout time.Duration // how long they are kept (10 s)

	// Rate limits on new inbound streams, zzzot's i2ptunnel settings;
	// negative: no limit. Windows are fixed, as Java's throttler's are.
	MaxConnsPerMinute      int         // per remote Destination per minute (20)
	MaxConnsPerHour        int         // per remote Destination per hour (300)
	MaxTotalConnsPerMinute int         // from everyone per minute (2000)
	MaxRatePeers           int         // remote Destinations the per-peer limits remember (8192)
	LimitAction            LimitAction // the answer to a SYN over a limit (LimitHTTP)

	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	dur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MTU, 1730)
	c.MTU = max(c.MTU, minMTU)
	def(&c.MaxStreams, 256)
	def(&c.MaxStreamsPerPeer, 16)
	def(&c.AcceptBacklog, 64)
	def(&c.SendBuffer, 64<<10)
	def(&c.RecvBuffer, 64<<10)
	def(&c.InitialWindow, 3)
	def(&c.MaxWindow, 128)
	dur(&c.InitialRTO, 9*time.Second)
	dur(&c.MinRTO, 100*time.Millisecond)
	dur(&c.MaxRTO, 45*time.Second)
	def(&c.MaxResends, 8)
	dur(&c.AckDelay, 200*time.Millisecond)
	dur(&c.FlushDelay, 10*time.Millisecond)
	dur(&c.ReplyHold, 150*time.Millisecond)
	dur(&c.Inactivity, 90*time.Second)
	dur(&c.Linger, 30*time.Second)
	def(&c.MaxEarly, 64)
	def(&c.EarlyPackets, 8)
	dur(&c.EarlyTimeout, 10*time.Second)
	limit := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	limit(&c.MaxConnsPerMinute, 20)
	limit(&c.MaxConnsPerHour, 300)
	limit(&c.MaxTotalConnsPerMinute, 2000)
	def(&c.MaxRatePeers, 8192)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// minMTU is the smallest MTU a peer may advertise (Java clamps to it).
const minMTU = 512

// LimitAction is how a Manager answers a SYN over MaxStreams,
// MaxStreamsPerPeer or a rate limit. (A full accept backlog, or no
// Listener, is always answered with a RESET.)
type LimitAction int

const (
	// LimitHTTP answers with a signed SYN reply that also closes the
	// stream and carries an "HTTP/1.1 429 Too Many Requests" response with
	// Retry-After, as Java's HTTP server tunnels do (limitAction "http"):
	// the default, since the Listener serves HTTP.
	LimitHTTP LimitAction = iota
	// LimitReset answers with a signed RESET carrying FROM (Java's
	// limitAction "reset").
	LimitReset
)
