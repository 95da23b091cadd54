package httptracker

import (
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens a second, at most burst kept.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func (b *bucket) init(rate, burst int) {
	b.rate, b.burst, b.tokens = float64(rate), float64(burst), float64(burst)
}

// allow takes a token if there is one at now.
func (b *bucket) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
