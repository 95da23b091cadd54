package loadgen

import (
	"testing"
	"time"
)

// TestLimiterBounds drives the bucket with a simulated clock: a greedy
// taker gets rate·T plus the burst, never more, and not much less.
func TestLimiterBounds(t *testing.T) {
	for _, tc := range []struct {
		rate  float64
		burst int
	}{{1000, 1}, {1000, 50}, {37, 5}, {250000, 2500}} {
		start := time.Unix(1000, 0)
		l := NewLimiter(tc.rate, tc.burst, start)
		now := start
		const span = 3 * time.Second
		taken := 0
		for now.Sub(start) <= span {
			if d := l.Take(now); d > 0 {
				if d > time.Duration(float64(time.Second)/tc.rate)+time.Nanosecond {
					t.Fatalf("rate %v: wait %v longer than one token's time", tc.rate, d)
				}
				now = now.Add(d)
				continue
			}
			taken++
		}
		max := tc.rate*span.Seconds() + float64(tc.burst) + 1
		min := tc.rate*span.Seconds() - 1
		if float64(taken) > max || float64(taken) < min {
			t.Errorf("rate %v burst %d: took %d in %v, want %.0f..%.0f", tc.rate, tc.burst, taken, span, min, max)
		}
	}
}

func TestLimiterIdleSavesOnlyBurst(t *testing.T) {
	start := time.Unix(0, 0)
	l := NewLimiter(100, 10, start)
	now := start.Add(time.Hour)
	n := 0
	for l.Take(now) == 0 {
		n++
		if n > 1000 {
			break
		}
	}
	if n != 10 {
		t.Errorf("after an idle hour took %d at once, want the burst of 10", n)
	}
}

func TestLimiterUnlimited(t *testing.T) {
	l := NewLimiter(0, 0, time.Now())
	for range 1000 {
		if d := l.Take(time.Unix(0, 0)); d != 0 {
			t.Fatalf("unlimited limiter asked to wait %v", d)
		}
	}
}
