package plugin

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	opentracker "github.com/go-i2p/go-opentracker"
	"github.com/go-i2p/go-opentracker/console"
	"github.com/go-i2p/go-opentracker/httpserver"
	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/simclient"
	"github.com/go-i2p/go-opentracker/internal/testvectors"
	"github.com/go-i2p/go-opentracker/tracker"
)

// testHost is a router's Host, in the shape of Example_router:
// the router is the i2cptest simulator, reached over loopback TCP (the
// simulator accepts TCP connections as a router's I2CP port does); the
// console is mounted on the router console's http.ServeMux under the
// manifest's consoleLinkURL, and the tracker handler on the mux that the
// HTTP server tunnel's target serves. A ServeMux panics on a second
// registration of a pattern, so every Stop/Start cycle in these tests
// also checks that the plugin mounts once.
type testHost struct {
	dir         string
	router      *i2cptest.Router
	consolePath string         // the manifest's consoleLinkURL
	consoleMux  *http.ServeMux // the router's console
	trackerMux  *http.ServeMux // what the HTTP server tunnel points at
}

func newTestHost(t *testing.T, dir string, router *i2cptest.Router) *testHost {
	t.Helper()
	m, err := opentracker.LoadManifest()
	if err != nil {
		t.Fatal(err)
	}
	return &testHost{dir: dir, router: router, consolePath: m.ConsoleLinkURL, consoleMux: http.NewServeMux(), trackerMux: http.NewServeMux()}
}

func (h *testHost) DialI2CP(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", h.router.Addr())
}
func (h *testHost) DataDir() string              { return h.dir }
func (h *testHost) MountTracker(hd http.Handler) { h.trackerMux.Handle("/", hd) }
func (h *testHost) MountConsole(hd http.Handler) {
	h.consoleMux.Handle(h.consolePath, http.StripPrefix(strings.TrimSuffix(h.consolePath, "/"), hd))
}

type env struct {
	t       *testing.T
	host    *testHost
	plugin  *Plugin
	net     *simclient.Network
	http    *httptest.Server // the tracker's HTTP listener
	console *httptest.Server // the router's console
	// consoleURL is the console's page: console.URL + consoleLinkURL.
	consoleURL string
}

