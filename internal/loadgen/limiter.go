package loadgen

import "time"

// Limiter is a token bucket: rate tokens a second, at most burst saved
// up. A zero rate means no limit. It is not safe for concurrent use: each
// worker has its own, with its share of the rate.
type Limiter struct {
	rate   float64 // tokens per second; 0 = unlimited
	burst  float64
	tokens float64
	last   time.Time
}

// NewLimiter returns a full bucket. burst below 1 is taken as 1.
func NewLimiter(rate float64, burst int, now time.Time) *Limiter {
	b := float64(max(burst, 1))
	return &Limiter{rate: rate, burst: b, tokens: b, last: now}
}

// Take takes one token at time now, or says how long to wait for one
// (nothing is taken then). now must not go backwards.
func (l *Limiter) Take(now time.Time) time.Duration {
	if l.rate <= 0 {
		return 0
	}
	if el := now.Sub(l.last); el > 0 {
		l.tokens = min(l.burst, l.tokens+el.Seconds()*l.rate)
		l.last = now
	}
	if l.tokens >= 1 {
		l.tokens--
		return 0
	}
	return max(time.Duration((1-l.tokens)/l.rate*float64(time.Second)), 1)
}
