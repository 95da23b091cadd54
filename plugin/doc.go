// Package plugin turns the parts into the tracker an operator runs: it
// creates or loads the identity, opens the store and restores the swarms,
// attaches to the router's session layer through the Host, registers the
// UDP handlers, serves the HTTP tracker and the public pages, and mounts
// the console. Stop flushes and closes everything; Start after Stop works.
//
// # The Host seam
//
// The plugin imports no router. Whoever hosts it — the standalone binary,
// or a Go I2P router such as go-i2p — implements Host: how to open an I2CP
// connection to the router's session layer, the data directory, and where
// to mount the tracker's HTTP handler and the console. Bundling the
// tracker into go-i2p is a few lines in the router:
//
//	type trackerHost struct {
//		r    *router.Router
//		path string // the manifest's consoleLinkURL: "/opentracker/"
//	}
//
//	func (h trackerHost) DialI2CP(ctx context.Context) (net.Conn, error) {
//		c1, c2 := net.Pipe()          // an in-process I2CP connection
//		go h.r.I2CPServer().Serve(c2) // the router's I2CP server takes its end
//		return c1, nil
//	}
//	func (h trackerHost) DataDir() string { return filepath.Join(h.r.WorkingDir(), "plugins", "go-opentracker") }
//	func (h trackerHost) MountTracker(hd http.Handler) { h.r.HTTPServerTunnel("go-opentracker", hd) }
//	func (h trackerHost) MountConsole(hd http.Handler) {
//		h.r.ConsoleMux().Handle(h.path, http.StripPrefix(strings.TrimSuffix(h.path, "/"), hd))
//	}
//
//	m, err := opentracker.LoadManifest()
//	cfg := plugin.DefaultConfig()
//	cfg.TunnelLength = r.Config().TunnelLength // the router's own defaults, if it likes
//	p, err := plugin.New(trackerHost{r: r, path: m.ConsoleLinkURL}, plugin.Options{Config: &cfg})
//	err = p.Start(ctx)
//	defer p.Stop(context.Background())
//
// (The router-side names are illustrative: what go-i2p calls them.) The
// console lives at the manifest's consoleLinkURL in the router's console,
// where plugin.config's consoleLinkName links to it; its pages link
// relatively, so they work under that prefix. The HTTP server tunnel has
// keys of its own — the router gives the tracker's Destination to the
// tracker's I2CP session, which carries the UDP announces — and its
// address goes into the http_address setting, which the HTTP announce URL
// is made from.
//
// Options.Config is the configuration of a first start: written as the
// config file in the data directory, which from then on the operator and
// the console edit; later starts read the file.
//
// The plugin calls MountTracker and MountConsole once, on its first
// Start. The handlers are the plugin's for its whole life: they serve the
// current run and answer 503 while it is stopped, so a host registers
// them on an http.ServeMux once and Stop/Start cycles register nothing
// again.
//
// The example host in host_test.go has the same shape: an http.ServeMux
// for the router's console with the console under consoleLinkURL, a
// second one for the tunnel's target, and the i2cptest router simulator
// as the router, which it reaches over loopback TCP (the simulator, like
// a router's I2CP port, accepts TCP connections; the in-process pipe
// above carries the same protocol on a net.Conn).
//
// The tracker handler is any http.Handler server's to serve, and also an
// httptracker.Responder: a host that serves it with an httptracker.Server
// (as the standalone binary does on its tracker listener) has announces
// and scrapes answered without net/http, at several times the rate.
package plugin
