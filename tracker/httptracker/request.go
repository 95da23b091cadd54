package httptracker

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-i2p/go-opentracker/httpserver"
	"github.com/go-i2p/go-opentracker/i2p"
)

// Request is what the tracker reads of an HTTP request: the method, the
// path and raw query, and the headers that say who sent it. RequestFrom
// takes it from a net/http request, requestOf from one the httpserver
// parsed; both read the headers the same way.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	// The identity headers an I2P server tunnel adds (the first value
	// of each, as http.Header.Get gives it).
	DestB64, DestHash, DestB32 string
	// Forwarded: an X-Forwarded-For or X-Forwarded-Server header with a
	// value (any of its values), the mark of an inproxy.
	Forwarded bool
	// Peer is the Destination the transport itself verified (the remote
	// end of an I2P stream), or nil. When set it is the
	// announcing peer and the X-I2P-Dest* headers are not read: on a
	// stream they come from the client, not from a tunnel.
	Peer *i2p.Destination
}

// peerKey is the context key of a verified peer.
type peerKey struct{}

// WithPeer returns ctx carrying d as the verified peer of the requests
// made under it; a server sets it per connection
// (http.Server.ConnContext) for transports that authenticate the remote
// Destination, such as I2P streaming.
func WithPeer(ctx context.Context, d i2p.Destination) context.Context {
	if d.IsZero() {
		return ctx
	}
	return context.WithValue(ctx, peerKey{}, &d)
}

// PeerFrom returns the verified peer WithPeer put in ctx, or nil.
func PeerFrom(ctx context.Context) *i2p.Destination {
	d, _ := ctx.Value(peerKey{}).(*i2p.Destination)
	return d
}

// RequestFrom takes the tracker's view of a net/http request. A request
// whose context carries a verified peer (WithPeer) has that peer and no
// identity headers.
func RequestFrom(r *http.Request) Request {
	if d := PeerFrom(r.Context()); d != nil {
		return Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Peer: d,
			Forwarded: anyValue(r.Header, "X-Forwarded-For") || anyValue(r.Header, "X-Forwarded-Server")}
	}
	return Request{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		DestB64: r.Header.Get("X-I2P-DestB64"), DestHash: r.Header.Get("X-I2P-DestHash"), DestB32: r.Header.Get("X-I2P-DestB32"),
		Forwarded: anyValue(r.Header, "X-Forwarded-For") || anyValue(r.Header, "X-Forwarded-Server"),
	}
}

func anyValue(h http.Header, name string) bool {
	for _, v := range h.Values(name) {
		if v != "" {
			return true
		}
	}
	return false
}

// requestOf takes the tracker's view of a request the httpserver parsed,
// in one pass over its headers.
func requestOf(r *httpserver.Request) Request {
	out := Request{Method: r.Method, Path: r.Path, RawQuery: r.RawQuery, Peer: PeerFrom(r.Context())}
	var seenB64, seenHash, seenB32 bool
	for name, value := range r.Headers() {
		switch {
		case strings.EqualFold(name, "X-Forwarded-For"), strings.EqualFold(name, "X-Forwarded-Server"):
			out.Forwarded = out.Forwarded || value != ""
		case out.Peer != nil:
			// A verified peer: the identity headers are the client's.
		case strings.EqualFold(name, "X-I2P-DestB64"):
			first(&out.DestB64, &seenB64, value)
		case strings.EqualFold(name, "X-I2P-DestHash"):
			first(&out.DestHash, &seenHash, value)
		case strings.EqualFold(name, "X-I2P-DestB32"):
			first(&out.DestB32, &seenB32, value)
		}
	}
	return out
}

// first keeps the first value a header had, empty or not, as
// http.Header.Get does.
func first(dst *string, seen *bool, v string) {
	if !*seen {
		*dst, *seen = v, true
	}
}
