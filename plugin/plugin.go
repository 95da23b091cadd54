package plugin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	opentracker "github.com/go-i2p/go-opentracker"
	"github.com/go-i2p/go-opentracker/console"
	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/store"
	"github.com/go-i2p/go-opentracker/tracker"
	"github.com/go-i2p/go-opentracker/tracker/httptracker"
	"github.com/go-i2p/go-opentracker/tracker/udptracker"
	"github.com/go-i2p/go-opentracker/webui"
)

// KeyFileName holds the tracker's identity in the data directory: the
// name zzzot and i2ptunnel use, so an operator moving from zzzot keeps the
// tracker's address by copying the file.
const KeyFileName = "eepPriv.dat"

// Host is what the plugin needs from whoever runs it.
type Host interface {
	// DialI2CP opens a connection to the router's session layer.
	DialI2CP(ctx context.Context) (net.Conn, error)
	// DataDir is where the identity, the store and the config live.
	DataDir() string
	// MountTracker serves the HTTP tracker and the public pages (the
	// handler the router's HTTP server tunnel exposes).
	MountTracker(h http.Handler)
	// MountConsole serves the operator's console.
	MountConsole(h http.Handler)
}

// Options tune a plugin beyond its configuration file.
type Options struct {
	Logger *slog.Logger
	// I2CPAddr names the router link on the console.
	I2CPAddr string
	// ConsoleSampleEvery is the chart resolution; default one minute.
	ConsoleSampleEvery time.Duration
}

// Plugin is one tracker instance.
type Plugin struct {
	host     Host
	opts     Options
	manifest opentracker.Manifest

	mu      sync.Mutex
	running bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started time.Time

	cfg     Config
	keys    *i2p.PrivateKeys
	store   *store.Store
	tracker *tracker.Tracker
	session *i2cp.Session
	udp     *udptracker.Server
	http    *httptracker.Handler
	console *console.Console
	restart []string // settings changed that await a restart
	udpOn   atomic.Bool
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
	return &Plugin{host: host, opts: opts, manifest: m}, nil
}

// readCoalesce lets a trickle of datagrams gather before the session
// reads again: replies wait at most this long, a few hundredths of a
// tunnel's round trip, and a tracker under a steady moderate load wakes
// once per batch of announces instead of once each (at 30,000 a second
// it takes about 60 % off the tracker's CPU per announce).
const readCoalesce = time.Millisecond

