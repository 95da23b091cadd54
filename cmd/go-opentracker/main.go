// Command go-opentracker runs the open BitTorrent tracker for I2P beside a
// router that serves I2CP (i2pd, Java I2P, go-i2p).
//
//	go-opentracker [flags]        run the tracker
//	go-opentracker demo [flags]   run it against a built-in router simulator
//	                              with simulated clients, to see the console
//
// On first start it creates its data directory and identity (eepPriv.dat,
// the standard I2P private key file); it attaches to the router over I2CP,
// serves the HTTP tracker and public pages on --http (the address a
// router's HTTP server tunnel points at) and the operator's console on
// --console.
//
// Exit codes follow sysexits(3), so none collides with the 2 Go's
// runtime exits with on a panic or fatal error:
//
//	 0  a clean stop (SIGINT or SIGTERM, state flushed), --help, --version
//	 1  a runtime failure: a listener that fails, a data directory another
//	    process holds, a stop that could not flush and close the store
//	 2  a panic or fatal error in Go's runtime (not ours: a crash)
//	64  EX_USAGE: a bad flag, command or argument
//	65  EX_DATAERR: a data directory whose store or key file is damaged,
//	    or whose store was written by a newer version
//	78  EX_CONFIG: a bad go-opentracker.yaml, or a console beyond loopback
//	    without a password
//
// A service manager restarts on 1 and 2 and not on 64, 65 or 78, which
// the operator has to fix.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	opentracker "github.com/go-i2p/go-opentracker"
	"github.com/go-i2p/go-opentracker/console"
	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/plugin"
)

// Exit codes (see the package comment).
const (
	exitOK     = 0
	exitError  = 1
	exitUsage  = 64 // EX_USAGE
	exitData   = 65 // EX_DATAERR: the data directory is damaged or from a newer version
	exitConfig = 78 // EX_CONFIG
)

// gcPercent is the collector's target unless GOGC says otherwise. Most of
// the tracker's heap is large and long-lived (swarm tables, the
// destination cache) and the announce path allocates almost nothing, so
// a lower target costs little CPU and keeps resident memory near the live
// heap (docs/performance.md has the measurements).
const gcPercent = 25

// procs is how many cores the tracker's Go code runs on once it serves,
// unless GOMAXPROCS says otherwise: half of what the process may use, at
// least one. The tracker runs beside a router, which needs its share;
// and its UDP path is one goroutine, which a second scheduler thread
// only makes dearer (docs/performance.md has the measurements).
// Start-up (the restore) uses every core.
func procs() int { return max(1, runtime.GOMAXPROCS(0)/2) }

func main() {
	// Both take effect once the tracker serves: the restore before it
	// builds the long-lived tables from nothing, which a low GC target
	// would only collect again and again, and it may use every core.
	var settle []func()
	if os.Getenv("GOGC") == "" {
		settle = append(settle, func() { debug.SetGCPercent(gcPercent) })
	}
	if os.Getenv("GOMAXPROCS") == "" {
		n := procs()
		settle = append(settle, func() { runtime.GOMAXPROCS(n) })
	}
	serving := func() {
		for _, f := range settle {
			f()
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(runWith(ctx, os.Args[1:], os.Stdout, os.Stderr, serving))
}

func runWith(ctx context.Context, args []string, stdout, stderr io.Writer, serving func()) int {
	cmd, o, err := parse(args)
	o.serving = serving
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout, o, cmd)
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "go-opentracker:", err)
		fmt.Fprintln(stderr, usageHint)
		return exitUsage
	}
	m, err := opentracker.LoadManifest()
	if err != nil {
		fmt.Fprintln(stderr, "go-opentracker:", err)
		return exitError
	}
	if o.version {
		fmt.Fprintf(stdout, "%s %s\n", m.Name, m.Version)
		return exitOK
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.level}))
	if o.identityOnly {
		return printIdentity(o.data, stdout, log)
	}
	if cmd == "demo" {
		return runDemo(ctx, o, stdout, log)
	}
	return serve(ctx, o, stdout, log, nil)
}

// exitFor maps an error that stops the tracker to its exit code: a
// configuration error (78) and a data directory that is damaged or was
// written by a newer version (65) are the operator's to fix, and the
// systemd unit does not restart on them; anything else is a runtime
// failure (1), a directory another process holds included.
func exitFor(err error) int {
	switch {
	case errors.Is(err, plugin.ErrConfig):
		return exitConfig
	case errors.Is(err, plugin.ErrData):
		return exitData
	}
	return exitError
}

