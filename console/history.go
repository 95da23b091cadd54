package console

import (
	"fmt"
	"html/template"
	"strings"
	"sync"
	"time"
)

// history keeps one sample per interval for a day, in a ring.
type history struct {
	mu      sync.Mutex
	samples []sample
	next    int
	full    bool
}

type sample struct {
	at        time.Time
	announces uint64 // monotonic total
	peers     uint64
	swarms    uint64
}

func newHistory(n int) *history { return &history{samples: make([]sample, n)} }

func (h *history) add(s sample) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.samples[h.next] = s
	h.next = (h.next + 1) % len(h.samples)
	if h.next == 0 {
		h.full = true
	}
}

// ordered returns the samples oldest first.
func (h *history) ordered() []sample {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.full {
		return append([]sample(nil), h.samples[:h.next]...)
	}
	out := make([]sample, 0, len(h.samples))
	out = append(out, h.samples[h.next:]...)
	return append(out, h.samples[:h.next]...)
}

// series is one chart's data: values at times.
type series struct {
	title, unit string
	at          []time.Time
	values      []float64
}

// charts derives the three charts from the samples: announces per minute
// (the difference of consecutive totals), peers and swarms.
func charts(samples []sample) []series {
	ann := series{title: "Announces", unit: "per minute"}
	peers := series{title: "Peers", unit: ""}
	swarms := series{title: "Swarms", unit: ""}
	for i, s := range samples {
		peers.at, peers.values = append(peers.at, s.at), append(peers.values, float64(s.peers))
		swarms.at, swarms.values = append(swarms.at, s.at), append(swarms.values, float64(s.swarms))
		if i > 0 {
			prev := samples[i-1]
			minutes := s.at.Sub(prev.at).Minutes()
			if minutes > 0 && s.announces >= prev.announces {
				ann.at = append(ann.at, s.at)
				ann.values = append(ann.values, float64(s.announces-prev.announces)/minutes)
			}
		}
	}
	return []series{ann, peers, swarms}
}

// Chart geometry.
const (
	chartW, chartH = 640, 140
	padL, padR     = 56, 8
	padT, padB     = 10, 22
)

// svg renders a series as an inline SVG line chart over the last day.
func (s series) svg(now time.Time, span time.Duration) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s over the last 24 hours">`, chartW, chartH, template.HTMLEscapeString(s.title))
	maxV := 0.0
	for _, v := range s.values {
		maxV = max(maxV, v)
	}
	top := niceCeil(maxV)
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	// Grid and labels.
	for i := 0; i <= 2; i++ {
		y := float64(padT) + plotH*float64(i)/2
		v := top * float64(2-i) / 2
		fmt.Fprintf(&b, `<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, padL, y, chartW-padR, y)
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-6, y+4, humanNumber(v))
	}
	for i, label := range []string{"-24h", "-12h", "now"} {
		x := float64(padL) + plotW*float64(i)/2
		anchor := [...]string{"start", "middle", "end"}[i]
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="%s">%s</text>`, x, chartH-6, anchor, label)
	}
	if len(s.values) == 0 {
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d" text-anchor="middle">collecting data…</text>`, padL+int(plotW)/2, padT+int(plotH)/2)
	}
	if len(s.values) > 0 {
		b.WriteString(`<polyline class="line" points="`)
		start := now.Add(-span)
		for i, v := range s.values {
			x := float64(padL) + plotW*float64(s.at[i].Sub(start))/float64(span)
			y := float64(padT) + plotH
			if top > 0 {
				y -= plotH * v / top
			}
			fmt.Fprintf(&b, "%.1f,%.1f ", max(float64(padL), x), y)
		}
		b.WriteString(`"/>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := 1.0
	for p*10 <= v {
		p *= 10
	}
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func humanNumber(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.3gG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	}
	return fmt.Sprintf("%.3g", v)
}
