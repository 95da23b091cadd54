package streaming

import (
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// rateLimiter counts new inbound streams per remote Destination (per
// minute and per hour) and in total (per minute) in fixed windows, as
// Java's connection throttler does: a window's count starts again at zero
// once the window has passed. The per-peer table holds at most maxPeers
// entries; when it is full the peer that came first makes room. Not safe for concurrent use (the Manager's lock guards it).
type rateLimiter struct {
	perMinute, perHour, totalPerMinute int // <= 0: no limit
	maxPeers                           int

	total   window
	peers   map[i2p.Hash]*peerRate
	order   []i2p.Hash // the peers in the order they came, a ring once full
	oldest  int        // where the ring's oldest peer is
	evicted uint64     // peers forgotten before their hour was over
}

// window is a fixed-length counting window.
type window struct {
	start time.Time
	n     int
}

// count reports the window's count at now, restarting it if it passed.
func (w *window) count(now time.Time, length time.Duration) int {
	if now.Sub(w.start) >= length || now.Before(w.start) {
		w.start, w.n = now, 0
	}
	return w.n
}

// retryAfter is how long until the window at now restarts, in whole
// seconds, at least one.
func (w *window) retryAfter(now time.Time, length time.Duration) int {
	left := w.start.Add(length).Sub(now)
	return max(int((left+time.Second-1)/time.Second), 1)
}

type peerRate struct {
	minute, hour window
}

func newRateLimiter(cfg Config) *rateLimiter {
	return &rateLimiter{perMinute: cfg.MaxConnsPerMinute, perHour: cfg.MaxConnsPerHour,
		totalPerMinute: cfg.MaxTotalConnsPerMinute, maxPeers: cfg.MaxRatePeers,
		peers: map[i2p.Hash]*peerRate{}}
}

// limitReason says which rate limit refused a stream.
type limitReason int

const (
	withinLimits limitReason = iota
	overPeerMinute
	overPeerHour
	overTotalMinute
)

// allow counts a new stream from peer at now, or says which limit it is
// over and after how many seconds to try again; a refused stream is not
// counted.
func (r *rateLimiter) allow(peer i2p.Hash, now time.Time) (limitReason, int) {
	if r.totalPerMinute > 0 && r.total.count(now, time.Minute) >= r.totalPerMinute {
		return overTotalMinute, r.total.retryAfter(now, time.Minute)
	}
	if r.perMinute <= 0 && r.perHour <= 0 {
		r.total.n++
		return withinLimits, 0
	}
	p := r.peers[peer]
	if p == nil {
		if len(r.order) < r.maxPeers {
			r.order = append(r.order, peer)
		} else {
			p = r.evict(now)
			r.order[r.oldest] = peer
			r.oldest = (r.oldest + 1) % len(r.order)
		}
		if p == nil {
			p = new(peerRate)
		}
		*p = peerRate{minute: window{start: now}, hour: window{start: now}}
		r.peers[peer] = p
	}
	if r.perHour > 0 && p.hour.count(now, time.Hour) >= r.perHour {
		return overPeerHour, p.hour.retryAfter(now, time.Hour)
	}
	if r.perMinute > 0 && p.minute.count(now, time.Minute) >= r.perMinute {
		return overPeerMinute, p.minute.retryAfter(now, time.Minute)
	}
	p.minute.n++
	p.hour.n++
	r.total.n++
	return withinLimits, 0
}

// evict forgets the peer that has been in the table longest, to make
// room for a new one; forgetting a peer whose hour is not over loses its
// counts, so it is counted. It returns the entry for reuse.
func (r *rateLimiter) evict(now time.Time) *peerRate {
	victim := r.order[r.oldest]
	p := r.peers[victim]
	if p != nil && now.Sub(p.hour.start) < time.Hour {
		r.evicted++
	}
	delete(r.peers, victim)
	return p
}
