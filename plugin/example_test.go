package plugin_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	opentracker "github.com/go-i2p/go-opentracker"
	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/plugin"
)

// routerHost is the Host a Go I2P router (go-i2p) gives the tracker it
// bundles. Here the router is the i2cptest simulator, reached over
// loopback TCP as a router's I2CP port is; a router in the same process
// may instead hand over one end of a net.Pipe its I2CP server serves.
type routerHost struct {
	i2cpAddr    string         // the router's I2CP port
	workDir     string         // the router's working directory
	consolePath string         // the manifest's consoleLinkURL, "/opentracker/"
	console     *http.ServeMux // the router's console
	tunnel      *http.ServeMux // what the router's HTTP server tunnel points at
}

func (h *routerHost) DialI2CP(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", h.i2cpAddr)
}

func (h *routerHost) DataDir() string {
	return filepath.Join(h.workDir, "plugins", "go-opentracker")
}

func (h *routerHost) MountTracker(hd http.Handler) { h.tunnel.Handle("/", hd) }

// MountConsole puts the console under consoleLinkURL, where the router
// console's plugin link (plugin.config's consoleLinkName) points; the
// console's pages link relatively, so they work under the prefix.
func (h *routerHost) MountConsole(hd http.Handler) {
	h.console.Handle(h.consolePath, http.StripPrefix(strings.TrimSuffix(h.consolePath, "/"), hd))
}

// Bundling the tracker into a router: a Host, a first configuration from
// the router's own defaults, Start and Stop. The router's HTTP server
// tunnel for the tracker has keys of its own; its address goes into the
// http_address setting, from which the HTTP announce URL is made.
func Example_router() {
	router, err := i2cptest.NewRouter("127.0.0.1:0", i2cptest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer router.Close()
	workDir, err := os.MkdirTemp("", "go-opentracker-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(workDir)
	m, err := opentracker.LoadManifest()
	if err != nil {
		log.Fatal(err)
	}
	h := &routerHost{i2cpAddr: router.Addr(), workDir: workDir, consolePath: m.ConsoleLinkURL,
		console: http.NewServeMux(), tunnel: http.NewServeMux()}

	// Written as the config file on the first start; the operator and
	// the console edit that file from then on.
	cfg := plugin.DefaultConfig()
	cfg.TunnelLength = 2
	p, err := plugin.New(h, plugin.Options{Config: &cfg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer p.Stop(context.Background())
	if err := p.WaitRouter(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("attached to the router; tunnel length", p.Config().TunnelLength)

	for _, page := range []struct {
		name string
		mux  *http.ServeMux
		path string
	}{{"console", h.console, m.ConsoleLinkURL}, {"public page", h.tunnel, "/"}} {
		// As a browser on the router's machine asks for them (the console
		// answers only requests that name it: loopback, its listener).
		req := httptest.NewRequest(http.MethodGet, page.path, nil)
		req.Host = "127.0.0.1:7657"
		rec := httptest.NewRecorder()
		page.mux.ServeHTTP(rec, req)
		fmt.Println(page.name, rec.Code)
	}
	a := p.Addresses()
	fmt.Println(a.UDPAnnounce == "udp://"+a.B32+":6969/", a.HTTPAnnounce == "http://"+a.B32+"/announce")
	// Output:
	// attached to the router; tunnel length 2
	// console 200
	// public page 200
	// true true
}
