package httptracker

import (
	"net/http"
	"strings"

	"github.com/go-i2p/go-opentracker/httpserver"
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
}

// RequestFrom takes the tracker's view of a net/http request.
func RequestFrom(r *http.Request) Request {
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
	out := Request{Method: r.Method, Path: r.Path, RawQuery: r.RawQuery}
	var seenB64, seenHash, seenB32 bool
	for name, value := range r.Headers() {
		switch {
		case strings.EqualFold(name, "X-Forwarded-For"), strings.EqualFold(name, "X-Forwarded-Server"):
			out.Forwarded = out.Forwarded || value != ""
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
