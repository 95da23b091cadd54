package console

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSource is a Source with settable state; the plugin's tests drive
// the console over the real tracker.
type fakeSource struct {
	mu       sync.Mutex
	status   Status
	swarms   []SwarmRow
	settings []Setting
}

func (f *fakeSource) Status() Status { f.mu.Lock(); defer f.mu.Unlock(); return f.status }

func (f *fakeSource) Swarms(offset, limit int) ([]SwarmRow, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if offset >= len(f.swarms) {
		return nil, len(f.swarms)
	}
	return f.swarms[offset:min(len(f.swarms), offset+limit)], len(f.swarms)
}

func (f *fakeSource) Settings() []Setting {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Setting(nil), f.settings...)
}

func (f *fakeSource) SetSetting(key, value string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, s := range f.settings {
		if s.Key == key {
			if s.Kind == "number" {
				n, err := strconv.ParseInt(value, 10, 64)
				if err != nil || n < s.Min || n > s.Max {
					return false, fmt.Errorf("must be a number from %d to %d", s.Min, s.Max)
				}
			}
			if len(value) > 100 {
				return false, fmt.Errorf("%s: too long", value) // as a real setting names the value it refuses
			}
			f.settings[i].Value = value
			return s.NeedsRestart, nil
		}
	}
	return false, fmt.Errorf("unknown setting %q", key)
}

func newFake() *fakeSource {
	f := &fakeSource{
		status: Status{
			Version: "0.1.0", Started: time.Now().Add(-time.Hour),
			Router:   RouterStatus{Address: "127.0.0.1:7654", State: "LeaseSet published", Healthy: true},
			Identity: Identity{B32: "abc.b32.i2p", UDPAnnounce: "udp://abc.b32.i2p:6969/", HTTPAnnounce: "http://abc.b32.i2p/a"},
			Totals:   Totals{Swarms: 3, Peers: 42, Seeds: 10, Leechers: 32, Completed: 7},
			Problems: []Problem{{Where: "udp", Reason: "bad_connection_id", Count: 5}},
		},
		settings: []Setting{
			{Key: "interval", Label: "Announce interval", Kind: "number", Value: "1620", Min: 300, Max: 21600},
			{Key: "full_scrape", Label: "Full scrape", Kind: "bool", Value: "false"},
			{Key: "tracker_port", Label: "Tracker port", Kind: "number", Value: "6969", Min: 1, Max: 65535, NeedsRestart: true},
			{Key: "udp", Label: "UDP announces", Kind: "bool", Value: "true"},
		},
	}
	for i := range 60 {
		f.swarms = append(f.swarms, SwarmRow{InfoHash: fmt.Sprintf("%040x", i), Seeds: uint64(60 - i)})
	}
	return f
}

