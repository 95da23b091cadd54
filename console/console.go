package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

//go:embed assets
var assets embed.FS

// Options configure a Console.
type Options struct {
	// Title heads the page (the plugin passes its manifest's
	// consoleLinkName); default "OpenTracker".
	Title string
	// Password, when set, guards every page with HTTP Basic auth (any user
	// name). The plugin requires one when the console listens beyond
	// loopback.
	Password string
	// SampleEvery is how often the charts are sampled (the finest
	// resolution; longer windows keep fewer samples). Default one minute.
	SampleEvery time.Duration
	// RefreshSeconds is how often the page refreshes itself with
	// JavaScript; default 10.
	RefreshSeconds int
	// PageSize is the number of swarms a table page lists; default 25.
	PageSize int
	// Hosts are names (or addresses) besides loopback and the address a
	// connection arrives on that the console answers to in the Host
	// header: the names the operator reaches it by.
	Hosts []string
	// Keeper, when set, keeps the chart history across restarts: New
	// loads it, Run saves it every few samples and when it ends.
	Keeper HistoryKeeper
	Logger *slog.Logger
	Now    func() time.Time
}

// Password guessing: after authMaxFails wrong passwords from an address
// within authWindow it must wait out the window; authMaxClients bounds
// the table of addresses.
const (
	authMaxFails   = 5
	authWindow     = time.Minute
	authMaxClients = 1024
)

// Console serves the operator page. Create it with New; mount it with
// Handler; run its sampler with Run.
type Console struct {
	src   Source
	opt   Options
	csrf  string
	hist  *history
	page  *template.Template
	mux   *http.ServeMux
	extra *http.ServeMux
	hosts map[string]bool
	auth  *authLimiter
	// badHost, badOrigin and badToken count requests refused for their
	// Host (DNS rebinding), their Origin (another site's page) and a
	// settings form without this console's token.
	badHost, badOrigin, badToken atomic.Uint64
	// histBad counts chart history records not loaded, histFailed saves
	// of the history that failed.
	histBad, histFailed atomic.Uint64
}

// New makes a console over src.
func New(src Source, opt Options) (*Console, error) {
	if opt.Title == "" {
		opt.Title = "OpenTracker"
	}
	if opt.SampleEvery <= 0 {
		opt.SampleEvery = time.Minute
	}
	if opt.RefreshSeconds <= 0 {
		opt.RefreshSeconds = 10
	}
	if opt.PageSize <= 0 {
		opt.PageSize = 25
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, fmt.Errorf("console: csrf token: %w", err)
	}
	page, err := template.New("page.html").Funcs(funcs).ParseFS(assets, "assets/page.html")
	if err != nil {
		return nil, fmt.Errorf("console: template: %w", err)
	}
	c := &Console{
		src: src, opt: opt, csrf: hex.EncodeToString(tok[:]), page: page,
		hist: newHistory(opt.SampleEvery),
		mux:  http.NewServeMux(), extra: http.NewServeMux(),
		hosts: map[string]bool{}, auth: newAuthLimiter(authMaxClients, authMaxFails, authWindow),
	}
	for _, h := range opt.Hosts {
		if name := hostName(h); name != "" {
			c.hosts[name] = true
		}
	}
	c.loadHistory()
	c.mux.HandleFunc("GET /{$}", c.serveIndex)
	c.mux.HandleFunc("GET /api/status", c.serveStatusJSON)
	c.mux.HandleFunc("POST /settings", c.serveSettings)
	c.mux.Handle("GET /assets/", http.FileServerFS(assets))
	c.mux.Handle("/", c.extra)
	return c, nil
}

// Handle mounts another handler under the console (for /metrics and
// /stats), behind the same password.
func (c *Console) Handle(pattern string, h http.Handler) { c.extra.Handle(pattern, h) }

// Handler returns the console's http.Handler. Its pages link relatively,
// so it may be served under a path prefix (stripped before it).
func (c *Console) Handler() http.Handler { return http.HandlerFunc(c.serve) }

