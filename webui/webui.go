package webui

import (
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
)

//go:embed assets
var assets embed.FS

// Info is what the public pages show.
type Info struct {
	Name, Version string
	B32           string
	// HTTPAnnounce is the HTTP announce URL on the tracker's own address;
	// "" lists UDP only.
	HTTPAnnounce string
	// TunnelAnnounce is the HTTP announce URL on the operator's HTTP
	// server tunnel, "" while none is configured.
	TunnelAnnounce string
	UDPAnnounce    string
	UDPEnabled     bool
	HTTPEnabled    bool
	Swarms, Peers  uint64
	Seeds          uint64
	Leechers       uint64
	Completed      uint64
}

// HTTPShown reports whether the page lists the HTTP announce URL: HTTP
// announces are on and there is a URL.
func (i Info) HTTPShown() bool { return i.HTTPEnabled && i.HTTPAnnounce != "" }

// Pages serves the help page at "/" and its stylesheet.
type Pages struct {
	info func() Info
	tmpl *template.Template
	log  *slog.Logger
}

// New returns the public pages; info is called for every page view.
func New(info func() Info, log *slog.Logger) (*Pages, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tmpl, err := template.New("help.html").Funcs(template.FuncMap{
		"num":  func(v uint64) string { return strconv.FormatUint(v, 10) },
		"site": site,
	}).ParseFS(assets, "assets/help.html")
	if err != nil {
		return nil, fmt.Errorf("webui: template: %w", err)
	}
	return &Pages{info: info, tmpl: tmpl, log: log}, nil
}

// ServeHTTP serves "/" (help), "/help" and "/webui.css"; anything else is
// not found.
func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/", "/help", "/index.html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		if err := p.tmpl.Execute(w, p.info()); err != nil {
			p.log.Warn("webui: render", "err", err)
		}
	case "/webui.css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		http.ServeFileFS(w, r, assets, "assets/webui.css")
	case "/robots.txt":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("User-agent: *\nDisallow: /a\nDisallow: /announce\nDisallow: /scrape\n"))
	default:
		http.NotFound(w, r)
	}
}

// site is the web root of an announce URL ("http://x.i2p/a" →
// "http://x.i2p/"): these pages, as I2P users reach them.
func site(announce string) string {
	u, err := url.Parse(announce)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host + "/"
}