// logError logs err under msg; a configuration file's problems get a
// line each.
func logError(log *slog.Logger, msg string, err error) {
	var ce *plugin.ConfigError
	if !errors.As(err, &ce) {
		log.Error(msg, "err", err)
		return
	}
	for _, p := range ce.Problems {
		log.Error("configuration", "file", ce.File, "problem", p)
	}
}

// printIdentity creates or loads the identity and prints the addresses.
func printIdentity(dir string, stdout io.Writer, log *slog.Logger) int {
	a, created, err := plugin.Identify(dir)
	if err != nil {
		logError(log, "identity", err)
		return exitFor(err)
	}
	if created {
		log.Info("created a new tracker identity", "file", filepath.Join(dir, plugin.KeyFileName))
	}
	fmt.Fprintf(stdout, "tracker address: %s\n", a.B32)
	printURLs(stdout, a)
	fmt.Fprintf(stdout, "destination:     %s\n", a.Destination)
	return exitOK
}

// printURLs prints the announce URLs: UDP and HTTP on the tracker's own
// address and, when http_address names one, HTTP through a tunnel.
func printURLs(w io.Writer, a plugin.Addresses) {
	fmt.Fprintf(w, "announce URLs:   %s\n", a.UDPAnnounce)
	fmt.Fprintf(w, "                 %s (zzzot's path /a works too)\n", a.HTTPAnnounce)
	if a.TunnelAnnounce != "" {
		fmt.Fprintf(w, "                 %s (through the HTTP server tunnel)\n", a.TunnelAnnounce)
	}
}

// host is the standalone binary's plugin.Host: I2CP over TCP or a Unix
// socket, handlers served on our own listeners.
type host struct {
	dataDir  string
	i2cpAddr string
	dial     func(ctx context.Context) (net.Conn, error)
	// simulated marks the demo's router simulator.
	simulated bool
	// The plugin mounts its handlers once, in its first Start, before
	// the listeners serve them.
	tracker, console http.Handler
}

func (h *host) DialI2CP(ctx context.Context) (net.Conn, error) {
	if h.dial != nil {
		return h.dial(ctx)
	}
	var d net.Dialer
	if path, ok := strings.CutPrefix(h.i2cpAddr, "unix:"); ok {
		return d.DialContext(ctx, "unix", path)
	}
	return d.DialContext(ctx, "tcp", h.i2cpAddr)
}
func (h *host) DataDir() string              { return h.dataDir }
func (h *host) MountTracker(hd http.Handler) { h.tracker = hd }
func (h *host) MountConsole(hd http.Handler) { h.console = hd }

// serve runs the tracker until ctx ends. The demo passes its own host (a
// simulator link), sample interval, and a hook that starts its traffic
// once the tracker serves.
func serve(ctx context.Context, o options, stdout io.Writer, log *slog.Logger, h *host) int {
	return serveWith(ctx, o, stdout, log, h, 0, nil)
}

// stopTimeout bounds the flush and close on shutdown, inside systemd's
// TimeoutStopSec (45 s in the example unit).
const stopTimeout = 30 * time.Second