func (c *Console) serve(w http.ResponseWriter, r *http.Request) {
	if !c.hostAllowed(r, r.Host) {
		c.badHost.Add(1)
		http.Error(w, "this console answers only to its own address (a loopback name or address, or the address it listens on); "+
			"host "+strconv.Quote(r.Host)+" is not one", http.StatusMisdirectedRequest)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !c.originAllowed(r) {
		c.badOrigin.Add(1)
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	if c.opt.Password != "" && !c.authorized(w, r) {
		return
	}
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin") // "no-referrer" would make browsers send Origin: null on the form
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'")
	c.mux.ServeHTTP(w, r)
}

// authorized checks the password, throttling an address that keeps
// getting it wrong; if it fails it has answered the request.
func (c *Console) authorized(w http.ResponseWriter, r *http.Request) bool {
	now := c.opt.Now()
	if c.auth.blocked(r.RemoteAddr, now) {
		w.Header().Set("Retry-After", strconv.Itoa(int(authWindow/time.Second)))
		http.Error(w, "too many wrong passwords: try again in a minute", http.StatusTooManyRequests)
		return false
	}
	_, pass, ok := r.BasicAuth()
	if ok && subtle.ConstantTimeCompare([]byte(pass), []byte(c.opt.Password)) == 1 {
		c.auth.succeed(r.RemoteAddr)
		return true
	}
	if ok {
		c.auth.fail(r.RemoteAddr, now)
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="go-opentracker console"`)
	http.Error(w, "password required", http.StatusUnauthorized)
	return false
}

// Problems are the console's own refusals and failures (foreign Host or
// Origin, passwords, chart history), shown on its page beside the
// Source's; a router exports them with its own metrics.
func (c *Console) Problems() []Problem {
	out := c.auth.problems()
	if n := c.badHost.Load(); n > 0 {
		out = append(out, Problem{Where: "console", Reason: "foreign_host", Count: n})
	}
	if n := c.badOrigin.Load(); n > 0 {
		out = append(out, Problem{Where: "console", Reason: "foreign_origin", Count: n})
	}
	if n := c.badToken.Load(); n > 0 {
		out = append(out, Problem{Where: "console", Reason: "bad_form_token", Count: n})
	}
	if n := c.histBad.Load(); n > 0 {
		out = append(out, Problem{Where: "console", Reason: "chart_history_record_ignored", Count: n})
	}
	if n := c.histFailed.Load(); n > 0 {
		out = append(out, Problem{Where: "console", Reason: "chart_history_save_failed", Count: n})
	}
	return out
}

// saveEvery is how many samples the history takes between saves to
// its Keeper: a crash loses at most these.
const saveEvery = 5

// Run samples the source for the charts until ctx ends, saving the
// history to the Keeper every saveEvery samples and at the end.
func (c *Console) Run(ctx context.Context) {
	c.Sample()
	t := time.NewTicker(c.opt.SampleEvery)
	defer t.Stop()
	defer c.saveHistory()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.Sample()
			if n%saveEvery == 0 {
				c.saveHistory()
			}
		}
	}
}

// Sample records one chart sample now.
func (c *Console) Sample() {
	st := c.src.Status()
	c.hist.add(sample{at: c.opt.Now(), announces: st.Counters.Announces(), peers: st.Totals.Peers, swarms: st.Totals.Swarms})
}

// PendingRestart is a saved setting that takes effect after a restart.
type PendingRestart struct {
	Key, Label     string
	Saved, Running string
}

// view is what the page template renders.
type view struct {
	Status
	Title       string
	Now         time.Time
	Uptime      time.Duration
	Rate        float64 // announces per second since the last sample
	Charts      []chartView
	Window      string // the chart window shown
	WindowAsked string // the window the URL names, "" for the default
	Windows     []windowLink
	Swarms      []SwarmRow
	SwarmTotal  int
	Page, Pages int
	PrevPage    int
	NextPage    int
	Settings    []Setting
	Restart     []PendingRestart
	CSRF        string
	Refresh     int
	Flash       string
	FlashError  bool
}

// windowLink is one of the chart windows the page offers.
type windowLink struct {
	Name    string
	Current bool
}

type chartView struct {
	Title, Unit string
	SVG         template.HTML
	Latest      string
}

func (c *Console) buildView(r *http.Request) view {
	now := c.opt.Now()
	st := c.src.Status()
	st.Problems = slices.Concat(st.Problems, c.Problems())
	st.Woodpeckers = nonNil(st.Woodpeckers)
	v := view{Status: st, Title: c.opt.Title, Now: now, CSRF: c.csrf, Refresh: c.opt.RefreshSeconds, Settings: c.src.Settings()}
	for _, s := range v.Settings {
		if s.AwaitsRestart {
			v.Restart = append(v.Restart, PendingRestart{Key: s.Key, Label: s.Label, Saved: s.Value, Running: s.Running})
		}
	}
	if !st.Started.IsZero() {
		v.Uptime = now.Sub(st.Started).Truncate(time.Second)
	}
	v.Rate = c.rate(now, st.Counters.Announces())
	c.chartsView(&v, r.URL.Query().Get("window"))
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	v.Swarms, v.SwarmTotal = c.src.Swarms((page-1)*c.opt.PageSize, c.opt.PageSize)
	v.Pages = max(1, (v.SwarmTotal+c.opt.PageSize-1)/c.opt.PageSize)
	v.Page = min(page, v.Pages)
	v.PrevPage, v.NextPage = v.Page-1, v.Page+1
	if v.NextPage > v.Pages {
		v.NextPage = 0
	}
	return v
}

// rate is announces per second since the last sample (or between the
// last two, within a second of one).
func (c *Console) rate(now time.Time, announces uint64) float64 {
	samples := c.hist.ordered(0)
	n := len(samples)
	if n == 0 {
		return 0
	}
	last := samples[n-1]
	if secs := now.Sub(last.at).Seconds(); secs >= 1 && announces >= last.announces {
		return float64(announces-last.announces) / secs
	}
	if n > 1 {
		prev := samples[n-2]
		if secs := last.at.Sub(prev.at).Seconds(); secs > 0 && last.announces >= prev.announces {
			return float64(last.announces-prev.announces) / secs
		}
	}
	return 0
}

// firstSpans are the spans the default charts show while the samples
// cover less than the shortest window: the first minutes fill the chart
// instead of sitting at the right edge of an hour.
var firstSpans = []time.Duration{5 * time.Minute, 15 * time.Minute, 30 * time.Minute}

// chartsView fills in the charts for the window the page asked for or,
// by default, the shortest that spans the samples so far (within the
// first half hour, the first of firstSpans that does), up to 24 hours.
func (c *Console) chartsView(v *view, asked string) {
	windows := c.hist.windows()
	pick := slices.IndexFunc(windows, func(w chartWindow) bool { return w.name == asked })
	span := time.Duration(0)
	if pick >= 0 {
		v.WindowAsked = asked
	} else {
		age := c.hist.age(v.Now)
		pick = 0
		for pick < len(windows)-1 && windows[pick].span < age && windows[pick].span < 24*time.Hour {
			pick++
		}
		if i := slices.IndexFunc(firstSpans, func(d time.Duration) bool { return d >= age }); pick == 0 && i >= 0 {
			span = firstSpans[i]
		}
	}
	w := windows[pick]
	if span == 0 {
		span = w.span
	}
	v.Window = shortDuration(span)
	for _, x := range windows {
		v.Windows = append(v.Windows, windowLink{Name: x.name, Current: x.name == v.Window})
	}
	for _, s := range charts(c.hist.ordered(pick), w.step) {
		latest := "–"
		if n := len(s.values); n > 0 {
			latest = humanNumber(s.values[n-1])
		}
		v.Charts = append(v.Charts, chartView{Title: s.title, Unit: s.unit, SVG: s.svg(v.Now, span, v.Window), Latest: latest})
	}
}

func (c *Console) serveIndex(w http.ResponseWriter, r *http.Request) {
	v := c.buildView(r)
	v.Flash, v.FlashError = takeFlash(w, r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := c.page.Execute(w, v); err != nil {
		c.opt.Logger.Warn("console: render", "err", err)
	}
}

// statusJSON is /api/status. Durations are Go duration strings ("76ms",
// "1h2m3s", what time.ParseDuration reads), times RFC 3339, and lists
// are [] when empty, never null.
type statusJSON struct {
	Status
	Uptime   string
	Store    storeJSON
	Problems []Problem
	// Rate is announces per second since the last chart sample.
	Rate   float64
	Swarms []SwarmRow
	// Restart lists the saved settings a restart will apply.
	Restart []PendingRestart
	Bids    BidStatus
}

type storeJSON struct {
	StoreStatus
	RestoreDuration string
}

func (c *Console) serveStatusJSON(w http.ResponseWriter, r *http.Request) {
	v := c.buildView(r)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(statusJSON{
		Status:   v.Status,
		Uptime:   v.Uptime.String(),
		Store:    storeJSON{StoreStatus: v.Store, RestoreDuration: v.Store.RestoreDuration.Round(time.Microsecond).String()},
		Problems: nonNil(v.Problems),
		Rate:     v.Rate,
		Swarms:   nonNil(v.Swarms),
		Restart:  nonNil(v.Restart),
		Bids:     BidStatus{On: v.Bids.On, Held: v.Bids.Held, Top: nonNil(v.Bids.Top)},
	})
}

// nonNil is s, or an empty slice (JSON []) for nil.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// boolsField is the hidden form field that lists each checkbox the form
// showed: a browser sends nothing for an unticked box, so only a listed
// box that is absent means false.
const boolsField = "bools"

// serveSettings applies the settings form. It requires the CSRF token
// the page carries (serve has checked Host and Origin).
// A field the form did not send leaves its setting alone.
func (c *Console) serveSettings(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(c.csrf)) != 1 {
		c.badToken.Add(1)
		http.Error(w, "stale or forged form: reload the console and try again", http.StatusForbidden)
		return
	}
	shown := map[string]bool{}
	for _, key := range r.PostForm[boolsField] {
		shown[key] = true
	}
	var changed, restart []string
	for _, s := range c.src.Settings() {
		value, present := r.PostForm.Get(s.Key), r.PostForm.Has(s.Key)
		if s.Kind == "bool" {
			if !present && !shown[s.Key] {
				continue
			}
			value = strconv.FormatBool(value == "on" || value == "true")
		} else if !present {
			continue
		}
		if value == s.Value {
			continue
		}
		needsRestart, err := c.src.SetSetting(s.Key, value)
		if err != nil {
			seeOther(w, "error", s.Label+": "+err.Error())
			return
		}
		changed = append(changed, s.Label)
		if needsRestart {
			restart = append(restart, s.Label)
		}
		c.opt.Logger.Info("console: setting changed", "key", s.Key, "value", value)
	}
	msg := "No changes."
	if len(changed) > 0 {
		msg = fmt.Sprintf("Saved: %s.", strings.Join(changed, ", "))
		if len(restart) > 0 {
			msg += fmt.Sprintf(" Takes effect after a restart: %s.", strings.Join(restart, ", "))
		}
	}
	seeOther(w, "saved", msg)
}

// flashCookie carries the form's answer to the one page view that
// follows it: the page reads it and deletes it, so a reload or the
// page's own refresh does not show it again, and no link can show a
// message the console did not send.
const flashCookie = "console_flash"

// maxFlash bounds the message in bytes, so that its cookie stays within
// what browsers keep (4096 bytes with name and attributes, escaped).
const maxFlash = 1000

// seeOther sends the browser back to the page with a message (kind
// "saved" or "error"). The Location is relative ("./", resolved against
// the form's URL) and the cookie has no Path (the browser scopes it to
// the form's directory), so the console works under a path prefix;
// http.Redirect would make the Location absolute from the stripped path.
func seeOther(w http.ResponseWriter, kind, msg string) {
	if len(msg) > maxFlash {
		msg = strings.ToValidUTF8(msg[:maxFlash-len("…")], "") + "…"
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(kind + ":" + msg), MaxAge: 60,
		HttpOnly: true, SameSite: http.SameSiteStrictMode})
	w.Header().Set("Location", "./#settings")
	w.WriteHeader(http.StatusSeeOther)
}

// takeFlash returns the message a form left for this page view, and
// deletes it.
func takeFlash(w http.ResponseWriter, r *http.Request) (msg string, isErr bool) {
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return "", false
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	v, err := url.QueryUnescape(ck.Value)
	if err != nil {
		return "", false
	}
	kind, msg, _ := strings.Cut(v, ":")
	return msg, kind == "error"
}

var funcs = template.FuncMap{
	"num": func(v uint64) string { return strconv.FormatUint(v, 10) },
	"bytes": func(n int64) string {
		switch {
		case n >= 1<<30:
			return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
		case n >= 1<<20:
			return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
		case n >= 1<<10:
			return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
		}
		return fmt.Sprintf("%d B", n)
	},
	"ago": func(now, t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return now.Sub(t).Truncate(time.Second).String() + " ago"
	},
	"rate": func(r float64) string { return strconv.FormatFloat(r, 'f', 1, 64) },
}
