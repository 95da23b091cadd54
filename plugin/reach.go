package plugin

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2p"
)

// Reachability is measured, not assumed: a router that accepts and
// publishes the tracker's LeaseSet may still route nothing to it (i2pd
// before 2.48 cannot find a LeaseSet2 in its own netDb). After every
// publication a prober opens a short-lived second session on the same
// router, with a throwaway Destination, and sends the tracker raw
// datagrams carrying a random nonce on probePort until one arrives. Until
// then the tracker is "published, not yet reached"; healthy means
// reached.

// probePort is the I2P port, under the raw protocol, that probes go to.
// The tracker serves nothing else on raw datagrams.
const probePort = 7

// probeMagic opens a probe's payload; the nonce follows.
const probeMagic = "go-opentracker reach probe\x00"

// Reach is where the tracker's reachability stands.
type Reach int

// The reach states, in the order a healthy start goes through them.
const (
	ReachUnpublished Reach = iota // no LeaseSet published on the current link
	ReachProbing                  // published, not yet reached
	ReachReached                  // a probe arrived: clients on the router reach the tracker
	ReachUnreached                // no probe arrived within a round's bound; rounds go on, further apart
)

func (r Reach) String() string {
	return [...]string{"not published", "published, not yet reached", "reachable", "published, not reached"}[r]
}

// reachTiming bounds the prober.
type reachTiming struct {
	every    time.Duration // between probes of one round
	fallback time.Duration // without arrival under a LeaseSet2 before auto republishes the older form
	bound    time.Duration // a round's end without arrival
	tunnels  time.Duration // session up without a LeaseSet request before tunnels are named the cause
	retry    time.Duration // after a round without arrival, before the next; doubled each time
	retryMax time.Duration // the longest wait between rounds
}

// defaultReachTiming keeps the fallback well inside the time i2pd 2.45.1
// takes to give up on a LeaseSet2, and a round well inside what an
// operator waits for at the first start. An unreached tracker tries
// again a minute later, then at doubling waits up to a quarter hour: a
// router that finds its peers late is noticed, and the probe sessions
// stay few.
func defaultReachTiming() reachTiming {
	return reachTiming{every: 3 * time.Second, fallback: 25 * time.Second, bound: 2 * time.Minute, tunnels: 90 * time.Second,
		retry: time.Minute, retryMax: 15 * time.Minute}
}

// ReachStats count the prober's own traffic, apart from the tracker's
// counters for clients.
type ReachStats struct {
	Rounds, Sessions uint64 // probe rounds; probe sessions opened
	Sent, Arrived    uint64 // probes sent; probes that arrived with the nonce awaited
	Late             uint64 // probes that arrived after their round ended (a second copy, or after a timeout)
	Stray            uint64 // other raw datagrams: not probes
	Fallbacks        uint64 // republications of the older LeaseSet by auto
}

// reachStatus is the prober's view for the console.
type reachStatus struct {
	State  Reach
	Detail string
	Since  time.Time
}

// prober follows one run's session and probes it after each publication.
type prober struct {
	sess     *i2cp.Session
	auto     bool // legacy_leaseset: auto
	timing   reachTiming
	log      *slog.Logger
	newProbe func() (*i2cp.Session, error)

	poke    chan struct{} // a session state change; capacity 1
	pubGen  atomic.Uint64 // publications seen
	upSince atomic.Int64  // unix nanoseconds the session came up, 0 when not up
	want    atomic.Pointer[[16]byte]
	arrived chan struct{} // capacity 1

	mu     sync.Mutex
	status reachStatus
	note   string // what auto did, said on the console until the next start

	rounds, sessions, sent, got, late, stray, fallbacks atomic.Uint64
}

func newProber(sess *i2cp.Session, auto bool, timing reachTiming, log *slog.Logger, newProbe func() (*i2cp.Session, error)) *prober {
	pr := &prober{sess: sess, auto: auto, timing: timing, log: log, newProbe: newProbe,
		poke: make(chan struct{}, 1), arrived: make(chan struct{}, 1)}
	pr.status = reachStatus{State: ReachUnpublished, Since: time.Now()}
	sess.Handle(datagram.ProtocolRaw, i2cp.AnyPort, pr.handle) // strays on any port are counted
	return pr
}

// onState is the session's OnState hook: it must return at once.
func (pr *prober) onState(st i2cp.State) {
	switch st.Phase {
	case i2cp.PhaseSessionUp:
		pr.upSince.Store(st.Since.UnixNano())
	case i2cp.PhasePublished:
		pr.upSince.Store(0)
		pr.pubGen.Add(1)
	default:
		pr.upSince.Store(0)
		pr.set(ReachUnpublished, "")
	}
	select {
	case pr.poke <- struct{}{}:
	default:
	}
}

