package plugin

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-i2p/go-opentracker/tracker/accesslist"
)

// TestAbuseLimitsEndToEnd: over I2CP, a torrent on the deny list is
// refused with its text; a request limit set on the console applies at
// once and its refusals are BEP 15 errors; the refused sender is listed
// in /stats?mode=woodpeckers, and the lists' sizes are on /metrics.
func TestAbuseLimitsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	denied := [20]byte{9}
	if err := os.WriteFile(filepath.Join(dir, accesslist.DeniedTorrentsFile), []byte(hex.EncodeToString(denied[:])+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, dir, newRouter(t))
	c, _ := e.net.NewClient(6880, true)
	if err := c.Connect(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Announce(ctx5(t), denied, 2, 1, -1); err == nil || !strings.Contains(err.Error(), "torrent not allowed") {
		t.Fatalf("denied torrent: %v", err)
	}
	// One of the burst went to the denied announce.
	for _, kv := range [][2]string{{"udp_announces_per_minute", "1"}, {"udp_announce_burst", "3"}} {
		if restart, err := e.plugin.applySetting(kv[0], kv[1]); err != nil || restart {
			t.Fatalf("%s: %v %v", kv[0], restart, err)
		}
	}
	for i := range 3 {
		_, err := c.Announce(ctx5(t), [20]byte{byte(i + 1)}, 2, 1, -1)
		if (err == nil) != (i < 2) {
			t.Fatalf("announce %d: %v", i, err)
		}
		if err != nil && !strings.Contains(err.Error(), "too many requests") {
			t.Fatalf("refusal: %v", err)
		}
	}
	if _, body := get(t, e.consoleURL+"stats?mode=woodpeckers"); !strings.Contains(body, c.Hash().B32()+" total 1 connect 0 announce 1") {
		t.Fatalf("woodpeckers: %q", body)
	}
	if _, body := get(t, e.consoleURL+"metrics"); !strings.Contains(body, `opentracker_access_list_entries{list="denied_torrents"} 1`) ||
		!strings.Contains(body, `reason="announce",where="rate_limit"} 1`) {
		t.Fatal("metrics lack the access lists or the refusal")
	}
	if _, err := e.plugin.applySetting("udp_announce_burst", "0"); err == nil {
		t.Fatal("a burst of 0 accepted")
	}
	cfg, err := LoadConfig(dir)
	if err != nil || cfg.UDPAnnouncesPerMinute != 1 || cfg.UDPAnnounceBurst != 3 || cfg.DestinationCache != 100_000 {
		t.Fatalf("saved config %+v %v", cfg, err)
	}
}