func serveWith(ctx context.Context, o options, stdout io.Writer, log *slog.Logger, h *host, sample time.Duration, started func(*plugin.Plugin, string, string)) int {
	if h == nil {
		h = &host{dataDir: o.data, i2cpAddr: o.i2cp}
	}
	// The configuration is checked before anything listens: an error in
	// it is the operator's to fix and exits 78.
	cfg, err := plugin.LoadConfig(h.dataDir)
	if err != nil {
		logError(log, "configuration", err)
		return exitFor(err)
	}
	if !isLoopback(o.console) && cfg.ConsolePassword == "" {
		log.Error("the console listens beyond loopback without a password: set console_password in the config file", "console", o.console,
			"config", filepath.Join(h.dataDir, plugin.ConfigFileName))
		return exitConfig
	}
	if o.pprof != "" {
		stopPprof, err := startPprof(o.pprof, log)
		if err != nil {
			log.Error("profiles", "err", err)
			return exitError // a listener that fails, as below
		}
		defer stopPprof()
	}
	// No TCP keepalive on the tracker's connections: they come from the
	// router's server tunnel on loopback and are short; keepalive costs
	// four system calls on every accepted connection.
	httpLn, err := (&net.ListenConfig{KeepAlive: -1}).Listen(ctx, "tcp", o.http)
	if err != nil {
		log.Error("HTTP tracker listener", "addr", o.http, "err", err)
		return exitError
	}
	defer httpLn.Close()
	consoleLn, err := net.Listen("tcp", o.console)
	if err != nil {
		log.Error("console listener", "addr", o.console, "err", err)
		return exitError
	}
	defer consoleLn.Close()

	// The console answers to the name it was given to listen on, as well
	// as to loopback and the address a connection arrives on.
	consoleHost, _, _ := net.SplitHostPort(o.console)
	p, err := plugin.New(h, plugin.Options{Logger: log, I2CPAddr: o.i2cp, HTTPListener: httpLn.Addr().String(), ConsoleSampleEvery: sample,
		ConsoleHosts: []string{consoleHost}, SimulatedRouter: h.simulated})
	if err != nil {
		log.Error("plugin", "err", err)
		return exitError
	}
	if err := p.Start(ctx); err != nil {
		logError(log, "cannot start the tracker", err)
		return exitFor(err)
	}
	if o.serving != nil {
		o.serving()
	}
	trackerSrv := plugin.NewTrackerServer(h.tracker, log)
	consoleSrv := console.NewServer(h.console, log)
	// A listener that fails ends the tracker (exit 1): a supervisor
	// restarts it, where serving on without it would go unnoticed.
	failed := make(chan error, 2)
	serveOn := func(name string, srv plugin.Server, ln net.Listener) {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			failed <- fmt.Errorf("%s listener: %w", name, err)
		}
	}
	if o.wrapListener != nil {
		httpLn, consoleLn = o.wrapListener(httpLn), o.wrapListener(consoleLn)
	}
	go serveOn("HTTP tracker", trackerSrv, httpLn)
	go serveOn("console", consoleSrv, consoleLn)

	a := p.Addresses()
	m, _ := opentracker.LoadManifest()
	fmt.Fprintf(stdout, "go-opentracker %s\n", m.Version)
	fmt.Fprintf(stdout, "tracker address: %s\n", a.B32)
	printURLs(stdout, a)
	fmt.Fprintf(stdout, "HTTP tracker:    http://%s/ (local clients; an optional HTTP server tunnel points here)\n", httpLn.Addr())
	fmt.Fprintf(stdout, "console:         http://%s/\n", consoleLn.Addr())
	if started != nil {
		started(p, httpLn.Addr().String(), consoleLn.Addr().String())
	} else {
		go explainRouter(ctx, p, o.i2cp, o.explainAfter, log)
	}
	code := exitOK
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-failed:
		log.Error("shutting down", "err", err)
		code = exitError
	}
	trackerSrv.Close()
	consoleSrv.Close()
	timeout := o.stopTimeout
	if timeout == 0 {
		timeout = stopTimeout
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := p.Stop(sctx); err != nil {
		log.Error("stop: the state may not be fully flushed", "err", err)
		return exitError
	}
	return code
}

// explainRouter tells the operator what to do while the tracker is not
// reachable, first after wait (5 s when 0), then once a minute: with no
// router session, start one; with a session the router refuses, why it
// may; with a session, what the tracker waits for (tunnels, a probe).
// Reaching the tracker is logged by the plugin itself.
func explainRouter(ctx context.Context, p *plugin.Plugin, addr string, wait time.Duration, log *slog.Logger) {
	if wait <= 0 {
		wait = 5 * time.Second
	}
	for ; ; wait = time.Minute {
		wctx, cancel := context.WithTimeout(ctx, wait)
		err := p.WaitReachable(wctx)
		cancel()
		if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
			return
		}
		state, detail := p.RouterState()
		switch state {
		case plugin.PhaseRefused:
			log.Error("the router refuses the tracker's session: another client may hold the same Destination ("+plugin.KeyFileName+
				"), or the router rejects its keys or tunnel options (see the router's log); retrying in the background",
				"i2cp", addr, "state", state, "detail", detail)
		case i2cp.PhaseConnecting.String(), i2cp.PhaseConnected.String(), i2cp.PhaseDisconnected.String():
			log.Warn("no I2P router session yet: start a router with I2CP enabled (i2pd: [i2cp] enabled = true; Java I2P: I2CP is on by default), "+
				"or point --i2cp at it; retrying in the background", "i2cp", addr, "state", state, "detail", detail)
		case i2cp.PhaseSessionUp.String(), plugin.ReachProbing.String():
			// the router is there; tunnels and probes take their time
		default:
			log.Warn("the router session is up but the tracker is not reachable yet", "i2cp", addr, "state", state, "detail", detail)
		}
	}
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// defaultDataDir is a per-user data directory.
func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "go-opentracker")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "go-opentracker")
	}
	return "go-opentracker-data"
}
