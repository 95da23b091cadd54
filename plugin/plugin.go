package plugin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	opentracker "github.com/go-i2p/go-opentracker"
	"github.com/go-i2p/go-opentracker/httpserver"
	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker"
	"github.com/go-i2p/go-opentracker/tracker/httptracker"
	"github.com/go-i2p/go-opentracker/webui"
)

// Host is what the plugin needs from whoever runs it.
type Host interface {
	// DialI2CP opens a connection to the router's session layer.
	DialI2CP(ctx context.Context) (net.Conn, error)
	// DataDir is where the identity, the store and the config live.
	DataDir() string
	// MountTracker serves the HTTP tracker and the public pages (the
	// handler the router's HTTP server tunnel exposes). The plugin calls
	// it once, on its first Start, never again: the handler is the
	// plugin's for its whole life, serves whichever run is current and
	// answers 503 while the plugin is stopped, so a host may register it
	// on an http.ServeMux (which refuses a second registration).
	MountTracker(h http.Handler)
	// MountConsole serves the operator's console; called once, on the
	// first Start, like MountTracker. The console's links are relative,
	// so it works at the root of its own listener or under a path of the
	// router's console (the manifest's consoleLinkURL, "/opentracker/",
	// with the prefix stripped by http.StripPrefix).
	MountConsole(h http.Handler)
}

// Options tune a plugin beyond its configuration file.
type Options struct {
	Logger *slog.Logger
	// I2CPAddr names the router link on the console.
	I2CPAddr string
	// HTTPListener names where the host serves the tracker handler (the
	// address a router's HTTP server tunnel points at, "127.0.0.1:7662"
	// for the standalone binary); the console names it in its hint.
	HTTPListener string
	// ConsoleSampleEvery is the chart resolution; default one minute.
	ConsoleSampleEvery time.Duration
	// ConsoleHosts are names the console answers to in the Host header
	// besides loopback and the address a connection arrives on (the
	// name a host's console listener was given).
	ConsoleHosts []string
	// SimulatedRouter says the router is a simulator (the demo's): the
	// console says that the tracker's address, and so its HTTP URL,
	// exists only there, and where the simulated clients' HTTP goes.
	SimulatedRouter bool
	// Config, if set, is the configuration a host starts the tracker
	// with where its data directory has none yet (a router's own
	// defaults, say): the first Start validates it and writes it as the
	// config file, which from then on the operator and the console edit.
	Config *Config
}

// Plugin is one tracker instance. It can be started and stopped any
// number of times; identity, swarms and settings carry over.
type Plugin struct {
	host     Host
	opts     Options
	manifest opentracker.Manifest
	pages    *webui.Pages

	// live is what the mounted handlers serve: nil while stopped.
	live atomic.Pointer[liveState]
	// trackerServer is the server NewTrackerServer made for the tracker
	// handler, whose counters /metrics reads; nil without one.
	trackerServer atomic.Pointer[httpserver.Server]

	mu      sync.Mutex // guards what follows; Start holds it while it builds a run
	mounted bool
	run     *run // nil while stopped
	// closing is the last run's close: a Stop whose context ended first
	// leaves it to the background, and the next Start (or Stop) waits
	// for it.
	closing *closing

	// What a run was started with; kept after its Stop.
	cfg   Config // in force
	saved Config // in the file: differs from cfg in settings that await a restart
	keys  *i2p.PrivateKeys
}

// liveState is the running tracker as the mounted handlers see it.
type liveState struct {
	http    *httptracker.Handler // nil while HTTP announces are off
	console http.Handler
	gate    *gate // the run's, shared by every liveState of one run
}

// New makes a plugin for host.
func New(host Host, opts Options) (*Plugin, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	m, err := opentracker.LoadManifest()
	if err != nil {
		return nil, err
	}
	p := &Plugin{host: host, opts: opts, manifest: m}
	p.pages, err = webui.New(p.publicInfo, opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("plugin: %w", err)
	}
	return p, nil
}

