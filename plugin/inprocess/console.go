package inprocess

import (
	"context"
	"html/template"
	"net/http"
	"time"
)

// togglePath is the on/off page, relative to the console's prefix.
const togglePath = "/toggle"

// toggleTimeout bounds one start or stop asked for from the console.
const toggleTimeout = 30 * time.Second

// consoleHandler serves, under the prefix (stripped): the toggle page at
// /toggle, and everything else from the plugin's console while the
// tracker runs, or the toggle page while it is off. The toggle's POST is
// refused when it comes from another site (http.CrossOriginProtection);
// who may use it at all is the router console's business.
func (h *Host) consoleHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+togglePath, h.serveToggle)
	mux.Handle("POST "+togglePath, http.NewCrossOriginProtection().Handler(http.HandlerFunc(h.setToggle)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if c := h.console.Load(); c != nil && h.Enabled() {
			(*c).ServeHTTP(w, r)
			return
		}
		if r.URL.Path != "/" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		h.serveToggle(w, r)
	})
	return mux
}

var togglePage = template.Must(template.New("toggle").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>go-opentracker</title></head><body>
<h1>go-opentracker</h1>
<p>The tracker is <b>{{if .On}}running{{else}}off{{end}}</b>.{{if .On}} <a href="{{.Console}}">Open its console.</a>{{end}}</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="enabled" value="{{if .On}}off{{else}}on{{end}}">
<button type="submit">{{if .On}}Turn off{{else}}Turn on{{end}}</button>
</form>
{{with .Err}}<p role="alert">{{.}}</p>{{end}}
</body></html>
`))

type toggleView struct {
	On              bool
	Console, Action string // under the router console's prefix
	Err             string
}

func (h *Host) serveToggle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = togglePage.Execute(w, toggleView{On: h.Enabled(), Console: h.cfg.Prefix, Action: h.cfg.Prefix + togglePath[1:], Err: r.URL.Query().Get("error")})
}

// setToggle applies the form and sends the browser to the console (on)
// or back to the toggle page (off, or an error).
func (h *Host) setToggle(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	var on bool
	switch r.PostForm.Get("enabled") {
	case "on":
		on = true
	case "off":
	default:
		http.Error(w, `enabled must be "on" or "off"`, http.StatusBadRequest)
		return
	}
	// Starting and stopping outlive a browser that gives up waiting.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), toggleTimeout)
	defer cancel()
	where := "./"
	if err := h.SetEnabled(ctx, on); err != nil {
		h.cfg.Options.Logger.Error("inprocess: toggle", "on", on, "err", err)
		where = "./toggle?error=" + template.URLQueryEscaper(err.Error())
	} else if !on {
		where = "./toggle"
	}
	w.Header().Set("Location", where)
	w.WriteHeader(http.StatusSeeOther)
}
