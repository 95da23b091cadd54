package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/loadgen"
)

// bench is one run: the tracker under test, the transport, the engine.
type bench struct {
	o      options
	stderr io.Writer
	w      *loadgen.Workload
	rep    *loadgen.Report
	e      *loadgen.Engine

	pid      int
	statsURL string
	target   string

	ot      *opentracker
	router  *i2cptest.Router
	gt      *goTracker
	dataDir string
	hash    i2p.Hash

	i2cp    *i2cpNet
	stream  *streamNet
	async   []loadgen.AsyncConn
	sync    []loadgen.SyncConn
	closers []func()
}

// measure runs the phases o asks for and returns the report (also when
// a phase fails part way, with what was measured).
func measure(ctx context.Context, o options, stderr io.Writer) (*loadgen.Report, error) {
	w, err := loadgen.NewWorkload(o.workload)
	if err != nil {
		return nil, err
	}
	b := &bench{o: o, stderr: stderr, w: w, rep: newReport(o, w), target: o.target, pid: o.pid}
	defer b.close()
	if err := b.startTracker(ctx); err != nil {
		return nil, err
	}
	if err := b.connect(); err != nil {
		return nil, err
	}
	err = b.phases(ctx)
	if b.router != nil {
		st := b.router.Stats()
		delivery := "frames to the tracker: those queued together go out in one write"
		if o.delivery.eachFrame {
			delivery = "frames to the tracker: one per write"
		}
		b.rep.Notes = append(b.rep.Notes, delivery)
		b.rep.Notes = append(b.rep.Notes, fmt.Sprintf("the router delivered %d messages, dropped %d, answered %d HostLookups", st.Delivered, st.Dropped, st.Lookups))
	}
	if b.stream != nil && b.stream.bad.Load()+b.stream.unknown.Load() > 0 {
		b.rep.Notes = append(b.rep.Notes, fmt.Sprintf("%d messages from the tracker were not streaming packets, %d for no client", b.stream.bad.Load(), b.stream.unknown.Load()))
	}
	if b.i2cp != nil && b.i2cp.bad.Load() > 0 {
		b.rep.Notes = append(b.rep.Notes, fmt.Sprintf("%d messages from the tracker were not raw datagrams", b.i2cp.bad.Load()))
	}
	return b.rep, err
}

func (b *bench) close() {
	for _, c := range b.closers {
		c()
	}
	if b.gt != nil {
		b.gt.stop()
	}
	if b.ot != nil {
		b.ot.stop()
	}
	if b.router != nil {
		b.router.Close()
	}
	if b.dataDir != "" && b.o.dataDir == "" {
		os.RemoveAll(b.dataDir)
	}
}

// startTracker starts the tracker otload was asked to start, or finds
// the one it is pointed at.
func (b *bench) startTracker(ctx context.Context) error {
	o := b.o
	switch {
	case o.opentracker != "":
		ot, err := startOpentracker(o.opentracker, b.w, o.trackerCPUs)
		if err != nil {
			return err
		}
		b.ot, b.target, b.pid, b.statsURL = ot, ot.addr(), ot.pid(), ot.statsURL()
		b.rep.Tracker = or(o.name, "opentracker")
	case o.mode == "i2cp" || o.mode == "stream" || o.spawn != "":
		r, err := i2cptest.NewRouter(o.listen, i2cptest.Options{QueueLen: 1 << 17, WriteEach: o.delivery.eachFrame})
		if err != nil {
			return err
		}
		b.router = r
		if o.spawn == "" {
			fmt.Fprintf(b.stderr, "otload: playing the I2P router on %s: start the tracker with --i2cp %s\n", r.Addr(), r.Addr())
			if b.hash, err = waitSession(ctx, r, o.wait); err != nil {
				return err
			}
			b.rep.Tracker = or(o.name, "tracker on I2CP")
			break
		}
		b.dataDir = o.dataDir
		if b.dataDir == "" {
			if b.dataDir, err = os.MkdirTemp("", "otload-tracker-"); err != nil {
				return err
			}
		}
		if err := b.writeTrackerConfig(); err != nil {
			return err
		}
		if err := b.startGoTracker(ctx); err != nil {
			return err
		}
		b.rep.Tracker = or(o.name, "go-opentracker")
		if o.mode == "http" {
			b.target = b.gt.httpAddr
		}
	default:
		b.rep.Tracker = or(o.name, "tracker")
	}
	b.rep.Target = b.target
	switch o.mode {
	case "i2cp":
		b.rep.Target = "I2CP " + b.router.Addr() + " (otload is the router)"
	case "stream":
		b.rep.Target = "HTTP over I2P streaming, I2CP " + b.router.Addr() + " (otload is the router)"
	}
	b.rep.TrackerPID = b.pid
	return nil
}