func TestPageShowsStatus(t *testing.T) {
	f := newFake()
	c, err := New(f, Options{PageSize: 25})
	if err != nil {
		t.Fatal(err)
	}
	c.Sample()
	rec := httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, newReq(http.MethodGet, "/", nil))
	body := rec.Body.String()
	for _, want := range []string{`id="total-peers">42<`, `id="total-swarms">3<`, "udp://abc.b32.i2p:6969/", "bad_connection_id",
		"LeaseSet published", "page 1 of 3", "<svg", `name="csrf"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if rec.Header().Get("Content-Security-Policy") == "" || rec.Header().Get("X-Frame-Options") != "DENY" {
		t.Error("security headers missing")
	}
	rec = httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, newReq(http.MethodGet, "/?page=3", nil))
	if b := rec.Body.String(); !strings.Contains(b, "page 3 of 3") || strings.Contains(b, "next →") || !strings.Contains(b, `href="?page=2#swarms" rel="prev">← previous<`) {
		t.Error("last page wrong")
	}
	rec = httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, newReq(http.MethodGet, "/api/status", nil))
	var got struct{ Totals Totals }
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.Totals.Peers != 42 {
		t.Fatalf("json status: %v %+v", err, got)
	}
	for _, asset := range []string{"/assets/console.css", "/assets/console.js"} {
		rec = httptest.NewRecorder()
		c.Handler().ServeHTTP(rec, newReq(http.MethodGet, asset, nil))
		if rec.Code != 200 || rec.Body.Len() == 0 {
			t.Errorf("%s: %d", asset, rec.Code)
		}
	}
}

// TestHTTPAnnounceURLs: the console shows the HTTP announce URL on the
// tracker's own address with a copy button and the note that /a answers
// too; a tunnel URL only once the operator has set one, beside it.
func TestHTTPAnnounceURLs(t *testing.T) {
	f := newFake()
	c, _ := New(f, Options{})
	get := func() string {
		rec := httptest.NewRecorder()
		c.Handler().ServeHTTP(rec, newReq(http.MethodGet, "/", nil))
		return strings.Join(strings.Fields(rec.Body.String()), " ")
	}
	page := get()
	if !strings.Contains(page, `<code class="copyable" id="http-url">http://abc.b32.i2p/a</code>`) || !strings.Contains(page, "<code>/a</code> answers too") ||
		strings.Contains(page, "tunnel-url") {
		t.Fatal("HTTP announce URL not shown, or a tunnel URL shown without one")
	}
	f.mu.Lock()
	f.status.Identity.TunnelAnnounce, f.status.Identity.HTTPListener = "http://tun.b32.i2p/announce", "127.0.0.1:7662"
	f.mu.Unlock()
	page = get()
	for _, want := range []string{`id="http-url">http://abc.b32.i2p/a<`, `id="tunnel-url">http://tun.b32.i2p/announce<`, "<code>127.0.0.1:7662</code>", `href="#s-http_address"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func postSettings(c *Console, form url.Values, origin string) *httptest.ResponseRecorder {
	req := newReq(http.MethodPost, "/settings", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	rec := httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, req)
	return rec
}

func TestSettingsForm(t *testing.T) {
	f := newFake()
	c, _ := New(f, Options{})
	// Without the token, or from another origin: refused, nothing changed.
	if rec := postSettings(c, url.Values{"interval": {"900"}}, ""); rec.Code != http.StatusForbidden {
		t.Fatalf("no token: %d", rec.Code)
	}
	if rec := postSettings(c, url.Values{"interval": {"900"}, "csrf": {c.csrf}}, "http://evil.example"); rec.Code != http.StatusForbidden {
		t.Fatalf("cross origin: %d", rec.Code)
	}
	if f.settings[0].Value != "1620" {
		t.Fatal("forged form changed a setting")
	}
	if !slices.ContainsFunc(c.Problems(), func(p Problem) bool { return p.Reason == "bad_form_token" && p.Count == 1 }) {
		t.Fatalf("the form without its token is not counted: %+v", c.Problems())
	}
	rec := postSettings(c, url.Values{"interval": {"900"}, "full_scrape": {"on"}, "tracker_port": {"7000"}, "csrf": {c.csrf}}, "http://127.0.0.1:17663")
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("valid form: %d", rec.Code)
	}
	if f.settings[0].Value != "900" || f.settings[1].Value != "true" || f.settings[2].Value != "7000" {
		t.Fatalf("settings not applied: %+v", f.settings)
	}
	if loc := rec.Header().Get("Location"); loc != "./#settings" {
		t.Fatalf("not a relative redirect without a message in the URL: %s", loc)
	}
	if page := followFlash(t, c, rec); !strings.Contains(page, `<p class="flash " role="status">Saved: Announce interval, Full scrape, Tracker port. Takes effect after a restart: Tracker port.</p>`) {
		t.Fatalf("the page after the form lacks the notice:\n%s", page)
	}
	if f.settings[3].Value != "true" {
		t.Fatal("a checkbox the form did not list was turned off")
	}
	// An error about a long value still reaches the page: the cookie
	// stays within what a browser keeps.
	f.settings = append(f.settings, Setting{Key: "http_address", Label: "HTTP address", Kind: "text"})
	rec = postSettings(c, url.Values{"http_address": {strings.Repeat("é", 3000)}, "csrf": {c.csrf}}, "")
	for _, ck := range rec.Result().Cookies() {
		if len(ck.String()) > 4096 {
			t.Fatalf("cookie of %d bytes", len(ck.String()))
		}
	}
	if page := followFlash(t, c, rec); !strings.Contains(page, `<p class="flash error" role="status">HTTP address: éé`) || !strings.Contains(page, "é…</p>") {
		t.Fatal("a long error does not reach the page")
	}
	rec = postSettings(c, url.Values{"interval": {"5"}, "csrf": {c.csrf}}, "")
	if page := followFlash(t, c, rec); !strings.Contains(page, `<p class="flash error" role="status">Announce interval: must be a number`) || f.settings[0].Value != "900" {
		t.Fatal("out-of-range value accepted")
	}
}

// followFlash loads the page as a browser does after the form's answer
// rec, with the cookie it set, and returns it. The page deletes the
// cookie, and a page loaded without it shows no notice.
func followFlash(t *testing.T, c *Console, rec *httptest.ResponseRecorder) string {
	t.Helper()
	req := newReq(http.MethodGet, "/", nil)
	for _, ck := range rec.Result().Cookies() {
		if ck.Path != "" || !ck.HttpOnly {
			t.Errorf("cookie %s: path %q (must be the form's directory), HttpOnly %v", ck.Name, ck.Path, ck.HttpOnly)
		}
		req.AddCookie(ck)
	}
	page := httptest.NewRecorder()
	c.Handler().ServeHTTP(page, req)
	cleared := false
	for _, ck := range page.Result().Cookies() {
		cleared = cleared || (ck.Name == flashCookie && ck.MaxAge < 0)
	}
	if !cleared {
		t.Error("the page does not delete the notice's cookie")
	}
	again := httptest.NewRecorder()
	c.Handler().ServeHTTP(again, newReq(http.MethodGet, "/?saved=forged", nil))
	if strings.Contains(again.Body.String(), `class="flash`) {
		t.Error("a page loaded without the cookie shows a notice")
	}
	return page.Body.String()
}