// Start brings the tracker up: identity, config, store and restore, I2CP
// session (kept up in the background, reconnecting), transports, pages
// and console. It returns once the tracker serves; the router link comes
// up on its own.
func (p *Plugin) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running {
		return errors.New("plugin: already running")
	}
	log := p.opts.Logger
	dir := p.host.DataDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("plugin: data directory: %w", err)
	}
	cfg, err := LoadConfig(dir)
	if err != nil {
		return fmt.Errorf("plugin: %w", err)
	}
	keys, created, err := LoadOrCreateIdentity(dir)
	if err != nil {
		return fmt.Errorf("plugin: identity: %w", err)
	}
	if created {
		log.Info("created the tracker's identity", "file", filepath.Join(dir, KeyFileName), "address", keys.Destination.B32())
	}
	st, err := store.Open(filepath.Join(dir, "store"), store.Options{
		PeerTTL: cfg.Expiry(), FlushInterval: time.Duration(cfg.FlushSeconds) * time.Second, Logger: log,
	})
	if err != nil {
		return fmt.Errorf("plugin: %w", err)
	}
	tr := tracker.New(tracker.Config{
		Interval: time.Duration(cfg.Interval) * time.Second, PeerExpiry: cfg.Expiry(), DefaultWant: cfg.MaxPeers,
		MaxSwarms: cfg.MaxSwarms, MaxPeersPerSwarm: cfg.MaxPeersPerSwarm, MaxSwarmsPerPeer: cfg.MaxSwarmsPerPeer, Logger: log,
	}, st)
	if err := restore(ctx, tr, log); err != nil {
		st.Close()
		return fmt.Errorf("plugin: %w", err)
	}
	secret, err := st.Secret(ctx)
	if err != nil {
		st.Close()
		return fmt.Errorf("plugin: %w", err)
	}

	session, err := i2cp.NewSession(keys, i2cp.Config{
		Dial:           p.host.DialI2CP,
		Addr:           p.opts.I2CPAddr,
		Options:        sessionOptions(cfg),
		LegacyLeaseSet: cfg.LegacyLeaseSet,
		Coalesce:       readCoalesce,
		Logger:         log,
	})
	if err != nil {
		st.Close()
		return fmt.Errorf("plugin: %w", err)
	}
	udp, err := udptracker.NewServer(udptracker.Config{Port: cfg.TrackerPort, Lifetime: cfg.Lifetime, Logger: log},
		keys.Destination.Hash(), secret, tr, session)
	if err != nil {
		st.Close()
		return fmt.Errorf("plugin: %w", err)
	}
	p.udpOn.Store(cfg.UDP)
	handle := func(m *i2cp.Message) {
		if p.udpOn.Load() {
			udp.HandleMessage(m.Protocol, m.FromPort, m.ToPort, m.Payload)
		}
	}
	session.Handle(datagram.ProtocolDatagram2, cfg.TrackerPort, handle)
	session.Handle(datagram.ProtocolDatagram3, cfg.TrackerPort, handle)
	// Registered only to drop them visibly: repliable-but-replayable
	// Datagram1 is not accepted on the tracker port.
	session.Handle(datagram.ProtocolDatagram1, cfg.TrackerPort, handle)
	httpH := httptracker.New(httptracker.Config{FullScrape: cfg.FullScrape, Strict: cfg.StrictDests, Logger: log}, tr)

	runCtx, cancel := context.WithCancel(context.Background())
	p.cfg, p.keys, p.store, p.tracker, p.session, p.udp, p.http = cfg, keys, st, tr, session, udp, httpH
	p.cancel, p.started, p.restart = cancel, time.Now(), nil
	udp.SetContext(runCtx)

	pages, err := webui.New(p.publicInfo, log)
	if err != nil {
		cancel()
		st.Close()
		return fmt.Errorf("plugin: %w", err)
	}
	con, err := console.New(consoleSource{p}, console.Options{Password: cfg.ConsolePassword, SampleEvery: p.opts.ConsoleSampleEvery, Logger: log})
	if err != nil {
		cancel()
		st.Close()
		return fmt.Errorf("plugin: %w", err)
	}
	con.Handle("/metrics", metricsHandler(p))
	con.Handle("/stats", console.StatsHandler(consoleSource{p}, time.Now))
	p.console = con

	p.wg.Add(3)
	go func() { defer p.wg.Done(); session.Run(runCtx) }()
	go func() { defer p.wg.Done(); tr.Run(runCtx) }()
	go func() { defer p.wg.Done(); con.Run(runCtx) }()

	p.host.MountTracker(p.trackerHandler(pages))
	p.host.MountConsole(con.Handler())
	p.running = true
	log.Info("tracker serving", "address", keys.Destination.B32(), "udp", p.udpURL(), "http", p.httpURL(),
		"restored_peers", st.Stats().RestoredPeers, "restore_took", st.Stats().RestoreDuration.Round(time.Millisecond))
	return nil
}

// restore replays the store into the tracker before it serves: the
// swarms and, at the same time, the destination cache (without it a
// reply to a peer that announced before the restart would cost a router
// lookup). A cache that cannot be read is logged, not fatal: the router
// can look every Destination up again.
func restore(ctx context.Context, tr *tracker.Tracker, log *slog.Logger) error {
	type cached struct {
		n    int
		err  error
		took time.Duration
	}
	dests := make(chan cached, 1)
	go func() {
		start := time.Now()
		n, err := tr.RestoreDestinations(ctx)
		dests <- cached{n, err, time.Since(start)}
	}()
	err := tr.Restore(ctx)
	d := <-dests
	if d.err != nil {
		log.Warn("restoring cached destinations", "err", d.err)
	}
	log.Info("destination cache restored", "read", d.n, "cached", tr.Destinations().Len(), "took", d.took.Round(time.Millisecond))
	return err
}

// trackerHandler routes the tracker paths to the HTTP transport (when
// enabled) and everything else to the public pages. It is also an
// httptracker.Responder, so an httptracker.Server answers announces and
// scrapes without net/http.
func (p *Plugin) trackerHandler(pages http.Handler) http.Handler {
	return trackerRoutes{p: p, pages: pages}
}

type trackerRoutes struct {
	p     *Plugin
	pages http.Handler
}

func (t trackerRoutes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !httptracker.IsAnnouncePath(r.URL.Path) && !httptracker.IsScrapePath(r.URL.Path) {
		t.pages.ServeHTTP(w, r)
		return
	}
	if h := t.p.httpTransport(); h != nil {
		h.ServeHTTP(w, r)
		return
	}
	http.Error(w, httpDisabled, http.StatusNotFound)
}

