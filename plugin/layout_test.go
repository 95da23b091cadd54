package plugin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// layoutWidths are the window widths every page must fit: a phone and
// a desktop window.
var layoutWidths = []int64{420, 1400}

// layoutReport is what layoutJS finds wrong on a page.
type layoutReport struct {
	ScrollWidth int      `json:"scrollWidth"`
	Viewport    int      `json:"viewport"`
	Overflows   []string `json:"overflows"`
	Misaligned  []string `json:"misaligned"`
}

// layoutJS measures the page: the document's width against the window's,
// every element that sticks out of its card (section) without a box of
// its own that scrolls or clips it, every long text squeezed into a
// column a few characters wide, and every table column whose cells
// are right-aligned under a header that is not.
const layoutJS = `(() => {
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.split(" ").join(".") : "");
  const clips = el => { const o = getComputedStyle(el); return o.overflowX !== "visible" || o.overflow !== "visible"; };
  const out = [];
  for (const card of document.querySelectorAll("section, header, footer, main > p")) {
    const box = card.getBoundingClientRect();
    for (const el of card.querySelectorAll("*")) {
      let clipped = false;
      for (let a = el.parentElement; a && a !== card; a = a.parentElement) if (clips(a)) { clipped = true; break; }
      if (clipped) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.right > box.right + 1 || r.left < box.left - 1) out.push(name(card) + " > " + name(el) + " [" + Math.round(r.left) + "," + Math.round(r.right) + "] outside [" + Math.round(box.left) + "," + Math.round(box.right) + "]");
    }
    if (box.right > window.innerWidth + 1) out.push(name(card) + " ends at " + Math.round(box.right));
  }
  // Squeezed: a long text (an address, a URL) broken into lines of a
  // few characters each because its box was left too narrow.
  for (const el of document.querySelectorAll("code, td, dd, th")) {
    const text = el.textContent.trim(), st = getComputedStyle(el);
    if (text.length < 24 || st.display === "none") continue;
    const lh = parseFloat(st.lineHeight) || 1.2 * parseFloat(st.fontSize);
    const range = document.createRange();
    range.selectNodeContents(el); // the text's own height, not its table row's
    const lines = Math.round(range.getBoundingClientRect().height / lh);
    if (lines >= 3 && text.length / lines < 16) out.push(name(el) + " squeezed: " + text.length + " characters in " + lines + " lines");
  }
  const mis = [];
  for (const table of document.querySelectorAll("table")) {
    const head = table.rows[0];
    if (!head) continue;
    for (const row of Array.from(table.rows).slice(1)) {
      Array.from(row.cells).forEach((cell, i) => {
        const th = head.cells[i];
        if (!th || cell.tagName !== "TD") return;
        const want = getComputedStyle(cell).textAlign, got = getComputedStyle(th).textAlign;
        if ((want === "right" || want === "end") !== (got === "right" || got === "end")) mis.push(name(table.closest("section")) + " column " + i + ": cells " + want + ", header " + got);
      });
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, viewport: window.innerWidth, overflows: out.slice(0, 20), misaligned: [...new Set(mis)]};
})()`

// screenshotDir is where the layout check saves its screenshots:
// $GO_OPENTRACKER_SCREENSHOTS if set, else the test's temporary
// directory.
func screenshotDir(t *testing.T) string {
	if dir := os.Getenv("GO_OPENTRACKER_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// checkLayout loads url at each of layoutWidths, fails the test where
// the document is wider than the window, a card's content sticks out of
// it, an address is squeezed, or a number column's header is aligned otherwise than its numbers,
// and saves a full-page screenshot per width as <name>-<width>.png in
// dir. ready is a selector the page shows once loaded.
func checkLayout(t *testing.T, bctx context.Context, dir, name, url, ready string) {
	t.Helper()
	for _, w := range layoutWidths {
		if err := chromedp.Do(bctx, chromedp.EmulateViewport(w, 900), chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(ready))); err != nil {
			t.Fatalf("%s at %d px: %v", name, w, err)
		}
		rep, err := chromedp.Run(bctx, chromedp.Evaluate[layoutReport](layoutJS))
		if err != nil {
			t.Fatalf("%s at %d px: %v", name, w, err)
		}
		shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, w))
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", path)
		if rep.ScrollWidth > rep.Viewport {
			t.Errorf("%s at %d px: the document is %d px wide in a %d px window", name, w, rep.ScrollWidth, rep.Viewport)
		}
		for _, o := range rep.Overflows {
			t.Errorf("%s at %d px: %s", name, w, o)
		}
		for _, m := range rep.Misaligned {
			t.Errorf("%s at %d px: %s", name, w, m)
		}
	}
}

// checkNoticeAndWindows runs on the console the settings form has just
// answered: its "Saved" notice is for that page view only, so a reload
// shows none; a new tracker's charts show its first minutes, and a link
// shows the 7 d window.
func checkNoticeAndWindows(t *testing.T, bctx context.Context) {
	t.Helper()
	const state = `({flash: document.querySelector(".flash") ? document.querySelector(".flash").textContent : "",
		charts: document.querySelector("#charts h2").textContent.trim()})`
	type pageState struct {
		Flash  string `json:"flash"`
		Charts string `json:"charts"`
	}
	if err := chromedp.Do(bctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#total-peers"))); err != nil {
		t.Fatal(err)
	}
	st, err := chromedp.Run(bctx, chromedp.Evaluate[pageState](state))
	if err != nil {
		t.Fatal(err)
	}
	if st.Flash != "" {
		t.Errorf("the notice %q survives a reload", st.Flash)
	}
	if st.Charts != "Last 5m" {
		t.Errorf("charts of a new tracker show %q", st.Charts)
	}
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`.windows a[href^="?window=7d"]`)),
		chromedp.WaitVisible(chromedp.CSS(`svg[aria-label="Announces over the last 7d"]`))); err != nil {
		t.Fatal(err)
	}
	if st, err = chromedp.Run(bctx, chromedp.Evaluate[pageState](state)); err != nil || st.Charts != "Last 7d" {
		t.Errorf("after choosing 7d the charts show %q (%v)", st.Charts, err)
	}
}
