package plugin

import (
	"context"
	"log/slog"
	"testing"

	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
)

// restoredSamples is the sample count of the console's "chart history
// restored" line, -1 without one.
func (r *records) restoredSamples() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := int64(-1)
	for _, rec := range r.list {
		if rec.Message != "console: chart history restored" {
			continue
		}
		rec.Attrs(func(a slog.Attr) bool {
			if a.Key == "samples" {
				n = a.Value.Int64()
			}
			return true
		})
	}
	return n
}

// TestChartHistoryAcrossRestarts: the charts' samples of one run are in
// the store when it stops and back in the console of the next run on the
// same data directory.
func TestChartHistoryAcrossRestarts(t *testing.T) {
	router, err := i2cptest.NewRouter("127.0.0.1:0", i2cptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()
	dir := t.TempDir()
	for i, want := range []func(int64) bool{
		func(n int64) bool { return n == 0 },
		func(n int64) bool { return n > 0 },
	} {
		logs := &records{}
		p, err := New(newTestHost(t, dir, router), Options{Logger: slog.New(logs)})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := p.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := logs.restoredSamples(); !want(n) {
			t.Fatalf("start %d restored %d chart samples", i+1, n)
		}
	}
}