// writeTrackerConfig lets every client of the workload into one swarm:
// Zipf puts about a tenth of them in the most popular torrent, more than
// go-opentracker's default cap of 100,000 peers per swarm at a million
// clients. opentracker has no such cap.
func (b *bench) writeTrackerConfig() error {
	path := filepath.Join(b.dataDir, "go-opentracker.yaml")
	if _, err := os.Stat(path); err == nil {
		return nil // the operator's own
	}
	n := max(100_000, b.w.Clients())
	if n > 100_000 {
		b.rep.Notes = append(b.rep.Notes, fmt.Sprintf("the started go-opentracker has max_peers_per_swarm %d (default 100,000) so the workload's top swarm fits", n))
	}
	cfg := fmt.Appendf(nil, "max_peers_per_swarm: %d\n", n)
	if b.o.mode == "stream" {
		// The path is measured, not zzzot's connection limits.
		cfg = fmt.Appendf(cfg, "max_streams: %d\nmax_conns_per_minute: 0\nmax_conns_per_hour: 0\nmax_total_conns_per_minute: 0\n", max(4096, 2*b.o.hold))
		b.rep.Notes = append(b.rep.Notes, "the started go-opentracker has its stream rate limits off")
	}
	return os.WriteFile(path, cfg, 0o600)
}

func (b *bench) startGoTracker(ctx context.Context) error {
	gt, err := startGoTracker(b.o.spawn, b.dataDir, b.router.Addr(), b.o.trackerCPUs, b.stderr)
	if err != nil {
		return err
	}
	b.gt, b.pid, b.statsURL, b.hash = gt, gt.pid(), gt.statsURL(), gt.hash
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	return b.router.WaitPublished(wctx, gt.hash)
}

// connect makes the engine and the transport.
func (b *bench) connect() error {
	o := b.o
	cfg := o.engine
	switch o.mode {
	case "udp":
		// A tracker on IP knows a peer by address and port: each worker
		// has an address, its clients the ports 1..65535.
		cfg.Workers = max(cfg.Workers, (b.w.Clients()+maxPortsPerAddress-1)/maxPortsPerAddress)
		workers := cfg.Workers
		cfg.PeerPort = func(c int32) uint16 { return clientPort(c, workers) }
		cfg.PeerLen = 6
	case "i2cp", "stream":
		cfg.PeerLen = 32
	case "http":
		if b.w.Clients() > httpAddresses*maxPortsPerAddress {
			return fmt.Errorf("http mode has at most %d clients", httpAddresses*maxPortsPerAddress)
		}
		cfg.PeerLen = 6
		if o.i2pIP {
			cfg.PeerLen = 32
		}
	}
	if b.pid > 0 {
		p, err := loadgen.NewProc(b.pid)
		if err != nil {
			return err
		}
		cfg.Tracker = p
	}
	e, err := loadgen.NewEngine(b.w, cfg)
	if err != nil {
		return err
	}
	b.e = e
	b.rep.Engine = e.Summary()
	switch o.mode {
	case "udp":
		n, err := dialUDP(b.target, cfg.Workers, e)
		if err != nil {
			return err
		}
		b.async = n.asyncConns()
		b.closers = append(b.closers, n.close)
	case "i2cp":
		b.i2cp = newI2CPNet(b.router, b.hash, uint16(o.port), b.w, e, o.register)
		b.async = b.i2cp.asyncConns(cfg.Workers)
	case "http":
		b.rep.Engine.Workers, b.rep.Engine.Window = o.conns, 1
		b.sync = newHTTPConns(b.w, b.target, o.path, o.conns, o.keepAlive, o.i2pIP)
	case "stream":
		dest, err := trackerDestination(b.router, b.hash)
		if err != nil {
			return err
		}
		b.rep.Engine.Workers, b.rep.Engine.Window = o.conns, 1
		b.stream = newStreamNet(b.router, dest, b.w)
		b.sync = b.stream.syncConns(o.conns, b.w, o.path)
		b.closers = append(b.closers, b.stream.close)
	}
	return nil
}