// Start brings the tracker up: identity, config, store and restore, I2CP
// session (kept up in the background, reconnecting), transports, pages
// and console. It returns once the tracker serves; the router link comes
// up on its own. The first Start mounts the plugin's handlers on the
// host; later ones reuse them. A configuration file in error fails Start
// with an error that wraps ErrConfig; a damaged store or one from a newer
// version, with one that wraps ErrData.
func (p *Plugin) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.waitClosed(ctx); err != nil {
		return err
	}
	dir := p.host.DataDir()
	cfg, keys, err := p.prepare(dir)
	if err != nil {
		return fmt.Errorf("plugin: %w", err)
	}
	r, err := p.newRun(ctx, dir, cfg, keys)
	if err != nil {
		return fmt.Errorf("plugin: %w", err)
	}
	r.start(p.opts.Logger)
	p.cfg, p.saved, p.keys, p.run = cfg, cfg, keys, r
	p.live.Store(r.live(cfg))
	if !p.mounted {
		p.host.MountTracker(trackerRoutes{p})
		p.host.MountConsole(http.HandlerFunc(p.serveConsole))
		p.mounted = true
	}
	udpURL, httpURL, tunnelURL := p.urls()
	stats := r.store.Stats()
	p.opts.Logger.Info("tracker serving", "address", keys.Destination.B32(), "udp", udpURL, "http", httpURL, "http_tunnel", tunnelURL,
		"restored_peers", stats.RestoredPeers, "restore_took", stats.RestoreDuration.Round(time.Millisecond))
	return nil
}

// waitClosed fails if the plugin runs, and otherwise waits for the last
// run's close, if a Stop left it to the background; p.mu is held on
// entry and on return, and let go while it waits (the closing run's
// goroutines may need it to end).
func (p *Plugin) waitClosed(ctx context.Context) error {
	for {
		if p.run != nil {
			return errors.New("plugin: already running")
		}
		c := p.closing
		if c == nil || isClosed(c.done) {
			return nil
		}
		p.mu.Unlock()
		select {
		case <-c.done:
			p.mu.Lock()
		case <-ctx.Done():
			p.mu.Lock()
			return fmt.Errorf("plugin: the previous run is still closing its store: %w", ctx.Err())
		}
	}
}

// prepare makes the data directory and reads what a run starts from:
// the configuration (the host's, on a first start) and the identity
// (created on a first start).
func (p *Plugin) prepare(dir string) (Config, *i2p.PrivateKeys, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Config{}, nil, fmt.Errorf("data directory: %w", err)
	}
	if err := p.seedConfig(dir); err != nil {
		return Config{}, nil, err
	}
	cfg, err := LoadConfig(dir)
	if err != nil {
		return Config{}, nil, err
	}
	keys, created, err := loadOrCreateIdentity(dir)
	if err != nil {
		return Config{}, nil, fmt.Errorf("identity: %w", err)
	}
	if created {
		p.opts.Logger.Info("created the tracker's identity", "file", filepath.Join(dir, KeyFileName), "address", keys.Destination.B32())
	}
	// LoadConfig checked against the address file, which a key file
	// brought from zzzot comes without.
	if err := cfg.checkOwnAddress(keys.Destination.B32()); err != nil {
		return Config{}, nil, &ConfigError{File: filepath.Join(dir, ConfigFileName), Problems: []string{err.Error()}}
	}
	return cfg, keys, nil
}

// seedConfig writes the host's configuration (Options.Config) as the
// config file when dir has none.
func (p *Plugin) seedConfig(dir string) error {
	if p.opts.Config == nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, ConfigFileName)); !errors.Is(err, os.ErrNotExist) {
		return nil // there is one (or it cannot be read: LoadConfig says why)
	}
	if err := p.opts.Config.Validate(); err != nil {
		return fmt.Errorf("%w: the host's configuration: %w", ErrConfig, err)
	}
	return SaveConfig(dir, *p.opts.Config)
}

// trackerRoutes is the handler the host mounts for the HTTP tracker: it
// routes the tracker paths to the running HTTP transport (when enabled)
// and everything else to the public pages. Its Respond is the same
// routing for an httpserver.Server's fast path (NewTrackerServer). One
// atomic load a request finds the run.
type trackerRoutes struct{ p *Plugin }