// TestSettingsCheckboxes: a POST without a checkbox turns its setting off
// only when the form listed that checkbox as shown (the hidden "bools"
// fields the page renders); a scripted POST that leaves it out changes
// nothing.
func TestSettingsCheckboxes(t *testing.T) {
	f := newFake()
	f.settings[1].Value = "true" // full_scrape on
	c, _ := New(f, Options{})
	if rec := postSettings(c, url.Values{"interval": {"900"}, "csrf": {c.csrf}}, ""); rec.Code != http.StatusSeeOther {
		t.Fatalf("scripted form: %d", rec.Code)
	}
	if f.settings[0].Value != "900" || f.settings[1].Value != "true" || f.settings[3].Value != "true" {
		t.Fatalf("a POST without the checkboxes changed them: %+v", f.settings)
	}
	// The page's form lists its checkboxes; unticked and listed is off.
	rec := httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, newReq(http.MethodGet, "/", nil))
	for _, key := range []string{"full_scrape", "udp"} {
		if !strings.Contains(rec.Body.String(), `<input type="hidden" name="bools" value="`+key+`">`) {
			t.Fatalf("form does not list checkbox %s", key)
		}
	}
	postSettings(c, url.Values{"bools": {"full_scrape", "udp"}, "udp": {"on"}, "csrf": {c.csrf}}, "")
	if f.settings[1].Value != "false" || f.settings[3].Value != "true" {
		t.Fatalf("unticked listed checkbox not turned off: %+v", f.settings)
	}
}

// TestRestartNotice: a saved setting that waits for a restart is shown
// on the page, every time it renders, and in the JSON status, until the
// source reports it in force.
func TestRestartNotice(t *testing.T) {
	f := newFake()
	f.settings[2].Value, f.settings[2].Running, f.settings[2].AwaitsRestart = "7000", "6969", true
	c, _ := New(f, Options{})
	for range 2 {
		rec := httptest.NewRecorder()
		c.Handler().ServeHTTP(rec, newReq(http.MethodGet, "/", nil))
		if !strings.Contains(rec.Body.String(), "Tracker port: saved 7000, running 6969 — takes effect after a restart") {
			t.Fatal("page does not show the pending restart")
		}
	}
	rec := httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, newReq(http.MethodGet, "/api/status", nil))
	var got struct{ Restart []PendingRestart }
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got.Restart) != 1 ||
		got.Restart[0] != (PendingRestart{Key: "tracker_port", Label: "Tracker port", Saved: "7000", Running: "6969"}) {
		t.Fatalf("json restart: %v %+v", err, got)
	}
	f.settings[2].Running, f.settings[2].AwaitsRestart = "", false // restarted
	rec = httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, newReq(http.MethodGet, "/", nil))
	if strings.Contains(rec.Body.String(), "restart-notice") {
		t.Fatal("notice shown after the restart")
	}
}

