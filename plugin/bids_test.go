package plugin

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestBidsSettingLive: the bids setting turns bids on while the tracker
// runs, and /metrics then reports the bid index.
func TestBidsSettingLive(t *testing.T) {
	e := start(t, t.TempDir(), newRouter(t))
	if e.plugin.Tracker().BidsEnabled() {
		t.Fatal("bids on by default")
	}
	if restart, err := e.plugin.applySetting("bids", "true"); err != nil || restart {
		t.Fatalf("bids: restart %v, err %v", restart, err)
	}
	if !e.plugin.Tracker().BidsEnabled() {
		t.Fatal("the setting did not turn bids on")
	}
	resp, err := http.Get(e.consoleURL + "metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"opentracker_bids 0", `opentracker_bid_events_total{event="refused_too_soon"} 0`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
