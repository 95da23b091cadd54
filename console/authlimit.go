package console

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// authLimiter throttles password guessing: after maxFails wrong
// passwords from one client address within window, that address is
// refused without a check until window has passed since its last
// failure. The table holds at most maxClients addresses; when it is
// full, the addresses it cannot hold share one entry, so a guesser that
// spreads over many addresses is throttled as one.
type authLimiter struct {
	mu         sync.Mutex
	clients    map[netip.Addr]*authFails
	overflow   authFails
	maxClients int
	maxFails   int
	window     time.Duration

	failed, refused, overflowed uint64
}

type authFails struct {
	count int
	last  time.Time
}

func newAuthLimiter(maxClients, maxFails int, window time.Duration) *authLimiter {
	return &authLimiter{clients: make(map[netip.Addr]*authFails), maxClients: maxClients, maxFails: maxFails, window: window}
}

// clientKey is the address a request's remote address is counted
// under: IPv6 clients by their /64, which one host usually holds whole.
func clientKey(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr()
	}
	return ip
}

// entry returns the failures counted for key, or nil if none are; with
// add it makes one, in the overflow entry if the table is full.
func (l *authLimiter) entry(key netip.Addr, now time.Time, add bool) *authFails {
	if f, ok := l.clients[key]; ok {
		if now.Sub(f.last) >= l.window {
			f.count = 0
		}
		return f
	}
	if !add {
		if l.overflow.count > 0 && len(l.clients) >= l.maxClients {
			return &l.overflow
		}
		return nil
	}
	if len(l.clients) >= l.maxClients {
		for k, f := range l.clients {
			if now.Sub(f.last) >= l.window {
				delete(l.clients, k)
			}
		}
	}
	if len(l.clients) >= l.maxClients {
		l.overflowed++
		if now.Sub(l.overflow.last) >= l.window {
			l.overflow.count = 0
		}
		return &l.overflow
	}
	f := &authFails{}
	l.clients[key] = f
	return f
}

// blocked reports whether the client at remote may not try a password
// now, and counts the refusal.
func (l *authLimiter) blocked(remote string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.entry(clientKey(remote), now, false)
	if f == nil || f.count < l.maxFails || now.Sub(f.last) >= l.window {
		return false
	}
	l.refused++
	return true
}

// fail counts a wrong password from remote.
func (l *authLimiter) fail(remote string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failed++
	f := l.entry(clientKey(remote), now, true)
	f.count++
	f.last = now
}

// succeed forgets the failures of remote.
func (l *authLimiter) succeed(remote string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.clients, clientKey(remote))
}

// problems are the limiter's counts, for the page's drops and errors.
func (l *authLimiter) problems() []Problem {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Problem
	for _, p := range []Problem{
		{Where: "console", Reason: "wrong_password", Count: l.failed},
		{Where: "console", Reason: "password_throttled", Count: l.refused},
		{Where: "console", Reason: "password_table_full", Count: l.overflowed},
	} {
		if p.Count > 0 {
			out = append(out, p)
		}
	}
	return out
}