// handle takes a datagram on the probe port; it runs on the session's
// reader and only compares bytes.
func (pr *prober) handle(m *i2cp.Message) {
	want := pr.want.Load()
	p := m.Payload
	if len(p) != len(probeMagic)+16 || string(p[:len(probeMagic)]) != probeMagic {
		pr.stray.Add(1)
		return
	}
	if want == nil || !bytes.Equal(p[len(probeMagic):], want[:]) {
		pr.late.Add(1)
		return
	}
	pr.got.Add(1)
	select {
	case pr.arrived <- struct{}{}:
	default:
	}
}

func (pr *prober) set(s Reach, detail string) {
	pr.mu.Lock()
	if pr.status.State != s || pr.status.Detail != detail {
		pr.status = reachStatus{State: s, Detail: detail, Since: time.Now()}
	}
	pr.mu.Unlock()
}

// Status is the reach state, with what auto did in its detail.
func (pr *prober) Status() reachStatus {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	st := pr.status
	if pr.note != "" {
		st.Detail = joinDetail(st.Detail, pr.note)
	}
	return st
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// Stats copies the prober's counters.
func (pr *prober) Stats() ReachStats {
	return ReachStats{Rounds: pr.rounds.Load(), Sessions: pr.sessions.Load(), Sent: pr.sent.Load(), Arrived: pr.got.Load(),
		Late: pr.late.Load(), Stray: pr.stray.Load(), Fallbacks: pr.fallbacks.Load()}
}

// tunnelsStuck reports how long the session has been up without a
// LeaseSet request, once that is over the bound.
func (pr *prober) tunnelsStuck(now time.Time) (time.Duration, bool) {
	up := pr.upSince.Load()
	if up == 0 {
		return 0, false
	}
	d := now.Sub(time.Unix(0, up))
	return d, d >= pr.timing.tunnels
}

// tunnelAdvice is what an operator checks when the router builds no
// tunnels for the session.
const tunnelAdvice = "the router builds no tunnels for the tracker: check that it has peers (a new router needs minutes to find them) " +
	"and, for a router without peers (offline or a test router), set tunnel_length: 0 (inbound.length=0, outbound.length=0)"

// run probes after each publication until ctx ends; while a
// publication stays unreached it probes again at growing waits.
func (pr *prober) run(ctx context.Context) {
	var probed uint64
	warned := false
	var again <-chan time.Time // the next round of an unreached publication
	wait := pr.timing.retry
	for {
		var tick <-chan time.Time
		if pr.upSince.Load() != 0 && !warned {
			tick = time.After(time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-pr.poke:
		case <-tick:
		case <-again:
			again = nil
			if pr.sess.State().Phase == i2cp.PhasePublished && pr.pubGen.Load() == probed && pr.round(ctx, probed, wait) {
				wait = min(2*wait, pr.timing.retryMax)
				again = time.After(wait)
			}
			continue
		}
		if d, stuck := pr.tunnelsStuck(time.Now()); stuck {
			if !warned {
				pr.log.Warn("no LeaseSet requested: "+tunnelAdvice, "session_up_for", d.Round(time.Second))
				warned = true
			}
			continue
		}
		if pr.sess.State().Phase != i2cp.PhasePublished {
			continue
		}
		gen := pr.pubGen.Load()
		if gen == probed {
			continue
		}
		probed = gen
		warned = false
		wait, again = pr.timing.retry, nil
		if pr.round(ctx, gen, 0) {
			again = time.After(wait)
		}
	}
}

// round probes the published session until a probe arrives, the link
// changes, or the bound passes; under auto with a LeaseSet2 it
// republishes the older LeaseSet after timing.fallback. It reports
// whether the publication stays unreached, to be probed again. A round
// after waited (a retry) leaves the unreached state in place while it
// runs and logs only an arrival.
func (pr *prober) round(ctx context.Context, gen uint64, waited time.Duration) (unreached bool) {
	pr.rounds.Add(1)
	start := time.Now()
	legacy := pr.sess.LegacyLeaseSet()
	if waited == 0 {
		pr.set(ReachProbing, "a probe session on the same router sends the tracker datagrams")
	}
	limit := pr.timing.bound
	if pr.auto && !legacy {
		limit = pr.timing.fallback
	}
	rctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	ok := pr.probe(rctx, gen)
	took := time.Since(start).Round(time.Millisecond)
	switch {
	case ok:
		pr.set(ReachReached, fmt.Sprintf("a probe from another session on the router arrived %s after the round began", took))
		pr.log.Info("reachable on I2P: a probe from another session on the router arrived", "after", took, "legacy_leaseset", legacy,
			"retry", waited != 0)
	case ctx.Err() != nil || pr.pubGen.Load() != gen:
		// stopped, or the link changed: the next publication probes again
	case pr.auto && !legacy:
		pr.fallbacks.Add(1)
		why := fmt.Sprintf("no probe reached the LeaseSet2 in %s (routers like i2pd before 2.48 cannot find a LeaseSet2 locally)", took)
		pr.log.Info("republishing the older LeaseSet (legacy_leaseset: auto): "+why, "after", took)
		pr.mu.Lock()
		pr.note = "legacy_leaseset auto: republished the older LeaseSet because " + why
		pr.mu.Unlock()
		if err := pr.sess.SetLegacyLeaseSet(true); err != nil {
			pr.log.Warn("cannot republish the older LeaseSet", "err", err)
			pr.set(ReachUnreached, why)
			return true
		}
	default:
		detail := fmt.Sprintf("no probe from another session on the router arrived in %s; clients on this router cannot reach the tracker", took)
		pr.set(ReachUnreached, detail+"; probing again, at growing intervals")
		if waited == 0 {
			pr.log.Warn("not reachable on I2P: "+detail, "legacy_leaseset", legacy, "next_try_in", pr.timing.retry)
		}
		return true
	}
	return false
}

// probe runs one probe session until a probe arrives (true), ctx ends
// or the tracker's link changes. The probe session is closed before it
// returns.
func (pr *prober) probe(ctx context.Context, gen uint64) bool {
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return false
	}
	pr.want.Store(&nonce)
	defer pr.want.Store(nil)
	select { // a late arrival of an earlier round is not this one's
	case <-pr.arrived:
	default:
	}
	ps, err := pr.newProbe()
	if err != nil {
		pr.log.Warn("reach probe: no probe session", "err", err)
		return false
	}
	pr.sessions.Add(1)
	pctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); ps.Run(pctx) }()
	defer func() { stop(); <-done }()
	payload := append([]byte(probeMagic), nonce[:]...)
	to := pr.sess.Destination()
	tick := time.NewTicker(pr.timing.every)
	defer tick.Stop()
	for {
		if err := ps.WaitReady(ctx); err != nil {
			return false
		}
		if pr.pubGen.Load() != gen {
			return false
		}
		if ps.Send(to, datagram.ProtocolRaw, 0, probePort, payload) == nil {
			pr.sent.Add(1)
		}
		select {
		case <-pr.arrived:
			return true
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

// newProbeSession is a probe session factory for cfg's router: a fresh
// Destination, one tunnel each way of the tracker's length, logging
// below the tracker's info lines.
func newProbeSession(base i2cp.Config, cfg Config, log *slog.Logger) func() (*i2cp.Session, error) {
	return func() (*i2cp.Session, error) {
		keys, err := i2p.NewIdentity(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("probe identity: %w", err)
		}
		l := fmt.Sprint(cfg.TunnelLength)
		c := base
		c.Options = i2p.Mapping{
			{Key: "inbound.quantity", Value: "1"}, {Key: "outbound.quantity", Value: "1"},
			{Key: "inbound.length", Value: l}, {Key: "outbound.length", Value: l},
			{Key: "inbound.nickname", Value: "go-opentracker-probe"}, {Key: "outbound.nickname", Value: "go-opentracker-probe"},
		}
		c.LegacyLeaseSet, c.OnState, c.OnMessageStatus, c.Coalesce = false, nil, nil, 0
		c.SendQueue = 16
		c.Logger = slog.New(demote{log.Handler()})
		return i2cp.NewSession(keys, c)
	}
}

// demote logs a probe session's records at debug: its link is not the
// tracker's, and an operator follows the tracker's.
type demote struct{ slog.Handler }

func (d demote) Enabled(ctx context.Context, _ slog.Level) bool {
	return d.Handler.Enabled(ctx, slog.LevelDebug)
}

func (d demote) Handle(ctx context.Context, r slog.Record) error {
	r.Level = slog.LevelDebug
	r.Message = "reach probe: " + r.Message
	return d.Handler.Handle(ctx, r)
}

func (d demote) WithAttrs(as []slog.Attr) slog.Handler { return demote{d.Handler.WithAttrs(as)} }
func (d demote) WithGroup(g string) slog.Handler       { return demote{d.Handler.WithGroup(g)} }
