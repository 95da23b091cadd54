package plugin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/console"
	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/store"
	"github.com/go-i2p/go-opentracker/tracker"
	"github.com/go-i2p/go-opentracker/tracker/accesslist"
	"github.com/go-i2p/go-opentracker/tracker/httptracker"
	"github.com/go-i2p/go-opentracker/tracker/ratelimit"
	"github.com/go-i2p/go-opentracker/tracker/udptracker"
)

// run is what one Start owns until its Stop: the store, the swarm model,
// the router session, the transports and the console, and the
// goroutines that drive them.
type run struct {
	store   *store.Store
	tracker *tracker.Tracker
	session *i2cp.Session
	reach   *prober // measures whether the session can be reached
	udp     *udptracker.Server
	http    *httptracker.Handler
	stream  *streamServer // HTTP over I2P streaming on the session
	console *console.Console
	// limits are the per-sender request limits; HTTP requests are
	// charged to ratelimit.HTTP by whoever knows their sender.
	limits  *ratelimit.Limits
	access  *accesslist.Lists
	udpOn   atomic.Bool // the udp setting in force
	gate    *gate       // shared by every liveState of this run
	started time.Time
	log     *slog.Logger

	cancel context.CancelFunc
	done   chan struct{} // closed when the run's goroutines have ended
}

// ErrData marks a data directory the tracker must not use as it is: its
// store is damaged or was written by a newer version, or its key file is
// damaged (see AddressFileName). A host tells it
// apart from a runtime failure with errors.Is (the standalone binary
// exits 65, EX_DATAERR, on it).
var ErrData = errors.New("data directory unusable")

// readCoalesce lets a trickle of datagrams gather before the session
// reads again: replies wait at most this long, a few hundredths of a
// tunnel's round trip, and a tracker under a steady moderate load wakes
// once per batch of announces instead of once each.
const readCoalesce = time.Millisecond

// newRun opens the store under dir, restores the swarms into a new
// tracker and builds the session, transports and console on them; what
// it opened it closes again if a later step fails. The run's goroutines
// start with start.
func (p *Plugin) newRun(ctx context.Context, dir string, cfg Config, keys *i2p.PrivateKeys) (_ *run, err error) {
	log := p.opts.Logger
	st, err := openStore(dir, cfg, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	r := &run{store: st, gate: &gate{}, limits: ratelimit.New(ratelimit.Config{Limits: cfg.RequestLimits()}), access: accesslist.New(dir), log: log}
	if _, err := r.access.Reload(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	r.tracker = tracker.New(tracker.Config{
		Interval: time.Duration(cfg.Interval) * time.Second, PeerExpiry: cfg.Expiry(), DefaultWant: cfg.MaxPeers,
		MaxSwarms: cfg.MaxSwarms, MaxPeersPerSwarm: cfg.MaxPeersPerSwarm, MaxSwarmsPerPeer: cfg.MaxSwarmsPerPeer,
		SwarmCreations: cfg.SwarmCreations(), DestinationCache: cfg.DestinationCache, Logger: log,
		Bids: tracker.BidConfig{On: cfg.Bids},
	}, st)
	r.tracker.SetAccessList(r.access)
	if err := restore(ctx, r.tracker, log); err != nil {
		return nil, err
	}
	secret, err := st.Secret(ctx)
	if err != nil {
		return nil, err
	}
	link := i2cp.Config{Dial: p.host.DialI2CP, Addr: p.opts.I2CPAddr, Username: cfg.I2CPUsername, Password: cfg.I2CPPassword, Logger: log}
	var pr *prober // set before the session runs; NewSession's own first state needs none
	sc := link
	sc.Options, sc.Coalesce = sessionOptions(cfg), readCoalesce
	sc.LegacyLeaseSet = cfg.LegacyLeaseSet == LeaseSetLegacy
	sc.OnState = func(st i2cp.State) {
		if pr != nil {
			pr.onState(st)
		}
	}
	r.session, err = i2cp.NewSession(keys, sc)
	if err != nil {
		return nil, err
	}
	// Auto falls back to the older LeaseSet only where it can be signed.
	auto := cfg.LegacyLeaseSet == LeaseSetAuto && keys.Offline == nil
	pr = newProber(r.session, auto, defaultReachTiming(), log, newProbeSession(link, cfg, log))
	r.reach = pr
	r.udp, err = udptracker.NewServer(udptracker.Config{Port: cfg.TrackerPort, Lifetime: cfg.Lifetime, Limits: r.limits, Logger: log},
		keys.Destination.Hash(), secret, r.tracker, r.session)
	if err != nil {
		return nil, err
	}
	r.udpOn.Store(cfg.UDP)
	handle := func(m *i2cp.Message) {
		if r.udpOn.Load() {
			r.udp.HandleMessage(m.Protocol, m.FromPort, m.ToPort, m.Payload)
		}
	}
	r.session.Handle(datagram.ProtocolDatagram2, cfg.TrackerPort, handle)
	r.session.Handle(datagram.ProtocolDatagram3, cfg.TrackerPort, handle)
	// Registered only to drop them visibly: repliable-but-replayable
	// Datagram1 is not accepted on the tracker port.
	r.session.Handle(datagram.ProtocolDatagram1, cfg.TrackerPort, handle)
	r.http = httptracker.New(httptracker.Config{FullScrape: cfg.FullScrape, Strict: cfg.StrictDests, Limits: r.limits, Logger: log}, r.tracker)
	r.stream, err = newStreamServer(r.session, keys, cfg, trackerRoutes{p}, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			r.stream.m.Close()
		}
	}()

	src := consoleSource{p}
	r.console, err = console.New(src, console.Options{Title: p.manifest.ConsoleLinkName, Password: cfg.ConsolePassword,
		SampleEvery: p.opts.ConsoleSampleEvery, Hosts: p.opts.ConsoleHosts, Keeper: st, Logger: log})
	if err != nil {
		return nil, err
	}
	r.console.Handle("/metrics", metricsHandler(p, r.console))
	r.console.Handle("/stats", console.StatsHandler(src, time.Now))
	return r, nil
}

// openStore opens the store in dir; a store that is damaged or from a
// newer version is an error that wraps ErrData.
func openStore(dir string, cfg Config, log *slog.Logger) (*store.Store, error) {
	st, err := store.Open(filepath.Join(dir, "store"), store.Options{
		PeerTTL: cfg.Expiry(), FlushInterval: time.Duration(cfg.FlushSeconds) * time.Second, Logger: log,
	})
	if errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrNewerSchema) {
		return nil, fmt.Errorf("%w: %w", ErrData, err)
	}
	return st, err
}

