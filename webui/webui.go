package webui

import (
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
)

//go:embed assets
var assets embed.FS

// Info is what the public pages show.
type Info struct {
	Name, Version string
	B32           string
	HTTPAnnounce  string
	UDPAnnounce   string
	UDPEnabled    bool
	HTTPEnabled   bool
	Swarms, Peers uint64
	Seeds         uint64
	Leechers      uint64
	Completed     uint64
}

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
		"num": func(v uint64) string { return strconv.FormatUint(v, 10) },
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