// TestUnderPrefix: the console served under a path prefix (as a router
// console mounts it at the manifest's consoleLinkURL) links only within
// that prefix.
func TestUnderPrefix(t *testing.T) {
	f := newFake()
	c, _ := New(f, Options{Title: "OpenTracker"})
	c.Handle("/metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	c.Handle("/stats", StatsHandler(f, time.Now))
	mux := http.NewServeMux()
	mux.Handle("/opentracker/", http.StripPrefix("/opentracker", c.Handler()))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/opentracker/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	if resp.StatusCode != 200 || !strings.Contains(page, "<h1>OpenTracker</h1>") {
		t.Fatalf("%s: %s", resp.Status, page)
	}
	for _, attr := range regexp.MustCompile(`(?:href|src|action)="([^"#]*)`).FindAllStringSubmatch(page, -1) {
		ref := attr[1]
		if strings.HasPrefix(ref, "https://") || ref == "" {
			continue
		}
		if strings.HasPrefix(ref, "/") {
			t.Errorf("absolute link %q escapes the prefix", ref)
			continue
		}
		u, _ := url.Parse(srv.URL + "/opentracker/")
		target := u.ResolveReference(&url.URL{Path: strings.SplitN(ref, "?", 2)[0]}).String()
		if strings.HasSuffix(ref, "settings") {
			continue // POST only
		}
		resp, err := http.Get(target)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s → %s: %v %v", ref, target, err, resp.Status)
		}
		resp.Body.Close()
	}
}

func TestPassword(t *testing.T) {
	c, _ := New(newFake(), Options{Password: "s3cret"})
	rec := httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, newReq(http.MethodGet, "/", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("no password: %d", rec.Code)
	}
	req := newReq(http.MethodGet, "/", nil)
	req.SetBasicAuth("admin", "s3cret")
	rec = httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("right password: %d", rec.Code)
	}
}

func TestCharts(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var samples []sample
	for i := range 10 {
		samples = append(samples, sample{at: now.Add(time.Duration(i-10) * time.Minute), announces: uint64(i * 120), peers: uint64(i)})
	}
	cs := charts(samples, time.Minute)
	if len(cs[0].values) != 9 || cs[0].values[0] != 120 {
		t.Fatalf("announces per minute %v", cs[0].values)
	}
	svg := string(cs[1].svg(now, time.Hour, "1h"))
	if !strings.Contains(svg, "<polyline") || !strings.Contains(svg, ">10<") || !strings.Contains(svg, ">-30m<") {
		t.Fatalf("svg %s", svg)
	}
	for in, want := range map[float64]float64{0: 1, 0.3: 0.5, 7: 10, 120: 200, 1000: 1000} {
		if in < 1 && in > 0 {
			continue
		}
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%v) = %v, want %v", in, got, want)
		}
	}
}

