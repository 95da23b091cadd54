package plugin

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// checkNoticeGoesOnRefresh runs on the console the settings form has
// just answered, which shows its notice: the page's own refresh (every
// few seconds) must not carry the notice on.
func (pg *consolePage) checkNoticeGoesOnRefresh() {
	t := pg.t
	t.Helper()
	if !pg.exists(".flash") {
		t.Fatal("no notice after the form")
	}
	type state struct {
		Refreshed string `json:"refreshed"`
		Flash     bool   `json:"flash"`
	}
	const js = `({refreshed: document.body.dataset.refreshed || "", flash: document.querySelector(".flash") !== null})`
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := chromedp.Run(pg.ctx, chromedp.Evaluate[state](js))
		if err != nil {
			t.Fatal(err)
		}
		if st.Refreshed != "" {
			if st.Flash {
				t.Fatal("the notice survives the page's refresh")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the page did not refresh after the form")
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// formRows is what settingsAlignJS finds: how many settings and rows the
// form has, and the rows whose inputs or help texts do not line up.
type formRows struct {
	Settings   int      `json:"settings"`
	Rows       int      `json:"rows"`
	Misaligned []string `json:"misaligned"`
}

// settingsAlignJS groups the form's settings into rows by their top and
// measures, in each row, where the inputs' boxes (less their top margin)
// and the help texts begin.
const settingsAlignJS = `(() => {
  const rows = new Map(), labels = document.querySelectorAll("#settings form > label");
  for (const l of labels) {
    const top = Math.round(l.getBoundingClientRect().top);
    if (!rows.has(top)) rows.set(top, []);
    rows.get(top).push(l);
  }
  const out = [];
  for (const [top, ls] of rows) {
    for (const sel of ["input:not([type=hidden])", "small"]) {
      const v = ls.map(l => l.querySelector(sel)).filter(el => el).map(el => el.getBoundingClientRect().top - parseFloat(getComputedStyle(el).marginTop));
      if (v.length > 1 && Math.max(...v) - Math.min(...v) > 1) out.push("row at " + top + ": " + sel + " at " + v.map(Math.round).join(", "));
    }
  }
  return {settings: labels.length, rows: rows.size, misaligned: out};
})()`

// checkSettingsAligned loads the console w px wide: the settings stand
// several to a row, and in each row the inputs line up, and so do the
// help texts, whatever the titles' lengths.
func checkSettingsAligned(t *testing.T, bctx context.Context, url string, w int64) {
	t.Helper()
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(w, 900), chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#settings form"))); err != nil {
		t.Fatal(err)
	}
	rep, err := chromedp.Run(bctx, chromedp.Evaluate[formRows](settingsAlignJS))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Settings < 10 || rep.Rows*2 > rep.Settings {
		t.Fatalf("at %d px: %d settings in %d rows", w, rep.Settings, rep.Rows)
	}
	for _, m := range rep.Misaligned {
		t.Errorf("settings at %d px: %s", w, m)
	}
}