func start(t *testing.T, dir string, router *i2cptest.Router) *env {
	t.Helper()
	h := newTestHost(t, dir, router)
	p, err := New(h, Options{Logger: slog.New(slog.DiscardHandler), HTTPListener: "127.0.0.1:7662"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, host: h, plugin: p, http: httptest.NewServer(h.trackerMux), console: httptest.NewServer(h.consoleMux)}
	e.consoleURL = e.console.URL + h.consolePath
	t.Cleanup(func() { e.http.Close(); e.console.Close(); p.Stop(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := router.WaitPublished(ctx, p.Identity().Destination.Hash()); err != nil {
		t.Fatal(err)
	}
	e.net = simclient.NewNetwork(router, p.Identity().Destination, 6969)
	return e
}

// get fetches u and returns its status and body.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
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
	if r, err := alice.Announce(ctx, info, tracker.EventStarted, 100, -1); err != nil || len(r.Peers) != 0 || r.Leechers != 1 || r.Interval != 1620 {
		t.Fatalf("alice: %+v %v", r, err)
	}
	r, err := bob.Announce(ctx, info, tracker.EventStarted, 0, 50)
	if err != nil || len(r.Peers) != 1 || r.Peers[0] != alice.Hash() || r.Seeders != 1 {
		t.Fatalf("bob: %+v %v", r, err)
	}
	sc, err := bob.Scrape(ctx, info, [20]byte{1})
	if err != nil || sc[0] != (simclient.ScrapeEntry{Seeders: 1, Leechers: 1}) || sc[1] != (simclient.ScrapeEntry{}) {
		t.Fatalf("scrape %+v %v", sc, err)
	}

	// An HTTP client announces over I2P streaming to the tracker's own
	// address, its Base64 Destination in ip, and sees both.
	carol := newStreamClient(t, e.host.router, i2p.SigEd25519)
	me := e.plugin.Identity().Destination
	leeching := strings.Replace(libtorrentAnnounce("/a", info, carol.keys.Destination.Base64()+".i2p", me.B32()), "&left=0&", "&left=5&", 1)
	_, body := carol.get(t, me, leeching)
	if !strings.Contains(string(body), "5:peers64:") {
		t.Fatalf("HTTP announce: %q", body)
	}

	// Alice stops: bob no longer sees her.
	if _, err := alice.Announce(ctx, info, tracker.EventStopped, 100, -1); err != nil {
		t.Fatal(err)
	}
	r, _ = bob.Announce(ctx, info, tracker.EventNone, 0, 50)
	for _, p := range r.Peers {
		if p == alice.Hash() {
			t.Fatal("stopped peer still listed")
		}
	}
	if r.Leechers != 1 || r.Seeders != 1 {
		t.Fatalf("after stop %+v", r)
	}

	checkPages(t, e)
}

// checkPages fetches the public page and the console's pages after
// TestEndToEnd's announces (four over UDP, two peers left).
func checkPages(t *testing.T, e *env) {
	t.Helper()
	for _, u := range []string{e.http.URL + "/", e.consoleURL, e.consoleURL + "metrics", e.consoleURL + "stats?mode=peer"} {
		resp, err := http.Get(u)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", u, err, resp.Status)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if missing := lacks(string(b), "opentracker_requests_total{kind=\"announce\",transport=\"udp\"} 4\n",
			"\nopentracker_store_journal_paused 0\n"); strings.HasSuffix(u, "/metrics") && missing != "" {
			t.Fatalf("metrics lack %q:\n%s", missing, b)
		}
		if strings.Contains(u, "mode=peer") && !strings.HasPrefix(string(b), "2\n1\n") {
			t.Fatalf("stats: %q", b)
		}
	}
}

// TestUnknownSenderLookedUp: a client whose Destination the tracker never
// saw (it connected before a restart) gets its announce answered after a
// HostLookup through the router.
// lacks is the first of lines that text does not hold, or "".
func lacks(text string, lines ...string) string {
	for _, l := range lines {
		if !strings.Contains(text, l) {
			return l
		}
	}
	return ""
}

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
	if _, err := c.Announce(ctx, info, tracker.EventCompleted, 0, 0); err != nil {
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
	r, err := c.Announce(ctx, info, tracker.EventNone, 0, -1)
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
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, ConfigFileName), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("interval: 900\nfull_scrape: true\nhttp_address: Tracker2.I2P\n")
	cfg, err := LoadConfig(dir)
	if err != nil || cfg.Interval != 900 || !cfg.FullScrape || cfg.TrackerPort != 6969 || cfg.TunnelAnnounceURL() != "http://tracker2.i2p/announce" {
		t.Fatalf("%+v %v", cfg, err)
	}
	write("")
	if cfg, err := LoadConfig(dir); err != nil || cfg != DefaultConfig() {
		t.Fatalf("empty file: %+v %v", cfg, err)
	}
	for _, bad := range []string{"intervall: 900\n", "interval: 5\n", "interval: [\n", "interval: soon\n", "http_address: http://x.i2p/a\n"} {
		write(bad)
		if _, err := LoadConfig(dir); !errors.Is(err, ErrConfig) {
			t.Errorf("%q: %v, want an ErrConfig", bad, err)
		}
	}
}

func TestHTTPAddressValues(t *testing.T) {
	b32 := strings.Repeat("a", 52) + ".b32.i2p"
	for addr, ok := range map[string]bool{
		"": true, b32: true, strings.ToUpper(b32): true, strings.Repeat("b", 56) + ".b32.i2p": true,
		"tracker.i2p": true, "my-tracker.postman.i2p": true, "x1.i2p": true,
		strings.Repeat("a", 51) + ".b32.i2p": false, strings.Repeat("1", 52) + ".b32.i2p": false, ".i2p": false, "i2p": false,
		"tracker.example.com": false, "http://tracker.i2p/": false, "tracker.i2p:80": false, "-x.i2p": false, "a..b.i2p": false,
		"tracker.i2p/a": false, strings.Repeat("a", 64) + ".i2p": false,
	} {
		if err := checkHTTPAddress(addr); (err == nil) != ok {
			t.Errorf("%q: %v, want ok=%v", addr, err, ok)
		}
	}
}

// TestHTTPAnnounceURL: with no setting the HTTP announce URL is on the
// tracker's own address, path /announce (clients derive scrape from it),
// on the console and the help page; once http_address names an HTTP
// server tunnel its URL is shown beside it, at once, and persists.
func TestHTTPAnnounceURL(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir, newRouter(t))
	b32 := e.plugin.Identity().Destination.B32()
	own := "http://" + b32 + "/announce"
	if udp, http, tunnel := e.plugin.URLs(); udp != "udp://"+b32+":6969/" || http != own || tunnel != "" {
		t.Fatalf("URLs %q %q %q", udp, http, tunnel)
	}
	if _, page := get(t, e.http.URL+"/"); !strings.Contains(page, `id="http-url">`+own+"<") || !strings.Contains(page, "udp://"+b32) ||
		strings.Contains(page, "tunnel-url") || !strings.Contains(page, "<code>/a</code>") {
		t.Fatalf("help page without http_address:\n%s", page)
	}
	if _, page := get(t, e.consoleURL); !strings.Contains(page, `id="http-url">`+own+"<") || strings.Contains(page, `id="tunnel-url"`) ||
		!strings.Contains(page, "<code>/a</code>") {
		t.Fatal("console does not show the HTTP URL on the tracker's address, or shows a tunnel URL without http_address")
	}

	if _, err := e.plugin.applySetting("http_address", "http://x.i2p/a"); err == nil {
		t.Fatal("a URL accepted as http_address")
	}
	tunnel := strings.Repeat("q", 52) + ".b32.i2p"
	if restart, err := e.plugin.applySetting("http_address", strings.ToUpper(tunnel)); err != nil || restart {
		t.Fatalf("http_address: %v %v", restart, err)
	}
	want := "http://" + tunnel + "/announce"
	if _, http, got := e.plugin.URLs(); got != want || http != own {
		t.Fatalf("HTTP URLs %q %q, want %q %q", http, got, own, want)
	}
	if _, page := get(t, e.http.URL+"/"); !strings.Contains(page, `id="tunnel-url">`+want+"<") || !strings.Contains(page, `id="http-url">`+own+"<") {
		t.Fatal("help page does not show both HTTP URLs")
	}
	if _, page := get(t, e.consoleURL); !strings.Contains(page, `id="tunnel-url">`+want+"<") || !strings.Contains(page, `id="http-url">`+own+"<") ||
		!strings.Contains(page, "127.0.0.1:7662") {
		t.Fatal("console does not show both HTTP URLs")
	}
	if cfg, err := LoadConfig(dir); err != nil || cfg.HTTPAddress != tunnel {
		t.Fatalf("saved %+v %v", cfg, err)
	}
}

// TestStopStartWithMux: the handlers are mounted once on real ServeMuxes
// (a second registration would panic) and serve across two Stop/Start
// cycles: 503 with a short text while stopped, the running tracker
// after; identity and swarms carry over; Tracker and Session are nil
// while stopped.
func TestStopStartWithMux(t *testing.T) {
	router := newRouter(t)
	e := start(t, t.TempDir(), router)
	ctx := ctx5(t)
	c, _ := e.net.NewClient(6880, true)
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	info := [20]byte{0x5a}
	if _, err := c.Announce(ctx, info, tracker.EventStarted, 0, -1); err != nil {
		t.Fatal(err)
	}
	id := e.plugin.Identity().Destination.Hash()
	for cycle := 1; cycle <= 2; cycle++ {
		if err := e.plugin.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if e.plugin.Tracker() != nil || e.plugin.Session() != nil {
			t.Fatalf("cycle %d: Tracker or Session not nil after Stop", cycle)
		}
		for _, u := range []string{e.http.URL + "/", e.http.URL + "/a?info_hash=x", e.consoleURL, e.consoleURL + "api/status"} {
			if code, body := get(t, u); code != http.StatusServiceUnavailable || !strings.Contains(body, "stopped") {
				t.Fatalf("cycle %d: %s while stopped: %d %q", cycle, u, code, body)
			}
		}
		var req httpserver.Request
		if _, err := httpserver.ParseRequest([]byte("GET /a HTTP/1.0\r\n\r\n"), &req); err != nil {
			t.Fatal(err)
		}
		if code, body, handled := (trackerRoutes{e.plugin}).Respond(nil, &req); code != http.StatusServiceUnavailable || !handled ||
			!strings.Contains(string(body), "stopped") {
			t.Fatalf("cycle %d: fast path while stopped: %d %q %v", cycle, code, body, handled)
		}
		if err := e.plugin.Start(context.Background()); err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
		if e.plugin.Identity().Destination.Hash() != id {
			t.Fatalf("cycle %d: identity changed", cycle)
		}
		if err := router.WaitPublished(ctx5(t), id); err != nil {
			t.Fatal(err)
		}
		if s := e.plugin.Tracker().Scrape(info); s.Seeders != 1 {
			t.Fatalf("cycle %d: swarm %+v", cycle, s)
		}
		if code, page := get(t, e.consoleURL+"?page=1"); code != 200 || !strings.Contains(page, hex.EncodeToString(info[:])) {
			t.Fatalf("cycle %d: console %d does not list the swarm", cycle, code)
		}
		if code, page := get(t, e.http.URL+"/"); code != 200 || !strings.Contains(page, `id="peers">1<`) {
			t.Fatalf("cycle %d: help page %d:\n%s", cycle, code, page)
		}
		if r, err := c.Announce(ctx5(t), info, tracker.EventNone, 0, -1); err != nil || r.Seeders != 1 {
			t.Fatalf("cycle %d: announce %+v %v", cycle, r, err)
		}
	}
}

// TestInterruptedStop: a Stop whose context has ended returns its error
// at once, but the store is still flushed and closed once the run winds
// down, and the next Start waits for that instead of failing on the
// store's lock.
func TestInterruptedStop(t *testing.T) {
	router := newRouter(t)
	e := start(t, t.TempDir(), router)
	c, _ := e.net.NewClient(6880, true)
	if err := c.Connect(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	info := [20]byte{0x17}
	if _, err := c.Announce(ctx5(t), info, tracker.EventCompleted, 0, -1); err != nil {
		t.Fatal(err)
	}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.plugin.Stop(ended); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop with an ended context: %v", err)
	}
	if e.plugin.Tracker() != nil || e.plugin.Session() != nil {
		t.Fatal("Tracker or Session not nil after Stop")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.plugin.Start(ctx); err != nil {
		t.Fatalf("Start after an interrupted Stop: %v", err)
	}
	if s := e.plugin.Tracker().Scrape(info); s.Seeders != 1 || s.Completed != 1 {
		t.Fatalf("swarm after the interrupted stop %+v", s)
	}
	if err := router.WaitPublished(ctx, e.plugin.Identity().Destination.Hash()); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Announce(ctx, info, tracker.EventNone, 0, -1); err != nil || r.Seeders != 1 {
		t.Fatalf("announce after the interrupted stop: %+v %v", r, err)
	}
	// Interrupted again, then a second Stop with time to spare: it waits
	// for the store to close and says how that went.
	if err := e.plugin.Stop(ended); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop with an ended context: %v", err)
	}
	if err := e.plugin.Stop(ctx5(t)); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

// TestGate: the store's close waits for the announces inside the run,
// and turns later ones away.
func TestGate(t *testing.T) {
	var g gate
	if !g.enter() {
		t.Fatal("a new gate turns an announce away")
	}
	closed := make(chan struct{})
	go func() { g.close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("the close did not wait for the announce inside")
	case <-time.After(50 * time.Millisecond):
	}
	g.leave()
	<-closed
	if g.enter() {
		t.Fatal("an announce entered after the close")
	}
}

// TestRestartNotice: a saved setting that needs a restart shows on the
// console as saved-versus-running on every view and in the JSON status,
// until a restart puts it in force (or it is set back).
func TestRestartNotice(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir, newRouter(t))
	const notice = "UDP connection lifetime (s): saved 600, running 1200 — takes effect after a restart"
	restartList := func() []console.PendingRestart {
		t.Helper()
		_, body := get(t, e.consoleURL+"api/status")
		var st struct{ Restart []console.PendingRestart }
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatal(err)
		}
		return st.Restart
	}
	if restart, err := e.plugin.applySetting("connection_lifetime", "600"); err != nil || !restart {
		t.Fatalf("lifetime: %v %v", restart, err)
	}
	if e.plugin.Config().Lifetime != 1200 {
		t.Fatal("a restart setting changed the running config")
	}
	for range 2 {
		if _, page := get(t, e.consoleURL); !strings.Contains(page, notice) {
			t.Fatal("console does not show the pending restart")
		}
	}
	if r := restartList(); len(r) != 1 || r[0] != (console.PendingRestart{Key: "connection_lifetime", Label: "UDP connection lifetime (s)", Saved: "600", Running: "1200"}) {
		t.Fatalf("JSON restart list %+v", r)
	}
	// Set back: nothing waits.
	if restart, err := e.plugin.applySetting("connection_lifetime", "1200"); err != nil || restart {
		t.Fatalf("lifetime back: %v %v", restart, err)
	}
	if _, page := get(t, e.consoleURL); strings.Contains(page, "restart-notice") || len(restartList()) != 0 {
		t.Fatal("notice shown for a setting set back")
	}
	// Saved again, then a restart: in force, no notice.
	e.plugin.applySetting("connection_lifetime", "600")
	if err := e.plugin.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.plugin.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.plugin.Config().Lifetime != 600 {
		t.Fatalf("lifetime after restart %d", e.plugin.Config().Lifetime)
	}
	if _, page := get(t, e.consoleURL); strings.Contains(page, "restart-notice") || len(restartList()) != 0 {
		t.Fatal("notice shown after the restart")
	}
}