// phases runs connect, populate, steady and the memory and restart
// measurements that o asks for.
func (b *bench) phases(ctx context.Context) error {
	o := b.o
	var idle loadgen.ProcSample
	if o.mem {
		if b.e.Config().Tracker == nil {
			return errors.New("-mem needs the tracker's pid: start it with -opentracker or -spawn, or give -pid")
		}
		if !loadgen.Sleep(ctx, time.Second) {
			return ctx.Err()
		}
		idle, _ = b.e.Config().Tracker.Sample()
	}
	if b.async != nil {
		if err := b.phase(ctx, loadgen.PhaseConnect, loadgen.Limits{}); err != nil {
			return err
		}
	}
	if o.populate {
		if err := b.phase(ctx, loadgen.PhasePopulate, loadgen.Limits{}); err != nil {
			return err
		}
	}
	if o.mem {
		if !loadgen.Sleep(ctx, o.settle) {
			return ctx.Err()
		}
		loaded, err := b.e.Config().Tracker.Sample()
		if err != nil {
			return err
		}
		b.rep.Memory = loadgen.NewMemory(b.w.Clients(), b.w.Pairs(), peerCount(ctx, b.statsURL), idle, loaded)
	}
	if o.duration > 0 || o.requests > 0 {
		if err := b.phase(ctx, loadgen.PhaseSteady, loadgen.Limits{Duration: o.duration, Requests: o.requests}); err != nil {
			return err
		}
	}
	if o.hold > 0 {
		if err := b.holdStreams(ctx); err != nil {
			return err
		}
	}
	if o.restart {
		return b.restartTracker(ctx)
	}
	return nil
}

// holdStreams opens o.hold streams that stay open and notes the
// tracker's RSS per open stream.
func (b *bench) holdStreams(ctx context.Context) error {
	p := b.e.Config().Tracker
	if p == nil {
		return errors.New("-hold needs the tracker's pid: start it with -spawn, or give -pid")
	}
	if !loadgen.Sleep(ctx, b.o.settle) {
		return ctx.Err()
	}
	before, err := p.Sample()
	if err != nil {
		return err
	}
	release, err := b.stream.holdStreams(ctx, b.o.hold)
	if err != nil {
		return err
	}
	defer release()
	if !loadgen.Sleep(ctx, b.o.settle) {
		return ctx.Err()
	}
	after, err := p.Sample()
	if err != nil {
		return err
	}
	grew := int64(after.Anon) - int64(before.Anon)
	b.rep.Notes = append(b.rep.Notes, fmt.Sprintf("%d streams held open: tracker anonymous RSS %d → %d KiB, %.1f KiB per open stream",
		b.o.hold, before.Anon>>10, after.Anon>>10, float64(grew)/1024/float64(b.o.hold)))
	return nil
}

func (b *bench) phase(ctx context.Context, p loadgen.Phase, lim loadgen.Limits) error {
	var (
		res *loadgen.PhaseResult
		err error
	)
	if b.async != nil {
		res, err = b.e.RunAsync(ctx, p, lim, b.async)
	} else {
		res, err = b.e.RunSync(ctx, p, lim, b.sync)
	}
	if res != nil {
		b.rep.Phases = append(b.rep.Phases, res)
		var sent, answered uint64
		for _, k := range res.Kinds {
			sent += k.Sent
			answered += k.Answered
		}
		fmt.Fprintf(b.stderr, "otload: %s phase: %d sent, %d answered in %.1f s\n", res.Phase, sent, answered, res.Seconds)
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s phase: %w", p, err)
	}
	return ctx.Err()
}

// restartTracker stops the tracker (cleanly: it flushes its store),
// starts it again on the same data directory, and times it from process
// start until its session is published and it counts the peers it had;
// then a short steady phase shows it answers the same clients with the
// connection ids they already hold.
func (b *bench) restartTracker(ctx context.Context) error {
	before := peerCount(ctx, b.statsURL)
	b.gt.stop()
	b.gt = nil
	t0 := time.Now()
	if err := b.startGoTracker(ctx); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	restored := peerCount(ctx, b.statsURL)
	for before > 0 && restored < before && time.Since(t0) < 60*time.Second {
		if !loadgen.Sleep(ctx, 5*time.Millisecond) {
			return ctx.Err()
		}
		restored = peerCount(ctx, b.statsURL)
	}
	took := time.Since(t0)
	p, err := loadgen.NewProc(b.pid)
	if err != nil {
		return err
	}
	s, _ := p.Sample()
	b.rep.Restart = &loadgen.Restart{Seconds: took.Seconds(), PeersBefore: before, PeersRestored: restored, RSSAfter: s.RSS}
	b.rep.TrackerPID = b.pid
	b.e.SetTracker(p)
	return b.phase(ctx, loadgen.PhaseSteady, loadgen.Limits{Requests: int64(min(b.w.Clients(), 10000)), Duration: 30 * time.Second})
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
