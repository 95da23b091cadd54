package console

import (
	"fmt"
	"html/template"
	"strings"
	"sync"
	"time"
)

// chartWindow is one span the charts can show and the resolution the
// history keeps for it.
type chartWindow struct {
	name       string // as the page's ?window= names it: "1h", "6h", "24h", "7d"
	span, step time.Duration
}

// windowSpans are the selectable chart windows, shortest first.
var windowSpans = []struct {
	name string
	span time.Duration
}{{"1h", time.Hour}, {"6h", 6 * time.Hour}, {"24h", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}}

// pointsPerWindow bounds the samples kept for each window: its span is
// sampled at span/pointsPerWindow, or the sample interval if that is
// longer.
const pointsPerWindow = 360

// history keeps, for each chart window, the samples of its span at its
// resolution, each in a ring: a few hundred samples a window whatever
// the span.
type history struct {
	mu    sync.Mutex
	every time.Duration // the sampler's interval
	tiers []tier
	first time.Time
}

type tier struct {
	chartWindow
	ring []sample
	next int
	full bool
}

type sample struct {
	at        time.Time
	announces uint64 // monotonic total
	peers     uint64
	swarms    uint64
}

func newHistory(every time.Duration) *history {
	h := &history{every: every}
	for _, w := range windowSpans {
		step := max(every, w.span/pointsPerWindow)
		h.tiers = append(h.tiers, tier{chartWindow: chartWindow{name: w.name, span: w.span, step: step},
			ring: make([]sample, int(w.span/step)+1)})
	}
	return h
}

// windows lists the chart windows, shortest first.
func (h *history) windows() []chartWindow {
	out := make([]chartWindow, len(h.tiers))
	for i, t := range h.tiers {
		out[i] = t.chartWindow
	}
	return out
}

// add records s in every window whose step has passed since the last
// sample it kept (less half a sampler interval, for the ticker's jitter).
func (h *history) add(s sample) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.first.IsZero() {
		h.first = s.at
	}
	for i := range h.tiers {
		t := &h.tiers[i]
		if last := (t.next + len(t.ring) - 1) % len(t.ring); (t.full || t.next > 0) && s.at.Sub(t.ring[last].at) < t.step-h.every/2 {
			continue
		}
		t.ring[t.next] = s
		t.next = (t.next + 1) % len(t.ring)
		if t.next == 0 {
			t.full = true
		}
	}
}

// age is how long samples have been recorded at now.
func (h *history) age(now time.Time) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.first.IsZero() {
		return 0
	}
	return now.Sub(h.first)
}

// ordered returns window i's samples, oldest first.
func (h *history) ordered(i int) []sample {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.tiers[i]
	if !t.full {
		return append([]sample(nil), t.ring[:t.next]...)
	}
	out := make([]sample, 0, len(t.ring))
	out = append(out, t.ring[t.next:]...)
	return append(out, t.ring[:t.next]...)
}

// series is one chart's data: values at times. Points further apart
// than gap have no sample between them (the tracker was not running):
// the line breaks there.
type series struct {
	title, unit string
	at          []time.Time
	values      []float64
	gap         time.Duration
}

// gapSteps is how many steps apart two samples are a gap, not jitter.
const gapSteps = 2

// charts derives the three charts from samples taken step apart:
// announces per minute (the difference of consecutive totals, none
// across a gap), peers and swarms.
func charts(samples []sample, step time.Duration) []series {
	gap := gapSteps * step
	ann := series{title: "Announces", unit: "per minute", gap: gap}
	peers := series{title: "Peers", unit: "", gap: gap}
	swarms := series{title: "Swarms", unit: "", gap: gap}
	for i, s := range samples {
		peers.at, peers.values = append(peers.at, s.at), append(peers.values, float64(s.peers))
		swarms.at, swarms.values = append(swarms.at, s.at), append(swarms.values, float64(s.swarms))
		if i > 0 {
			prev := samples[i-1]
			d := s.at.Sub(prev.at)
			if minutes := d.Minutes(); minutes > 0 && d <= gap && s.announces >= prev.announces {
				ann.at = append(ann.at, s.at)
				ann.values = append(ann.values, float64(s.announces-prev.announces)/minutes)
			}
		}
	}
	return []series{ann, peers, swarms}
}

// Chart geometry, in the SVG's units. The width is about what a chart
// gets on a phone or in a third of a desktop window, so its 11-unit
// labels show near 11 px.
const (
	chartW, chartH = 400, 150
	padL, padR     = 40, 8
	padT, padB     = 10, 22
)

// svg renders a series as an inline SVG line chart over the span up to
// now, named by window ("24h").
func (s series) svg(now time.Time, span time.Duration, window string) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s over the last %s">`, chartW, chartH, template.HTMLEscapeString(s.title), window)
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
	for i, label := range []string{"-" + shortDuration(span), "-" + shortDuration(span/2), "now"} {
		x := float64(padL) + plotW*float64(i)/2
		anchor := [...]string{"start", "middle", "end"}[i]
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="%s">%s</text>`, x, chartH-6, anchor, label)
	}
	if len(s.values) == 0 {
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d" text-anchor="middle">collecting data…</text>`, padL+int(plotW)/2, padT+int(plotH)/2)
	}
	if len(s.values) > 0 {
		start := now.Add(-span)
		open := false
		for i, v := range s.values {
			if s.at[i].Before(start) {
				continue
			}
			if open && s.gap > 0 && s.at[i].Sub(s.at[i-1]) > s.gap {
				b.WriteString(`"/>`)
				open = false
			}
			if !open {
				b.WriteString(`<polyline class="line" points="`)
				open = true
			}
			x := float64(padL) + plotW*float64(s.at[i].Sub(start))/float64(span)
			y := float64(padT) + plotH
			if top > 0 {
				y -= plotH * v / top
			}
			fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
		}
		if open {
			b.WriteString(`"/>`)
		}
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

// shortDuration names a chart span briefly: "2.5m", "30m", "3h", "7d", "84h".
func shortDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%.1fh", d.Hours())
	case d%time.Minute != 0:
		return fmt.Sprintf("%.1fm", d.Minutes())
	}
	return fmt.Sprintf("%dm", d/time.Minute)
}