func (t trackerRoutes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	live := t.p.live.Load()
	if live == nil {
		http.Error(w, trackerStopped, http.StatusServiceUnavailable)
		return
	}
	if !t.p.isTrackerPath(r.URL.Path) {
		t.p.pages.ServeHTTP(w, r)
		return
	}
	if live.http != nil {
		if !live.gate.enter() {
			http.Error(w, trackerStopped, http.StatusServiceUnavailable)
			return
		}
		defer live.gate.leave()
		live.http.ServeHTTP(w, r)
		return
	}
	http.Error(w, httpDisabled, http.StatusNotFound)
}

// Respond answers the tracker paths (the transport tells them apart);
// pages are left to ServeHTTP.
func (t trackerRoutes) Respond(dst []byte, r *httpserver.Request) (int, []byte, bool) {
	live := t.p.live.Load()
	if live == nil {
		return http.StatusServiceUnavailable, append(dst, trackerStopped+"\n"...), true
	}
	if live.http != nil {
		if !live.gate.enter() {
			return http.StatusServiceUnavailable, append(dst, trackerStopped+"\n"...), true
		}
		defer live.gate.leave()
		return live.http.Respond(dst, r)
	}
	if !t.p.isTrackerPath(r.Path) {
		return 0, dst, false
	}
	return http.StatusNotFound, append(dst, httpDisabled+"\n"...), true
}

const (
	httpDisabled   = "HTTP announces are disabled on this tracker; use UDP"
	trackerStopped = "the tracker is stopped; try again later"
)

// serveConsole is the handler the host mounts for the console: the
// running tracker's console, or 503 while it is stopped.
func (p *Plugin) serveConsole(w http.ResponseWriter, r *http.Request) {
	live := p.live.Load()
	if live == nil {
		http.Error(w, "go-opentracker is stopped; its console returns when it starts again", http.StatusServiceUnavailable)
		return
	}
	live.console.ServeHTTP(w, r)
}

// Stop flushes and closes everything; the mounted handlers answer 503
// until the next Start. ctx bounds the wait for the run to wind down and
// the store to close: when it ends first (or has ended already), Stop
// returns its error at once, the store is still closed in the background
// as soon as the run has ended, and the next Start waits for that.
func (p *Plugin) Stop(ctx context.Context) error {
	p.mu.Lock()
	if p.run == nil {
		// Stopped already; an earlier Stop may have left the store to
		// close in the background: wait for that too.
		c := p.closing
		p.mu.Unlock()
		if c == nil || isClosed(c.done) {
			return nil
		}
		return c.wait(ctx)
	}
	p.live.Store(nil)
	c := closeRun(p.run, p.opts.Logger)
	p.run, p.closing = nil, c
	// The run's goroutines may need the lock (the console samples the
	// status) to end.
	p.mu.Unlock()
	return c.wait(ctx)
}

// closing is a run being closed after its Stop.
type closing struct {
	done      chan struct{}
	err       error // set before done is closed
	abandoned atomic.Bool
	log       *slog.Logger
}

// closeRun closes r in the background; a close whose Stop gave up
// waiting logs how it ended.
func closeRun(r *run, log *slog.Logger) *closing {
	c := &closing{done: make(chan struct{}), log: log}
	go func() {
		defer close(c.done)
		c.err = r.close()
		if c.abandoned.Load() {
			if c.err != nil {
				c.log.Error("closing the store after an interrupted stop", "err", c.err)
			} else {
				c.log.Info("tracker stopped; state flushed (after an interrupted stop)")
			}
		}
	}()
	return c
}

// wait waits for the store to close, or for ctx to end (the close goes
// on in the background and logs its end).
func (c *closing) wait(ctx context.Context) error {
	if ctx.Err() == nil {
		select {
		case <-c.done:
			if c.err != nil {
				return fmt.Errorf("plugin: close store: %w", c.err)
			}
			c.log.Info("tracker stopped; state flushed")
			return nil
		case <-ctx.Done():
		}
	}
	if isClosed(c.done) {
		return c.wait(context.Background())
	}
	c.abandoned.Store(true)
	return fmt.Errorf("plugin: stop: %w (the store is closed once the run has ended)", ctx.Err())
}

// isClosed reports whether ch is closed, without waiting.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Tracker returns the running swarm model (nil when stopped).
func (p *Plugin) Tracker() *tracker.Tracker {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil {
		return nil
	}
	return p.run.tracker
}

