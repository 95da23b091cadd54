// Configuration: Config, its defaults and the session options sent to
// the router. Nothing here changes after NewSession.

package i2cp

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// Config configures a Session. The zero value connects to DefaultAddr.
type Config struct {
	// Addr is "host:port" or "unix:/path"; with Dial set it only names
	// the link in logs and states.
	Addr string
	// Dial opens the connection to the router, for routers that host the
	// tracker in-process (a net.Pipe) or anything unusual.
	Dial func(ctx context.Context) (net.Conn, error)
	// Options override the session defaults (DefaultOptions).
	Options i2p.Mapping
	// LegacyLeaseSet publishes the older LeaseSet with an ElGamal key
	// instead of a LeaseSet2 with X25519, for old routers (i2pd < 2.48).
	LegacyLeaseSet bool
	// NoLeaseSetBundle sends with SendMessageExpires and the flag that
	// keeps our LeaseSet out of replies.
	NoLeaseSetBundle bool
	// Compress deflates payloads over 66 bytes that shrink, as the Java
	// client does; the rest, and every payload
	// while it is off, go as one stored block. It is off by default: a
	// tracker's replies are hashes, ids and signatures that never
	// shrink, and trying would cost each one over 66 bytes a scan or a
	// deflate pass, a large share of the whole send path. Turn it on for
	// text-like payloads.
	Compress           bool
	Username, Password string
	SendQueue          int // frames; default 8192
	// KeepAlive is the link check period (default 15 s): a GetDate goes
	// out when nothing was sent or received in a period, and a router
	// that answers nothing for two periods is taken as gone.
	KeepAlive time.Duration
	// Coalesce, when set, lets input gather after a small batch: the
	// reader waits this long before it reads again, so that a steady
	// trickle of messages costs one wake-up per few messages instead of
	// one each (replies wait as long; I2P's tunnels take far longer).
	Coalesce   time.Duration
	MinBackoff time.Duration // default 1 s
	MaxBackoff time.Duration // default 60 s
	// OnState is called on every state change, from the session's own
	// goroutines: it must return quickly.
	OnState func(State)
	// OnMessageStatus, with i2cp.messageReliability set to anything but
	// "none" in Options (BestEffort, say), is called for every
	// MessageStatus the router sends: nonce is what SendTracked returned
	// for the message, status a Msg code (MsgAccepted first, then a
	// success or failure). It runs on the receive goroutine and must not
	// block. With reliability none (the default) routers send no
	// statuses and messages carry nonce 0.
	OnMessageStatus func(nonce uint32, status uint8)
	Logger          *slog.Logger
}

// DefaultOptions are what a tracker wants of its session.
func DefaultOptions() i2p.Mapping {
	return i2p.Mapping{
		{Key: "inbound.quantity", Value: "3"},
		{Key: "outbound.quantity", Value: "3"},
		{Key: "inbound.length", Value: "3"},
		{Key: "outbound.length", Value: "3"},
		{Key: "i2cp.fastReceive", Value: "true"},
		{Key: "i2cp.messageReliability", Value: "none"},
		{Key: "i2cp.leaseSetEncType", Value: "4"},
		{Key: "inbound.nickname", Value: "go-opentracker"},
		{Key: "outbound.nickname", Value: "go-opentracker"},
	}
}

// mergeOptions returns base with the pairs of over: a key base has
// takes over's value in place, a new key is appended.
func mergeOptions(base, over i2p.Mapping) i2p.Mapping {
	out := append(i2p.Mapping(nil), base...)
	for _, p := range over {
		replaced := false
		for i := range out {
			if out[i].Key == p.Key {
				out[i].Value, replaced = p.Value, true
			}
		}
		if !replaced {
			out = append(out, p)
		}
	}
	return out
}