// TestZzzotKeyFile: a Java-style key file (what zzzot and i2ptunnel
// write: Ed25519 signing, a crypto-type-0 ElGamal field) placed as
// DIR/eepPriv.dat is the tracker's identity: the reference vector's b32,
// published under that hash, and the file kept byte for byte.
func TestZzzotKeyFile(t *testing.T) {
	v := testvectors.Must(t)
	id, ok := v.Destinations["javastyle_ed25519_elgamal0"]
	if !ok {
		t.Fatal("vector javastyle_ed25519_elgamal0 missing")
	}
	keyFile := testvectors.Hex(id.PrivateKeyFile)
	dir := t.TempDir()
	path := filepath.Join(dir, KeyFileName)
	if err := os.WriteFile(path, keyFile, 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, dir, newRouter(t)) // waits until published under the identity's hash
	if got := e.plugin.Identity().Destination.B32(); got != id.B32 {
		t.Fatalf("identity %s, want the vector's %s", got, id.B32)
	}
	if udp, http, _ := e.plugin.URLs(); udp != "udp://"+id.B32+":6969/" || http != "http://"+id.B32+"/announce" {
		t.Fatalf("URLs %s %s", udp, http)
	}
	if err := e.plugin.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, keyFile) {
		t.Fatalf("key file changed: %v", err)
	}
}

