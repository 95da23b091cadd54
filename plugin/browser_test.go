package plugin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/go-i2p/go-opentracker/internal/simclient"
	"github.com/go-i2p/go-opentracker/tracker"
)

// chromium finds the Debian browser; CI requires it.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("GO_OPENTRACKER_REQUIRE_BROWSER") != "" {
		t.Fatal("chromium is not installed (apt-get install chromium)")
	}
	t.Skip("no chromium")
	return ""
}

// shownTotals are the totals a page shows.
type shownTotals struct {
	Peers  uint64 `json:"peers"`
	Swarms uint64 `json:"swarms"`
	Seeds  uint64 `json:"seeds"`
	// Refreshed is set once the console's script has refreshed the page.
	Refreshed string `json:"refreshed"`
}

// TestConsoleInBrowser drives the console in headless Chromium while
// simulated clients announce continuously in the background (the demo's
// traffic: clients join and complete, none stops, so the tracker's peers,
// swarms and seeds only grow). Each time the page is read, the tracker's
// totals are read just before and just after, and the page must show
// values between them. The page refreshes itself to new totals; settings
// changed through the form apply; the public page shows the announce
// URLs, HTTP only once http_address is set through the form.
func TestConsoleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	exe := chromium(t)
	e := start(t, t.TempDir(), newRouter(t))
	startTraffic(t, e)
	pg := &consolePage{t: t, e: e, ctx: newBrowser(t, exe)}

	// The page shows what the tracker holds.
	initial := e.plugin.Tracker().Totals()
	pg.floor = &initial
	first := pg.within("console", false, chromedp.Navigate(e.consoleURL), chromedp.WaitVisible(chromedp.CSS("#total-peers")))
	if first.Peers == 0 {
		t.Fatal("console shows no peers")
	}
	if !pg.exists("#http-url") || pg.exists("#tunnel-url") {
		t.Fatal("console lacks the HTTP URL on the tracker's address, or offers a tunnel URL before http_address is set")
	}
	if pg.exists("#demo-hint") {
		t.Fatal("the console explains a demo that is not one")
	}
	pg.waitRefreshed(first)
	pg.checkIntervalSetting()
	pg.checkNoticeGoesOnRefresh()

	// The public page: UDP and HTTP on the tracker's own address, no
	// tunnel URL while http_address is unset.
	pg.within("public page", true, chromedp.Navigate(e.http.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#peers")))
	wantUDP, ownHTTP, _ := e.plugin.URLs()
	if got := pg.text("#udp-url"); got != wantUDP {
		t.Fatalf("public page shows UDP %q, want %q", got, wantUDP)
	}
	if got := pg.text("#http-url"); got != ownHTTP || pg.exists("#tunnel-url") {
		t.Fatalf("public page shows HTTP %q, want %q and no tunnel URL", got, ownHTTP)
	}

	// Set the HTTP server tunnel's address through the form: the console
	// and the public page show the HTTP announce URL on it.
	tunnel := strings.Repeat("t", 52) + ".b32.i2p"
	wantHTTP := "http://" + tunnel + "/announce"
	if flash := pg.submit("http_address", tunnel); !strings.Contains(flash, "Saved") {
		t.Fatalf("http_address not saved: %q", flash)
	}
	if got := pg.text("#tunnel-url"); got != wantHTTP || pg.text("#http-url") != ownHTTP {
		t.Fatalf("console shows HTTP %q, want %q", got, wantHTTP)
	}
	pg.within("console after the changes", false)

	checkNoticeAndWindows(t, pg.ctx)

	// Every card, table and URL fits a phone's width and a desktop's.
	shots := screenshotDir(t)
	checkLayout(t, pg.ctx, shots, "console", e.consoleURL, "#total-peers")
	checkLayout(t, pg.ctx, shots, "public", e.http.URL+"/", "#peers")
	checkSettingsAligned(t, pg.ctx, e.consoleURL, 1400)
	if err := chromedp.Do(pg.ctx, chromedp.EmulateViewport(1280, 1600)); err != nil {
		t.Fatal(err)
	}
	pg.within("public page with http_address", true, chromedp.Navigate(e.http.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#peers")))
	if got := pg.text("#tunnel-url"); got != wantHTTP {
		t.Fatalf("public page shows HTTP %q, want %q", got, wantHTTP)
	}
	if got := pg.text("#udp-url"); got != wantUDP {
		t.Fatalf("public page shows UDP %q, want %q", got, wantUDP)
	}
}

// startTraffic runs the demo's simulated clients against e until the test
// ends, and waits until they hold 10 peers in 2 swarms.
func startTraffic(t *testing.T, e *env) {
	t.Helper()
	trafficCtx, stopTraffic := context.WithCancel(context.Background())
	trafficDone := make(chan error, 1)
	go func() {
		trafficDone <- e.net.RunTraffic(trafficCtx, simclient.Traffic{Clients: 1 << 20, Every: 10 * time.Millisecond,
			HTTPAddr: e.http.Listener.Addr().String(), Seed: 7})
	}()
	t.Cleanup(func() { stopTraffic(); <-trafficDone }) // before the plugin stops
	deadline := time.Now().Add(30 * time.Second)
	for tot := e.plugin.Tracker().Totals(); tot.Peers < 10 || tot.Swarms < 2; tot = e.plugin.Tracker().Totals() {
		if time.Now().After(deadline) {
			t.Fatalf("simulated traffic did not arrive: %+v", tot)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// newBrowser starts headless Chromium at exe for the test and returns its
// context, bounded to 150 s.
func newBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.Flag("headless", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1600),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(cancelB)
	bctx, cancelT := context.WithTimeout(bctx, 150*time.Second)
	t.Cleanup(cancelT)
	return bctx
}

// consolePage reads the console and the public page in a browser and
// holds them against the tracker of e.
type consolePage struct {
	t   *testing.T
	e   *env
	ctx context.Context
	// floor is the lower bound of what a page read without loading it
	// may show: the totals when it was first loaded.
	floor *tracker.Totals
}

// within runs actions that load a page and reads the totals it shows
// (ids are the console's or, with public, the help page's); the tracker's
// totals read just before and just after must bracket them. Without
// actions it reads the page as it is, rendered at some time since floor:
// then floor's totals are the lower bound.
func (pg *consolePage) within(what string, public bool, actions ...chromedp.Action[chromedp.Void]) shownTotals {
	t := pg.t
	t.Helper()
	peers, swarms, seeds := "total-peers", "total-swarms", "total-seeds"
	if public {
		peers, swarms, seeds = "peers", "swarms", "seeds"
	}
	js := fmt.Sprintf(`({peers: +document.getElementById(%q).textContent, swarms: +document.getElementById(%q).textContent,
			seeds: +document.getElementById(%q).textContent, refreshed: document.body.dataset.refreshed || ""})`, peers, swarms, seeds)
	before := pg.e.plugin.Tracker().Totals()
	if err := chromedp.Do(pg.ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	shown, err := chromedp.Run(pg.ctx, chromedp.Evaluate[shownTotals](js))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	after := pg.e.plugin.Tracker().Totals()
	if len(actions) == 0 {
		before = *pg.floor
	}
	for _, c := range []struct {
		name                 string
		before, shown, after uint64
	}{{"peers", before.Peers, shown.Peers, after.Peers}, {"swarms", before.Swarms, shown.Swarms, after.Swarms},
		{"seeds", before.Seeds, shown.Seeds, after.Seeds}} {
		if c.shown < c.before || c.shown > c.after {
			t.Fatalf("%s shows %d %s; the tracker had %d before and %d just after", what, c.shown, c.name, c.before, c.after)
		}
	}
	return shown
}

// waitRefreshed: traffic keeps coming, so the page refreshes itself
// (JavaScript) to larger totals than first, and each reading stays within
// the tracker's since the page was first loaded.
func (pg *consolePage) waitRefreshed(first shownTotals) {
	pg.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		now := pg.within("refreshed console", false)
		if now.Refreshed != "" && now.Peers > first.Peers {
			return
		}
		if time.Now().After(deadline) {
			pg.t.Fatalf("console did not refresh past %d peers (shows %+v)", first.Peers, now)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// checkIntervalSetting changes the interval through the form: it applies
// to announces at once.
func (pg *consolePage) checkIntervalSetting() {
	t := pg.t
	t.Helper()
	if flash := pg.submit("interval", "900"); !strings.Contains(flash, "Saved") || pg.e.plugin.Config().Interval != 900 {
		t.Fatalf("setting not applied: flash %q, interval %d", flash, pg.e.plugin.Config().Interval)
	}
	c, err := pg.e.net.NewClient(6000, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Announce(ctx5(t), [20]byte{0xbe}, tracker.EventStarted, 1, -1); err != nil || r.Interval != 900 {
		t.Fatalf("announce after the change: %+v %v", r, err)
	}
}

// text returns the trimmed text of the element sel.
func (pg *consolePage) text(sel string) string {
	pg.t.Helper()
	s, err := chromedp.Run(pg.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		pg.t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// exists says whether the page has an element sel.
func (pg *consolePage) exists(sel string) bool {
	pg.t.Helper()
	ok, err := chromedp.Run(pg.ctx, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", sel)))
	if err != nil {
		pg.t.Fatal(err)
	}
	return ok
}

// submit changes one setting through the form on a freshly loaded
// console and returns the message the page shows after.
func (pg *consolePage) submit(field, value string) string {
	pg.t.Helper()
	if err := chromedp.Do(pg.ctx,
		chromedp.Navigate(pg.e.consoleURL),
		chromedp.WaitVisible(chromedp.CSS("#settings button[type=submit]")),
		chromedp.SetValue(chromedp.CSS("#s-"+field), value),
		chromedp.Click(chromedp.CSS("#settings button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	); err != nil {
		pg.t.Fatalf("set %s: %v", field, err)
	}
	return pg.text(".flash")
}