// TestChartWindows: each window keeps its span at its own resolution in
// a bounded ring; the page shows the shortest window that spans the data
// until one is chosen, and the chosen one after.
func TestChartWindows(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	h := newHistory(time.Minute)
	want := map[string]struct {
		step time.Duration
		size int
	}{"1h": {time.Minute, 61}, "6h": {time.Minute, 361}, "24h": {4 * time.Minute, 361}, "7d": {28 * time.Minute, 361}}
	for i, w := range h.windows() {
		if got, size := want[w.name], len(h.tiers[i].ring); got.step != w.step || got.size != size {
			t.Errorf("window %s: step %v, %d samples; want %v, %d", w.name, w.step, size, got.step, got.size)
		}
	}
	// Eight days of samples a minute apart, each a few ms late or early
	// as a ticker's are: every window holds its full span at its step.
	const days = 8
	for i := range days * 24 * 60 {
		jitter := time.Duration(i%7-3) * time.Millisecond
		h.add(sample{at: start.Add(time.Duration(i)*time.Minute + jitter), announces: uint64(i) * 60, peers: uint64(i)})
	}
	for i, w := range h.windows() {
		got := h.ordered(i)
		if len(got) != len(h.tiers[i].ring) {
			t.Errorf("window %s holds %d samples, want %d", w.name, len(got), len(h.tiers[i].ring))
		}
		for j := 1; j < len(got); j++ {
			if d := got[j].at.Sub(got[j-1].at).Round(time.Second); d != w.step {
				t.Fatalf("window %s: samples %v apart, want %v", w.name, d, w.step)
			}
		}
		if span := got[len(got)-1].at.Sub(got[0].at).Round(time.Second); span != w.span {
			t.Errorf("window %s spans %v", w.name, span)
		}
		// A steady 60 announces a minute reads as 60 per minute at every
		// resolution.
		for _, v := range charts(got, w.step)[0].values {
			if v < 59.9 || v > 60.1 {
				t.Fatalf("window %s: %v announces per minute, want 60", w.name, v)
			}
		}
	}

	now := start
	f := newFake()
	c, _ := New(f, Options{Now: func() time.Time { return now }})
	page := func(query string) string {
		rec := httptest.NewRecorder()
		c.Handler().ServeHTTP(rec, newReq(http.MethodGet, "/"+query, nil))
		return rec.Body.String()
	}
	for _, step := range []struct {
		after time.Duration
		want  string
	}{{0, "5m"}, {10 * time.Minute, "15m"}, {20 * time.Minute, "30m"}, {50 * time.Minute, "1h"}, {2 * time.Hour, "6h"},
		{7 * time.Hour, "24h"}, {3 * 24 * time.Hour, "24h"}} {
		for now.Sub(start) < step.after {
			c.Sample()
			now = now.Add(time.Minute)
		}
		c.Sample()
		p := page("")
		if !strings.Contains(p, "<h2>Last "+step.want+"</h2>") || !strings.Contains(p, ">-"+step.want+"<") {
			t.Errorf("after %v: default window is not %s", step.after, step.want)
		}
		// The nav marks a window it offers as current, and only then.
		if offered := slices.Contains([]string{"1h", "6h", "24h", "7d"}, step.want); offered != strings.Contains(p, `<strong aria-current="true">`+step.want+`</strong>`) ||
			!offered && strings.Contains(p, "aria-current") {
			t.Errorf("after %v: nav wrong for %s", step.after, step.want)
		}
	}
	p := page("?window=7d&page=2")
	for _, want := range []string{"<h2>Last 7d</h2>", `aria-label="Peers over the last 7d"`, ">-7d<", ">-84h<", `href="?window=1h&amp;page=2#charts"`,
		`href="?page=1&amp;window=7d#swarms" rel="prev"`} {
		if !strings.Contains(p, want) {
			t.Errorf("7d page lacks %q", want)
		}
	}
	if p := page("?window=bogus"); !strings.Contains(p, "<h2>Last 24h</h2>") {
		t.Error("an unknown window is not the default")
	}
}

// TestStatusJSONShape: /api/status gives durations as duration strings
// and empty lists as [], and has no null anywhere.
func TestStatusJSONShape(t *testing.T) {
	f := newFake()
	now := time.Unix(1_800_000_000, 0)
	f.status.Started = now.Add(-76 * time.Minute)
	f.status.Problems, f.swarms = nil, nil
	f.status.Store.RestoreDuration = 76*time.Millisecond + 123
	c, _ := New(f, Options{Now: func() time.Time { return now }})
	rec := httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, newReq(http.MethodGet, "/api/status", nil))
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case nil:
			t.Errorf("%s is null", path)
		case map[string]any:
			for k, x := range v {
				walk(path+"."+k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), x)
			}
		}
	}
	walk("status", doc)
	for _, key := range []string{"Problems", "Swarms", "Restart"} {
		if l, ok := doc[key].([]any); !ok || len(l) != 0 {
			t.Errorf("%s = %#v, want []", key, doc[key])
		}
	}
	if doc["Uptime"] != "1h16m0s" {
		t.Errorf("Uptime = %#v", doc["Uptime"])
	}
	if got := doc["Store"].(map[string]any)["RestoreDuration"]; got != "76ms" {
		t.Errorf("Store.RestoreDuration = %#v, want \"76ms\"", got)
	}
}