// accessPoll is how often the access lists' files are checked for edits.
const accessPoll = 5 * time.Second

// start runs the session, the reachability probe, the expiry, the
// access lists' watch and the console until close.
func (r *run) start(log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	r.udp.SetContext(ctx)
	r.cancel, r.done, r.started = cancel, make(chan struct{}), time.Now()
	r.stream.start(r.log)
	var wg sync.WaitGroup
	wg.Add(5)
	go func() { defer wg.Done(); r.session.Run(ctx) }()
	go func() { defer wg.Done(); r.reach.run(ctx) }()
	go func() { defer wg.Done(); r.tracker.Run(ctx) }()
	go func() { defer wg.Done(); r.console.Run(ctx) }()
	go func() { defer wg.Done(); r.access.Watch(ctx, accessPoll, log) }()
	go func() { wg.Wait(); close(r.done) }()
}

// live is what the mounted handlers serve of this run under cfg.
func (r *run) live(cfg Config) *liveState {
	l := &liveState{console: r.console.Handler(), gate: r.gate}
	if cfg.HTTP {
		l.http = r.http
	}
	return l
}

// close ends the run's goroutines, waits for the HTTP announces that
// found the run, and closes the store (which flushes it).
func (r *run) close() error {
	r.stream.close() // no more HTTP exchanges over streaming
	r.cancel()
	<-r.done       // the session, the expiry and the console have ended
	r.gate.close() // and so have the HTTP announces that found the run
	return r.store.Close()
}

// applyLive hands the live settings in cfg to the run's parts.
func (r *run) applyLive(cfg Config) {
	r.tracker.SetInterval(time.Duration(cfg.Interval)*time.Second, cfg.Expiry())
	r.store.SetPeerTTL(cfg.Expiry())
	r.tracker.SetDefaultWant(cfg.MaxPeers)
	r.http.SetFullScrape(cfg.FullScrape)
	r.tracker.SetBids(cfg.Bids)
	r.http.SetStrict(cfg.StrictDests)
	r.udpOn.Store(cfg.UDP)
	for k, lim := range cfg.RequestLimits() {
		r.limits.Set(ratelimit.Kind(k), lim)
	}
	r.tracker.SetSwarmCreations(cfg.SwarmCreations())
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

// sessionOptions are the I2CP session options cfg sets.
func sessionOptions(cfg Config) i2p.Mapping {
	q, l := fmt.Sprint(cfg.TunnelQuantity), fmt.Sprint(cfg.TunnelLength)
	return i2p.Mapping{
		{Key: "inbound.quantity", Value: q}, {Key: "outbound.quantity", Value: q},
		{Key: "inbound.length", Value: l}, {Key: "outbound.length", Value: l},
	}
}

// gate keeps a run's store open while HTTP announces that found the run
// are answered (an announce journals to the store): each holds it shared,
// and the store is closed only once the close has taken it alone, after
// which announces that arrive late get 503.
type gate struct {
	mu   sync.RWMutex
	shut bool
}

// enter reports whether the run still answers; if so, leave must follow.
func (g *gate) enter() bool {
	g.mu.RLock()
	if g.shut {
		g.mu.RUnlock()
		return false
	}
	return true
}

func (g *gate) leave() { g.mu.RUnlock() }

// close waits for the announces inside and turns later ones away.
func (g *gate) close() {
	g.mu.Lock()
	g.shut = true
	g.mu.Unlock()
}
