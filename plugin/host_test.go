package plugin

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/internal/simclient"
	"github.com/go-i2p/go-opentracker/tracker/udptracker"
)

// testHost is the example Host: the router is the i2cptest simulator over
// loopback TCP, the tracker and console handlers go on test servers.
type testHost struct {
	dir     string
	router  *i2cptest.Router
	mu      sync.Mutex
	tracker http.Handler
	console http.Handler
}

func (h *testHost) DialI2CP(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", h.router.Addr())
}
func (h *testHost) DataDir() string { return h.dir }
func (h *testHost) MountTracker(hd http.Handler) {
	h.mu.Lock()
	h.tracker = hd
	h.mu.Unlock()
}
func (h *testHost) MountConsole(hd http.Handler) {
	h.mu.Lock()
	h.console = hd
	h.mu.Unlock()
}

func (h *testHost) serve(which string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		hd := h.tracker
		if which == "console" {
			hd = h.console
		}
		h.mu.Unlock()
		hd.ServeHTTP(w, r)
	})
}

type env struct {
	t       *testing.T
	host    *testHost
	plugin  *Plugin
	net     *simclient.Network
	http    *httptest.Server
	console *httptest.Server
}

func start(t *testing.T, dir string, router *i2cptest.Router) *env {
	t.Helper()
	h := &testHost{dir: dir, router: router}
	p, err := New(h, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, host: h, plugin: p, http: httptest.NewServer(h.serve("tracker")), console: httptest.NewServer(h.serve("console"))}
	t.Cleanup(func() { e.http.Close(); e.console.Close(); p.Stop(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := router.WaitPublished(ctx, p.Identity().Destination.Hash()); err != nil {
		t.Fatal(err)
	}
	e.net = simclient.NewNetwork(router, p.Identity().Destination, 6969)
	return e
}

func newRouter(t *testing.T) *i2cptest.Router {
	r, err := i2cptest.NewRouter("127.0.0.1:0", i2cptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func ctx5(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestEndToEnd: UDP connect → announce → a second client sees the first →
// stopped → gone; scrape; HTTP announce sees the UDP peers; pages serve.
func TestEndToEnd(t *testing.T) {
	e := start(t, t.TempDir(), newRouter(t))
	ctx := ctx5(t)
	alice, _ := e.net.NewClient(6880, true)
	bob, _ := e.net.NewClient(7000, true)
	for _, c := range []*simclient.Client{alice, bob} {
		if err := c.Connect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	info := [20]byte{0xab}
	if r, err := alice.Announce(ctx, info, udptracker.EventStarted, 100, -1); err != nil || len(r.Peers) != 0 || r.Leechers != 1 || r.Interval != 1620 {
		t.Fatalf("alice: %+v %v", r, err)
	}
	r, err := bob.Announce(ctx, info, udptracker.EventStarted, 0, 50)
	if err != nil || len(r.Peers) != 1 || r.Peers[0] != alice.Hash() || r.Seeders != 1 {
		t.Fatalf("bob: %+v %v", r, err)
	}
	sc, err := bob.Scrape(ctx, info, [20]byte{1})
	if err != nil || sc[0] != (simclient.ScrapeEntry{Seeders: 1, Leechers: 1}) || sc[1] != (simclient.ScrapeEntry{}) {
		t.Fatalf("scrape %+v %v", sc, err)
	}

	// An HTTP client announces with its Base64 Destination and sees both.
	carol, _ := e.net.NewClient(7001, false)
	q := url.Values{"info_hash": {string(info[:])}, "peer_id": {"-HT0001-abcdefghijkl"}, "port": {"6881"},
		"left": {"5"}, "compact": {"1"}, "ip": {carol.Keys.Destination.Base64() + ".i2p"}}
	resp, err := http.Get(e.http.URL + "/a?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "5:peers64:") {
		t.Fatalf("HTTP announce: %q", body)
	}

	// Alice stops: bob no longer sees her.
	if _, err := alice.Announce(ctx, info, udptracker.EventStopped, 100, -1); err != nil {
		t.Fatal(err)
	}
	r, _ = bob.Announce(ctx, info, udptracker.EventNone, 0, 50)
	for _, p := range r.Peers {
		if p == alice.Hash() {
			t.Fatal("stopped peer still listed")
		}
	}
	if r.Leechers != 1 || r.Seeders != 1 {
		t.Fatalf("after stop %+v", r)
	}

	// Public page and console.
	for _, u := range []string{e.http.URL + "/", e.console.URL + "/", e.console.URL + "/metrics", e.console.URL + "/stats?mode=peer"} {
		resp, err := http.Get(u)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", u, err, resp.Status)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.HasSuffix(u, "/metrics") && !strings.Contains(string(b), "opentracker_requests_total{kind=\"announce\",transport=\"udp\"} 4") {
			t.Fatalf("metrics lack the UDP announces:\n%s", b)
		}
		if strings.Contains(u, "mode=peer") && !strings.HasPrefix(string(b), "2\n1\n") {
			t.Fatalf("stats: %q", b)
		}
	}
}

// TestUnknownSenderLookedUp: a client whose Destination the tracker never
// saw (it connected before a restart) gets its announce answered after a
// HostLookup through the router.
func TestUnknownSenderLookedUp(t *testing.T) {
	dir := t.TempDir()
	router := newRouter(t)
	e := start(t, dir, router)
	c, _ := e.net.NewClient(6880, true)
	if err := c.Connect(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	// A client the tracker never heard a Datagram2 from (the network
	// knows its LeaseSet): its Datagram3 carries only a hash, so the
	// error reply waits for a HostLookup through the router.
	ghost, _ := e.net.NewClient(6881, true)
	ghost.ConnID = c.ConnID // another sender's id: refused
	if _, err := ghost.Announce(ctx5(t), [20]byte{1}, 2, 1, -1); !errors.Is(err, simclient.ErrTracker) {
		t.Fatalf("ghost: %v", err)
	}
	if router.Stats().Lookups == 0 {
		t.Fatal("no lookup made for an unknown sender")
	}
}

// TestRestartKeepsEverything: stop and start again on the same data
// directory: same identity, swarms restored, connection ids still valid.
func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	router := newRouter(t)
	e := start(t, dir, router)
	ctx := ctx5(t)
	c, _ := e.net.NewClient(6880, true)
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	info := [20]byte{7}
	if _, err := c.Announce(ctx, info, udptracker.EventCompleted, 0, 0); err != nil {
		t.Fatal(err)
	}
	id := e.plugin.Identity().Destination.Hash()
	if err := e.plugin.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.plugin.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.plugin.Identity().Destination.Hash() != id {
		t.Fatal("identity changed across restart")
	}
	if err := router.WaitPublished(ctx, id); err != nil {
		t.Fatal(err)
	}
	s := e.plugin.Tracker().Scrape(info)
	if s.Seeders != 1 || s.Completed != 1 {
		t.Fatalf("swarm after restart %+v", s)
	}
	// The connection id from before the restart still works.
	r, err := c.Announce(ctx, info, udptracker.EventNone, 0, -1)
	if err != nil || r.Seeders != 1 {
		t.Fatalf("announce with the old connection id: %+v %v", r, err)
	}
}

func TestSettingsPersist(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir, newRouter(t))
	if restart, err := e.plugin.applySetting("interval", "900"); err != nil || restart {
		t.Fatalf("interval: %v %v", restart, err)
	}
	if restart, err := e.plugin.applySetting("connection_lifetime", "600"); err != nil || !restart {
		t.Fatalf("lifetime: %v %v", restart, err)
	}
	if _, err := e.plugin.applySetting("interval", "5"); err == nil {
		t.Fatal("out-of-range interval accepted")
	}
	c, _ := e.net.NewClient(6880, true)
	c.Connect(ctx5(t))
	if r, err := c.Announce(ctx5(t), [20]byte{1}, 2, 1, -1); err != nil || r.Interval != 900 {
		t.Fatalf("live interval: %+v %v", r, err)
	}
	cfg, err := LoadConfig(dir)
	if err != nil || cfg.Interval != 900 || cfg.Lifetime != 600 {
		t.Fatalf("saved config %+v %v", cfg, err)
	}
	st, _ := os.Stat(filepath.Join(dir, ConfigFileName))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v", st.Mode())
	}
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ConfigFileName), []byte("interval: 900\nfull_scrape: true\n"), 0o600)
	cfg, err := LoadConfig(dir)
	if err != nil || cfg.Interval != 900 || !cfg.FullScrape || cfg.TrackerPort != 6969 {
		t.Fatalf("%+v %v", cfg, err)
	}
	os.WriteFile(filepath.Join(dir, ConfigFileName), []byte("intervall: 900\n"), 0o600)
	if _, err := LoadConfig(dir); err == nil {
		t.Fatal("unknown key accepted")
	}
	os.WriteFile(filepath.Join(dir, ConfigFileName), []byte("interval: 5\n"), 0o600)
	if _, err := LoadConfig(dir); err == nil {
		t.Fatal("invalid interval accepted")
	}
}

func envelope(protocol uint8, fromPort, toPort uint16, payload []byte) []byte {
	return i2cp.AppendGzip(nil, i2cp.Header{Protocol: protocol, FromPort: fromPort, ToPort: toPort}, payload)
}
