package console

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// hostAllowed reports whether a request's Host names this console: a
// loopback name or address, the address the connection arrived on, or
// one of the names the host configured. Anything else is a browser sent
// here by a name the operator never gave the console, which is how DNS
// rebinding reaches a loopback service from a web page: the attacker's
// name resolves to 127.0.0.1 and the page becomes same-origin with it.
// The port is not compared: a router console may proxy from another.
func (c *Console) hostAllowed(r *http.Request, host string) bool {
	name := hostName(host)
	if name == "" {
		return false
	}
	if name == "localhost" || c.hosts[name] {
		return true
	}
	ip, err := netip.ParseAddr(name)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	if ip.IsLoopback() {
		return true
	}
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	ap, err := netip.ParseAddrPort(local.String())
	return err == nil && ap.Addr().Unmap() == ip
}

// hostName is the lower-cased name or address in a Host value or URL
// host, without port, brackets or a trailing dot; "" if it has none.
func hostName(host string) string {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(name, "]"), "["), ".")
	if i := strings.IndexByte(name, '%'); i >= 0 { // IPv6 zone
		name = name[:i]
	}
	return strings.ToLower(name)
}

// originAllowed reports whether a state-changing request came from this
// console's own page: with an Origin, it must be the request's (allowed)
// Host; "null" is refused. A request without Origin is an old browser or
// a non-browser client; the CSRF token still guards it.
func (c *Console) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Host, r.Host) && c.hostAllowed(r, u.Host)
}
