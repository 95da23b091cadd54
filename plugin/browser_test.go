package plugin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/go-i2p/go-opentracker/internal/simclient"
	"github.com/go-i2p/go-opentracker/tracker/udptracker"
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

// TestConsoleInBrowser drives the console in headless Chromium while
// simulated clients announce: the totals shown match the tracker's state
// and refresh by themselves, a setting changed through the form applies,
// and the public page shows the announce URLs.
func TestConsoleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	exe := chromium(t)
	e := start(t, t.TempDir(), newRouter(t))
	info := [20]byte{0xbe}
	var clients []*simclient.Client
	announceAll := func(n int) {
		for range n {
			c, err := e.net.NewClient(uint16(20000+len(clients)), true)
			if err != nil {
				t.Fatal(err)
			}
			ctx := ctx5(t)
			if err := c.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Announce(ctx, info, udptracker.EventStarted, uint64(len(clients)%2), -1); err != nil {
				t.Fatal(err)
			}
			clients = append(clients, c)
		}
	}
	announceAll(12)

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
	bctx, cancelT := context.WithTimeout(bctx, 90*time.Second)
	defer cancelT()

	readTotal := func(id string) uint64 {
		t.Helper()
		text, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#"+id)))
		if err != nil {
			t.Fatalf("read #%s: %v", id, err)
		}
		n, err := strconv.ParseUint(strings.TrimSpace(text), 10, 64)
		if err != nil {
			t.Fatalf("#%s shows %q", id, text)
		}
		return n
	}

	// The page shows what the tracker holds.
	if err := chromedp.Do(bctx, chromedp.Navigate(e.console.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#total-peers"))); err != nil {
		t.Fatal(err)
	}
	tot := e.plugin.Tracker().Totals()
	if got := readTotal("total-peers"); got != tot.Peers || got != 12 {
		t.Fatalf("console shows %d peers, tracker has %d", got, tot.Peers)
	}
	if got := readTotal("total-swarms"); got != tot.Swarms {
		t.Fatalf("console shows %d swarms, tracker has %d", got, tot.Swarms)
	}
	if got := readTotal("total-seeds"); got != tot.Seeds {
		t.Fatalf("console shows %d seeds, tracker has %d", got, tot.Seeds)
	}

	// More traffic: the page refreshes itself (JavaScript) to the new total.
	announceAll(5)
	want := e.plugin.Tracker().Totals().Peers
	deadline := time.Now().Add(30 * time.Second)
	for readTotal("total-peers") != want {
		if time.Now().After(deadline) {
			t.Fatalf("console did not refresh to %d peers", want)
		}
		time.Sleep(250 * time.Millisecond)
	}

	// Change a setting through the form.
	if err := chromedp.Do(bctx,
		chromedp.SetValue(chromedp.CSS("#s-interval"), "900"),
		chromedp.Click(chromedp.CSS("#settings button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	); err != nil {
		t.Fatal(err)
	}
	flash, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(".flash")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(flash, "Saved") || e.plugin.Config().Interval != 900 {
		t.Fatalf("setting not applied: flash %q, interval %d", flash, e.plugin.Config().Interval)
	}
	if r, err := clients[0].Announce(ctx5(t), info, udptracker.EventNone, 1, -1); err != nil || r.Interval != 900 {
		t.Fatalf("announce after the change: %+v %v", r, err)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "console.png"), shot, 0o600); err != nil {
		t.Fatal(err)
	}
	if path := os.Getenv("GO_OPENTRACKER_SCREENSHOT"); path != "" {
		os.WriteFile(path, shot, 0o644)
	}

	// The public page.
	if err := chromedp.Do(bctx, chromedp.Navigate(e.http.URL+"/")); err != nil {
		t.Fatal(err)
	}
	udpURL, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#udp-url")))
	if err != nil {
		t.Fatal(err)
	}
	peers, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#peers")))
	if err != nil {
		t.Fatal(err)
	}
	wantUDP, _ := e.plugin.URLs()
	if udpURL != wantUDP || peers != fmt.Sprint(e.plugin.Tracker().Totals().Peers) {
		t.Fatalf("public page shows %q / %s peers", udpURL, peers)
	}
	t.Logf("screenshot: %s (%d bytes)", filepath.Join(dir, "console.png"), len(shot))
}