func envelope(protocol uint8, fromPort, toPort uint16, payload []byte) []byte {
	return i2cp.AppendGzip(nil, i2cp.Header{Protocol: protocol, FromPort: fromPort, ToPort: toPort}, payload)
}

// TestI2CPCredentials: a router whose I2CP asks for credentials gets the
// ones in the config file, and the tracker publishes.
func TestI2CPCredentials(t *testing.T) {
	router, err := i2cptest.NewRouter("127.0.0.1:0", i2cptest.Options{Username: "tracker", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { router.Close() })
	dir := t.TempDir()
	cfg := "i2cp_username: tracker\ni2cp_password: s3cret\n"
	if err := os.WriteFile(filepath.Join(dir, ConfigFileName), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, dir, router) // waits until the tracker's LeaseSet is published
}

// TestHostConfig: a host's configuration starts a tracker whose data
// directory has none and becomes its config file; after that the file
// (which the console edits) wins over what the host passes.
func TestHostConfig(t *testing.T) {
	router := newRouter(t)
	dir := t.TempDir()
	run := func(cfg Config) (*Plugin, error) {
		t.Helper()
		p, err := New(newTestHost(t, dir, router), Options{Logger: slog.New(slog.DiscardHandler), Config: &cfg})
		if err != nil {
			t.Fatal(err)
		}
		return p, p.Start(ctx5(t))
	}
	bad := DefaultConfig()
	bad.Interval = 5
	if _, err := run(bad); !errors.Is(err, ErrConfig) {
		t.Fatalf("an invalid host configuration: %v, want ErrConfig", err)
	}
	first := DefaultConfig()
	first.Interval, first.MaxPeers = 900, 30
	p, err := run(first)
	if err != nil {
		t.Fatal(err)
	}
	if c := p.Config(); c.Interval != 900 || c.MaxPeers != 30 || p.Tracker().Config().Interval != 900*time.Second {
		t.Fatalf("started with %+v", c)
	}
	if err := p.Stop(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	later := DefaultConfig()
	later.Interval = 600
	p, err = run(later)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(context.Background())
	if c := p.Config(); c.Interval != 900 {
		t.Fatalf("the host's configuration replaced the file: interval %d", c.Interval)
	}
}
