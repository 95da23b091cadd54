package plugin

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-i2p/go-opentracker/tracker"
)

// TestUnverifiedHTTPChangesNothing: with the default settings an HTTP
// announce over TCP without tunnel headers (any local process) can
// neither remove a peer by naming it in ip (event=stopped) nor add one;
// it is refused and counted, and its Destination is not remembered.
func TestUnverifiedHTTPChangesNothing(t *testing.T) {
	e := start(t, t.TempDir(), newRouter(t))
	tr := e.plugin.Tracker()
	info := [20]byte{0x06}
	victim, _ := e.net.NewClient(7200, true)
	if err := victim.Connect(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := victim.Announce(ctx5(t), info, tracker.EventStarted, 10, -1); err != nil {
		t.Fatal(err)
	}
	fake, _ := e.net.NewClient(7201, false)
	before := httpCounters(e.plugin)
	for _, c := range []struct{ ip, event string }{
		{victim.Keys.Destination.Base64() + ".i2p", "stopped"},
		{fake.Keys.Destination.Base64() + ".i2p", "started"},
	} {
		q := url.Values{"info_hash": {string(info[:])}, "peer_id": {"-XX0001-abcdefghijkl"}, "port": {"1"}, "left": {"0"},
			"compact": {"1"}, "event": {c.event}, "ip": {c.ip}}
		resp, err := http.Get(e.http.URL + "/a?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "failure reason") {
			t.Errorf("event=%s over TCP without tunnel headers answered %q", c.event, body)
		}
	}
	if s := tr.Scrape(info); s.Leechers != 1 || s.Seeders != 0 {
		t.Fatalf("swarm %+v: want the victim alone, as a leecher", s)
	}
	if n := httpCounters(e.plugin)["not_tunneled"] - before["not_tunneled"]; n != 2 {
		t.Fatalf("not_tunneled moved by %d, want 2", n)
	}
	if _, ok := tr.AppendDestination(nil, fake.Hash()); ok {
		t.Fatal("a refused announce's Destination was remembered")
	}
}
