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
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	bctx, cancelT := context.WithTimeout(bctx, 150*time.Second)
	defer cancelT()

	// within runs actions that load a page and reads the totals it shows
	// (ids are the console's or, with public, the help page's); the
	// tracker's totals read just before and just after must bracket them.
	// Without actions it reads the page as it is, rendered at some time
	// since floor: then floor's totals are the lower bound.
	var floor *tracker.Totals
	within := func(what string, public bool, actions ...chromedp.Action[chromedp.Void]) shownTotals {
		t.Helper()
		peers, swarms, seeds := "total-peers", "total-swarms", "total-seeds"
		if public {
			peers, swarms, seeds = "peers", "swarms", "seeds"
		}
		js := fmt.Sprintf(`({peers: +document.getElementById(%q).textContent, swarms: +document.getElementById(%q).textContent,
			seeds: +document.getElementById(%q).textContent, refreshed: document.body.dataset.refreshed || ""})`, peers, swarms, seeds)
		before := e.plugin.Tracker().Totals()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		shown, err := chromedp.Run(bctx, chromedp.Evaluate[shownTotals](js))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		after := e.plugin.Tracker().Totals()
		if len(actions) == 0 {
			before = *floor
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
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	exists := func(sel string) bool {
		t.Helper()
		ok, err := chromedp.Run(bctx, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", sel)))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	// submit changes one setting through the form on a freshly loaded
	// console and returns the message the page shows after.
	submit := func(field, value string) string {
		t.Helper()
		if err := chromedp.Do(bctx,
			chromedp.Navigate(e.consoleURL),
			chromedp.WaitVisible(chromedp.CSS("#settings button[type=submit]")),
			chromedp.SetValue(chromedp.CSS("#s-"+field), value),
			chromedp.Click(chromedp.CSS("#settings button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS(".flash")),
		); err != nil {
			t.Fatalf("set %s: %v", field, err)
		}
		return text(".flash")
	}

	// The page shows what the tracker holds.
	initial := e.plugin.Tracker().Totals()
	floor = &initial
	first := within("console", false, chromedp.Navigate(e.consoleURL), chromedp.WaitVisible(chromedp.CSS("#total-peers")))
	if first.Peers == 0 {
		t.Fatal("console shows no peers")
	}
	if !exists("#http-hint") || exists("#http-url") {
		t.Fatal("console offers an HTTP URL before http_address is set")
	}

	// Traffic keeps coming: the page refreshes itself (JavaScript) to
	// larger totals, and each reading stays within the tracker's since
	// the page was first loaded.
	deadline = time.Now().Add(60 * time.Second)
	for {
		now := within("refreshed console", false)
		if now.Refreshed != "" && now.Peers > first.Peers {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("console did not refresh past %d peers (shows %+v)", first.Peers, now)
		}
		time.Sleep(250 * time.Millisecond)
	}

	// Change a setting through the form: it applies to announces at once.
	if flash := submit("interval", "900"); !strings.Contains(flash, "Saved") || e.plugin.Config().Interval != 900 {
		t.Fatalf("setting not applied: flash %q, interval %d", flash, e.plugin.Config().Interval)
	}
	c, err := e.net.NewClient(6000, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Announce(ctx5(t), [20]byte{0xbe}, tracker.EventStarted, 1, -1); err != nil || r.Interval != 900 {
		t.Fatalf("announce after the change: %+v %v", r, err)
	}

	// The public page: UDP only while http_address is unset.
	within("public page", true, chromedp.Navigate(e.http.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#peers")))
	wantUDP, _ := e.plugin.URLs()
	if got := text("#udp-url"); got != wantUDP {
		t.Fatalf("public page shows UDP %q, want %q", got, wantUDP)
	}
	if exists("#http-url") {
		t.Fatal("public page shows an HTTP URL before http_address is set")
	}

	// Set the HTTP server tunnel's address through the form: the console
	// and the public page show the HTTP announce URL on it.
	tunnel := strings.Repeat("t", 52) + ".b32.i2p"
	wantHTTP := "http://" + tunnel + "/a"
	if flash := submit("http_address", tunnel); !strings.Contains(flash, "Saved") {
		t.Fatalf("http_address not saved: %q", flash)
	}
	if got := text("#http-url"); got != wantHTTP || exists("#http-hint") {
		t.Fatalf("console shows HTTP %q, want %q", got, wantHTTP)
	}
	within("console after the changes", false)

	checkNoticeAndWindows(t, bctx)

	// Every card, table and URL fits a phone's width and a desktop's.
	shots := screenshotDir(t)
	checkLayout(t, bctx, shots, "console", e.consoleURL, "#total-peers")
	checkLayout(t, bctx, shots, "public", e.http.URL+"/", "#peers")
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1280, 1600)); err != nil {
		t.Fatal(err)
	}
	within("public page with http_address", true, chromedp.Navigate(e.http.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#peers")))
	if got := text("#http-url"); got != wantHTTP {
		t.Fatalf("public page shows HTTP %q, want %q", got, wantHTTP)
	}
	if got := text("#udp-url"); got != wantUDP {
		t.Fatalf("public page shows UDP %q, want %q", got, wantUDP)
	}
}
