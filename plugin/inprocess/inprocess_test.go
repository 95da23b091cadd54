package inprocess

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/internal/simclient"
	"github.com/go-i2p/go-opentracker/plugin"
	"github.com/go-i2p/go-opentracker/tracker"
)

// router is what a go-i2p build supplies: an I2CP server in the same
// process (the simulator, serving net.Pipe ends), its console mux and
// the mux its HTTP server tunnel points at.
type router struct {
	i2cp               *i2cptest.Router
	console, tracker   *http.ServeMux
	consoleS, trackerS *httptest.Server
}

func newRouter(t testing.TB, sim *i2cptest.Router) *router {
	r := &router{i2cp: sim, console: http.NewServeMux(), tracker: http.NewServeMux()}
	r.consoleS, r.trackerS = httptest.NewServer(r.console), httptest.NewServer(r.tracker)
	t.Cleanup(func() { r.consoleS.Close(); r.trackerS.Close() })
	return r
}

func (r *router) host(t testing.TB, dir string) *Host {
	h, err := New(Config{
		DataDir: dir, ServeI2CP: r.i2cp.ServeConn, HandleConsole: r.console.Handle,
		MountTracker: func(hd http.Handler) { r.tracker.Handle("/", hd) },
		Options:      plugin.Options{Logger: slog.New(slog.DiscardHandler)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// toggle posts the console's form as a browser on the console's own
// origin does.
func (r *router) toggle(t testing.TB, value string) {
	req, _ := http.NewRequest("POST", r.consoleS.URL+"/opentracker/toggle", strings.NewReader("enabled="+value))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := r.consoleS.Client().Transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || strings.Contains(resp.Header.Get("Location"), "error") {
		t.Fatalf("toggle %s: %s %s", value, resp.Status, resp.Header.Get("Location"))
	}
}

func (r *router) get(t testing.TB, path string) (int, string) {
	resp, err := http.Get(r.consoleS.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// announce serves one UDP announce (BEP 15 over the simulator's
// datagrams) and one HTTP announce, and returns how many peers the
// UDP client was given.
func (r *router) announce(t testing.TB, h *Host, port uint16) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dest := h.Plugin().Identity().Destination
	if err := r.i2cp.WaitPublished(ctx, dest.Hash()); err != nil {
		t.Fatal(err)
	}
	c, err := simclient.NewNetwork(r.i2cp, dest, 6969).NewClient(port, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	info := [20]byte{0x18}
	res, err := c.Announce(ctx, info, tracker.EventStarted, 1, 50)
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"info_hash": {string(info[:])}, "peer_id": {"-IP0001-abcdefghijkl"}, "port": {"6881"},
		"left": {"0"}, "compact": {"1"}, "ip": {c.Keys.Destination.Base64() + ".i2p"}}
	// As the router's HTTP server tunnel passes it on.
	req, err := http.NewRequest(http.MethodGet, r.trackerS.URL+"/a?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-I2P-DestB64", c.Keys.Destination.Base64())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "5:peers") {
		t.Fatalf("HTTP announce: %s %q", resp.Status, body)
	}
	return len(res.Peers)
}

// TestToggleAndRestart: off at first; on from the console → a UDP and an
// HTTP announce; off → the console shows the toggle, the state file says
// false; on again → the swarm is still there; router shutdown and a new
// router on the same data directory → Resume turns it back on.
func TestToggleAndRestart(t *testing.T) {
	dir := t.TempDir()
	sim := i2cptest.NewInProcess(i2cptest.Options{})
	t.Cleanup(func() { sim.Close() })
	r := newRouter(t, sim)
	h := r.host(t, dir)
	if err := h.Resume(context.Background()); err != nil || h.Enabled() {
		t.Fatalf("fresh data directory: enabled %v, %v", h.Enabled(), err)
	}
	if code, body := r.get(t, "/opentracker/"); code != 200 || !strings.Contains(body, `value="on"`) {
		t.Fatalf("console while off: %d %q", code, body)
	}

	r.toggle(t, "on")
	if n := r.announce(t, h, 7000); n != 0 {
		t.Fatalf("first announce got %d peers", n)
	}
	if code, body := r.get(t, "/opentracker/"); code != 200 || strings.Contains(body, `name="enabled"`) {
		t.Fatalf("console while on is not the tracker's: %d", code)
	}

	r.toggle(t, "off")
	if b, _ := os.ReadFile(filepath.Join(dir, enabledFile)); string(b) != "false\n" || h.Enabled() {
		t.Fatalf("after off: file %q, enabled %v", b, h.Enabled())
	}
	if code, _ := r.get(t, "/opentracker/metrics"); code != http.StatusServiceUnavailable {
		t.Fatalf("console page while off: %d", code)
	}

	r.toggle(t, "on")
	if n := r.announce(t, h, 7001); n == 0 {
		t.Fatal("second start lost the swarm")
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	r2 := newRouter(t, sim)
	h2 := r2.host(t, dir)
	if err := h2.Resume(context.Background()); err != nil || !h2.Enabled() {
		t.Fatalf("resume after restart: enabled %v, %v", h2.Enabled(), err)
	}
	r2.announce(t, h2, 7002)
	if err := h2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestToggleCrossSite: a form posted from another site changes nothing.
func TestToggleCrossSite(t *testing.T) {
	sim := i2cptest.NewInProcess(i2cptest.Options{})
	t.Cleanup(func() { sim.Close() })
	r := newRouter(t, sim)
	h := r.host(t, t.TempDir())
	req, _ := http.NewRequest("POST", r.consoleS.URL+"/opentracker/toggle", strings.NewReader("enabled=on"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || h.Enabled() {
		t.Fatalf("cross-site toggle: %s, enabled %v", resp.Status, h.Enabled())
	}
}