// Respond answers the tracker paths (the transport tells them apart);
// pages are left to ServeHTTP.
func (t trackerRoutes) Respond(dst []byte, r *httptracker.Request) (int, []byte, bool) {
	if h := t.p.httpTransport(); h != nil {
		return h.Respond(dst, r)
	}
	if !httptracker.IsAnnouncePath(r.Path) && !httptracker.IsScrapePath(r.Path) {
		return 0, dst, false
	}
	return http.StatusNotFound, append(dst, httpDisabled+"\n"...), true
}

const httpDisabled = "HTTP announces are disabled on this tracker; use UDP"

// httpTransport is the HTTP transport while HTTP announces are enabled.
func (p *Plugin) httpTransport() *httptracker.Handler {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.cfg.HTTP {
		return nil
	}
	return p.http
}

// Stop flushes and closes everything. The plugin can Start again.
func (p *Plugin) Stop(ctx context.Context) error {
	p.mu.Lock()
	if !p.running {
		p.mu.Unlock()
		return nil
	}
	p.running = false
	cancel, st := p.cancel, p.store
	p.mu.Unlock()
	cancel()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("plugin: stop: %w", ctx.Err())
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("plugin: close store: %w", err)
	}
	p.opts.Logger.Info("tracker stopped; state flushed")
	return nil
}

// Tracker returns the running swarm model (nil when stopped).
func (p *Plugin) Tracker() *tracker.Tracker {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tracker
}

// Session returns the I2CP session (nil when stopped).
func (p *Plugin) Session() *i2cp.Session {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.session
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
	st := p.store
	p.mu.Unlock()
	if st == nil {
		return errors.New("plugin: not running")
	}
	return st.Flush(ctx)
}

func (p *Plugin) udpURL() string {
	return fmt.Sprintf("udp://%s:%d/", p.keys.Destination.B32(), p.cfg.TrackerPort)
}

func (p *Plugin) httpURL() string { return fmt.Sprintf("http://%s/a", p.keys.Destination.B32()) }

// URLs returns the announce URLs.
func (p *Plugin) URLs() (udp, http string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.udpURL(), p.httpURL()
}

func sessionOptions(cfg Config) i2p.Mapping {
	q, l := fmt.Sprint(cfg.TunnelQuantity), fmt.Sprint(cfg.TunnelLength)
	return i2p.Mapping{
		{Key: "inbound.quantity", Value: q}, {Key: "outbound.quantity", Value: q},
		{Key: "inbound.length", Value: l}, {Key: "outbound.length", Value: l},
	}
}

// LoadOrCreateIdentity reads DIR/eepPriv.dat, creating a new identity
// when there is none. An existing file is never replaced.
func LoadOrCreateIdentity(dir string) (*i2p.PrivateKeys, bool, error) {
	path := filepath.Join(dir, KeyFileName)
	keys, err := i2p.ReadPrivateKeyFile(path)
	if err == nil {
		return keys, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	keys, err = i2p.NewIdentity(rand.Reader)
	if err != nil {
		return nil, false, err
	}
	if err := i2p.WritePrivateKeyFile(path, keys); err != nil {
		return nil, false, err
	}
	return keys, true, nil
}

// applySetting changes one setting, persists the config file and applies
// it live where that is safe.
func (p *Plugin) applySetting(key, value string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running {
		return false, errors.New("tracker not running")
	}
	for _, s := range settings {
		if s.key != key {
			continue
		}
		next := p.cfg
		if err := s.set(&next, value); err != nil {
			return false, err
		}
		if err := next.Validate(); err != nil {
			return false, err
		}
		if err := SaveConfig(p.host.DataDir(), next); err != nil {
			return false, err
		}
		if s.restart {
			p.restart = append(p.restart, s.label)
			// The running tracker keeps the old value; the file has the new.
			p.cfg = withRestartField(p.cfg, next, key)
			return true, nil
		}
		p.cfg = next
		p.tracker.SetInterval(time.Duration(next.Interval)*time.Second, next.Expiry())
		p.tracker.SetDefaultWant(next.MaxPeers)
		p.http.SetFullScrape(next.FullScrape)
		p.http.SetStrict(next.StrictDests)
		p.udpOn.Store(next.UDP)
		return false, nil
	}
	return false, fmt.Errorf("unknown setting %q", key)
}

// withRestartField keeps the running config but records the saved value
// so the console shows what will apply after a restart.
func withRestartField(running, saved Config, key string) Config {
	for _, s := range settings {
		if s.key == key {
			_ = s.set(&running, s.get(&saved))
		}
	}
	return running
}
