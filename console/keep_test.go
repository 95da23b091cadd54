package console

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/store"
)

// openStore opens a Badger store in dir, closed at the test's end if
// the test has not closed it.
func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	s, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sameSample(a, b sample) bool {
	return a.at.Equal(b.at) && a.announces == b.announces && a.peers == b.peers && a.swarms == b.swarms
}

// TestHistorySurvivesARestart: samples a console recorded are back,
// every window of them, in a console started on the same store after
// the first one's Run ended; the time the tracker was down stays a gap
// in the lines, and the announce rate is not invented across it.
func TestHistorySurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	start := time.Unix(1_800_000_000, 0)
	now := start
	f := newFake()
	c1, err := New(f, Options{Keeper: st, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 90 {
		now = start.Add(time.Duration(i) * time.Minute)
		f.status.Totals.Peers = uint64(100 + i)
		f.status.Counters.UDPAnnounces = uint64(60 * i)
		c1.Sample()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c1.Run(ctx) // ends at once, saving as it ends
	want := make([][]sample, len(c1.hist.tiers))
	for i := range want {
		want[i] = c1.hist.ordered(i)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = openStore(t, dir)
	defer st.Close()
	now = now.Add(20 * time.Minute) // down for 20 minutes
	f.status.Counters.UDPAnnounces = 0
	c2, err := New(f, Options{Keeper: st, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range c2.hist.windows() {
		got := c2.hist.ordered(i)
		// The 1h window keeps only the samples still inside its hour.
		keep := slices.DeleteFunc(slices.Clone(want[i]), func(s sample) bool { return now.Sub(s.at) > w.span })
		if len(got) == 0 || !slices.EqualFunc(got, keep, sameSample) {
			t.Fatalf("window %s after the restart: %d samples, want %d", w.name, len(got), len(keep))
		}
	}
	for i := range 3 {
		now = now.Add(time.Minute)
		f.status.Counters.UDPAnnounces = uint64(60 * (i + 1))
		c2.Sample()
	}
	cs := charts(c2.hist.ordered(1), c2.hist.tiers[1].step)
	svg := string(cs[1].svg(now, 6*time.Hour, "6h"))
	if n := strings.Count(svg, "<polyline"); n != 2 {
		t.Fatalf("peers over a restart drawn as %d lines, want 2 with the gap between: %s", n, svg)
	}
	for _, v := range cs[0].values {
		if v != 60 {
			t.Fatalf("announce rates %v, want 60 a minute on both sides of the gap and none across it", cs[0].values)
		}
	}
	rec := httptest.NewRecorder()
	c2.Handler().ServeHTTP(rec, newReq(http.MethodGet, "/?window=6h", nil))
	if n := strings.Count(rec.Body.String(), "<polyline"); n != 6 {
		t.Fatalf("the page draws %d lines for 3 charts over one gap, want 6", n)
	}
}

// TestDamagedHistoryIgnored: records the console cannot read are
// logged, counted and left out; the others load, and the start goes on.
func TestDamagedHistoryIgnored(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	defer st.Close()
	now := time.Unix(1_800_000_000, 0)
	good := newHistory(time.Minute)
	for i := range 10 {
		good.add(sample{at: now.Add(time.Duration(i-10) * time.Minute), peers: uint64(i)})
	}
	valid := good.encode(1)
	outOfOrder := slices.Clone(valid)
	copy(outOfOrder[historyHeader:], valid[historyHeader+sampleLen:historyHeader+2*sampleLen]) // first sample = second's time
	if err := st.SaveHistory(map[string][]byte{
		"1h": {0xff, 1, 2}, "6h": valid, "24h": outOfOrder, "7d": append([]byte{historyVersion + 1}, valid[1:]...),
		"30d": valid, "1h2": valid[:len(valid)-1],
	}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	c, err := New(newFake(), Options{Keeper: st, Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.hist.ordered(1); len(got) != 10 {
		t.Fatalf("the valid record gave %d samples, want 10", len(got))
	}
	for _, i := range []int{0, 2, 3} {
		if got := c.hist.ordered(i); len(got) != 0 {
			t.Fatalf("window %s took %d samples from a damaged record", c.hist.tiers[i].name, len(got))
		}
	}
	if n := c.histBad.Load(); n != 5 {
		t.Fatalf("%d records counted as ignored, want 5", n)
	}
	if n := strings.Count(logs.String(), "chart history record ignored"); n != 5 {
		t.Fatalf("%d warnings logged, want 5:\n%s", n, logs.String())
	}
	if !slices.ContainsFunc(c.Problems(), func(p Problem) bool { return p.Reason == "chart_history_record_ignored" && p.Count == 5 }) {
		t.Fatalf("problems %+v", c.Problems())
	}
}