// Session returns the I2CP session (nil when stopped).
func (p *Plugin) Session() *i2cp.Session {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil {
		return nil
	}
	return p.run.session
}

// WaitRouter waits until the tracker is attached to the router (its
// session up and its LeaseSet published), or ctx ends, or the plugin is
// not running.
func (p *Plugin) WaitRouter(ctx context.Context) error {
	sess := p.Session()
	if sess == nil {
		return errors.New("plugin: not running")
	}
	return sess.WaitReady(ctx)
}

// WaitReachable waits until the tracker is reachable (a probe from
// another session on its router arrived; see Health), or ctx ends, or
// the plugin is not running.
func (p *Plugin) WaitReachable(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		p.mu.Lock()
		r := p.run
		p.mu.Unlock()
		if r == nil {
			return errors.New("plugin: not running")
		}
		if r.health(time.Now()).Healthy {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// RouterState describes the link to the router: its state ("stopped"
// while the plugin is; "reachable" when healthy) and what the state is
// waiting for or failed on, or what the tracker did about it.
func (p *Plugin) RouterState() (state, detail string) {
	p.mu.Lock()
	r := p.run
	p.mu.Unlock()
	if r == nil {
		return i2cp.PhaseStopped.String(), ""
	}
	h := r.health(time.Now())
	return h.State, h.Detail
}

// ReachStats are the counters of the reach probes of the running
// tracker (zero while stopped): traffic kept apart from the clients'.
func (p *Plugin) ReachStats() ReachStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil {
		return ReachStats{}
	}
	return p.run.reach.Stats()
}

// Addresses returns the tracker's addresses under the configuration in
// force; zero before the first Start.
func (p *Plugin) Addresses() Addresses {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.keys == nil {
		return Addresses{}
	}
	return addresses(p.cfg, p.keys)
}

// Identity returns the tracker's keys.
func (p *Plugin) Identity() *i2p.PrivateKeys {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys
}

// Config returns the configuration in force.
func (p *Plugin) Config() Config {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg
}

// Flush writes everything pending to disk now.
func (p *Plugin) Flush(ctx context.Context) error {
	p.mu.Lock()
	r := p.run
	p.mu.Unlock()
	if r == nil {
		return errors.New("plugin: not running")
	}
	return r.store.Flush(ctx)
}

// urls are the announce URLs in force; p.mu must be held.
func (p *Plugin) urls() (udp, http, tunnel string) {
	if p.keys == nil {
		return "", "", ""
	}
	b32 := p.keys.Destination.B32()
	return p.cfg.UDPAnnounceURL(b32), p.cfg.HTTPAnnounceURL(b32), p.cfg.TunnelAnnounceURL()
}

// URLs returns the announce URLs: UDP and HTTP on the tracker's own
// address, and HTTP on the address of the operator's HTTP server tunnel,
// "" until the http_address setting names one. All are "" before the
// first Start.
func (p *Plugin) URLs() (udp, http, tunnel string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.urls()
}

// applySetting changes one setting and persists the config file. A
// setting that is safe to change live applies at once; one that needs a
// restart is saved and reported (restart is true while the saved value
// differs from the one in force).
func (p *Plugin) applySetting(key, value string) (restart bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil {
		return false, errors.New("tracker not running")
	}
	s, ok := findSetting(key)
	if !ok {
		return false, fmt.Errorf("unknown setting %q", key)
	}
	// The file as it is now is the base, so that what the operator wrote
	// in it since the start stays; only this setting's line changes.
	saved, err := LoadConfig(p.host.DataDir())
	if err != nil {
		return false, err
	}
	if err := s.set(&saved, value); err != nil {
		return false, err
	}
	if err := saved.Validate(); err != nil {
		return false, err
	}
	if err := saved.checkOwnAddress(p.keys.Destination.B32()); err != nil {
		return false, err
	}
	if err := SaveConfig(p.host.DataDir(), saved); err != nil {
		return false, err
	}
	p.saved = saved
	if s.restart {
		return s.get(&saved) != s.get(&p.cfg), nil
	}
	if err := s.set(&p.cfg, s.get(&saved)); err != nil {
		return false, err
	}
	p.run.applyLive(p.cfg)
	p.live.Store(p.run.live(p.cfg))
	return false, nil
}
