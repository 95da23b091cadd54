package plugin

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/i2p"
)

// records is a slog handler that keeps every record's level and message.
type records struct {
	mu   sync.Mutex
	list []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.list = append(r.list, rec)
	r.mu.Unlock()
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

// count is how many records at level begin with prefix.
func (r *records) count(level slog.Level, prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.list {
		if rec.Level == level && strings.HasPrefix(rec.Message, prefix) {
			n++
		}
	}
	return n
}

// waitFor polls cond every 10 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReachWithSimulator: a tracker on the simulator is healthy only
// once its probe arrived; the console, /metrics and the log agree; the
// probe session is closed after and leaves the clients' counters alone;
// a reconnect is logged once and probed again.
func TestReachWithSimulator(t *testing.T) {
	router, err := i2cptest.NewRouter("127.0.0.1:0", i2cptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()
	logs := &records{}
	h := newTestHost(t, t.TempDir(), router)
	p, err := New(h, Options{Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer p.Stop(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.WaitReachable(ctx); err != nil {
		t.Fatalf("not reachable: %v (%v)", err, p.ReachStats())
	}
	st := consoleSource{p}.Status()
	if !st.Router.Healthy || st.Router.State != ReachReached.String() {
		t.Fatalf("console says %+v", st.Router)
	}
	srv := httptest.NewServer(metricsHandler(p, nil))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "\nopentracker_router_up 1\n") || !strings.Contains(string(body), "HELP opentracker_router_up 1 while the tracker is reachable") {
		t.Fatalf("metrics disagree with the console:\n%s", body)
	}
	if rs := p.ReachStats(); rs.Sessions != 1 || rs.Arrived != 1 || rs.Sent < 1 || rs.Fallbacks != 0 {
		t.Fatalf("reach stats %+v", rs)
	}
	waitFor(t, 5*time.Second, "probe session closed", func() bool { return router.Stats().Sessions == 1 })
	if c := st.Counters; c.UDPConnects+c.UDPAnnounces+c.UDPScrapes != 0 || len(st.Problems) != 0 {
		t.Fatalf("the probe shows in the clients' counters: %+v %+v", c, st.Problems)
	}
	for _, msg := range []string{"i2cp: session created", "i2cp: LeaseSet published", "reachable on I2P"} {
		if n := logs.count(slog.LevelInfo, msg); n != 1 {
			t.Errorf("%q logged %d times at info", msg, n)
		}
	}

	// The link drops: down, reconnected, published and reached again,
	// each once more.
	router.DropConnections()
	waitFor(t, 20*time.Second, "probed after the reconnect", func() bool { return p.ReachStats().Arrived == 2 })
	waitFor(t, 5*time.Second, "healthy again", func() bool { return consoleSource{p}.Status().Router.Healthy })
	want := map[string]int{"i2cp: router link down": 1, "i2cp: reconnected to the router": 1, "i2cp: LeaseSet published": 2, "reachable on I2P": 2}
	for msg, n := range want {
		if got := logs.count(slog.LevelInfo, msg); got != n {
			t.Errorf("%q logged %d times at info, want %d", msg, got, n)
		}
	}
}

// probedSession runs a session of a fresh identity on router with a
// prober under timing, until the test ends.
func probedSession(t *testing.T, router *i2cptest.Router, auto, legacy bool, timing reachTiming) (*i2cp.Session, *prober, *records) {
	t.Helper()
	keys, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	logs := &records{}
	log := slog.New(logs)
	link := i2cp.Config{Addr: router.Addr(), Logger: log, MinBackoff: 10 * time.Millisecond}
	var pr *prober
	sc := link
	sc.LegacyLeaseSet = legacy
	sc.OnState = func(st i2cp.State) {
		if pr != nil {
			pr.onState(st)
		}
	}
	sess, err := i2cp.NewSession(keys, sc)
	if err != nil {
		t.Fatal(err)
	}
	pr = newProber(sess, auto, timing, log, newProbeSession(link, DefaultConfig(), log))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); sess.Run(ctx) }()
	go func() { defer wg.Done(); pr.run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return sess, pr, logs
}

var fastReach = reachTiming{every: 50 * time.Millisecond, fallback: 500 * time.Millisecond, bound: time.Second, tunnels: 300 * time.Millisecond,
	retry: 200 * time.Millisecond, retryMax: 800 * time.Millisecond}

// TestReachAutoFallback: on a router that cannot reach a LeaseSet2 the
// auto mode republishes the older LeaseSet, says why once, and ends
// reachable.
func TestReachAutoFallback(t *testing.T) {
	router, err := i2cptest.NewRouter("127.0.0.1:0", i2cptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()
	router.SetLeaseSet2Unreachable(true)
	sess, pr, logs := probedSession(t, router, true, false, fastReach)
	waitFor(t, 20*time.Second, "reached after the fallback", func() bool { return pr.Status().State == ReachReached })
	if !sess.LegacyLeaseSet() {
		t.Fatal("reached without the older LeaseSet on a router that cannot find a LeaseSet2")
	}
	rs := pr.Stats()
	if rs.Fallbacks != 1 || rs.Arrived != 1 || rs.Rounds != 2 || rs.Sessions != 2 {
		t.Fatalf("reach stats %+v", rs)
	}
	if d := pr.Status().Detail; !strings.Contains(d, "republished the older LeaseSet") {
		t.Fatalf("the console does not say what auto did: %q", d)
	}
	if n := logs.count(slog.LevelInfo, "republishing the older LeaseSet"); n != 1 {
		t.Fatalf("fallback logged %d times", n)
	}
	if n := logs.count(slog.LevelInfo, "i2cp: reconnecting to the router"); n != 1 {
		t.Fatalf("relink logged %d times", n)
	}
	if router.Stats().Dropped == 0 {
		t.Fatal("the simulator dropped no probe to the LeaseSet2")
	}
}

// TestReachExplicitLeaseSet2: legacy_leaseset false keeps the LeaseSet2;
// the tracker is then published but not reached, and says so.
func TestReachExplicitLeaseSet2(t *testing.T) {
	router, err := i2cptest.NewRouter("127.0.0.1:0", i2cptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()
	router.SetLeaseSet2Unreachable(true)
	sess, pr, logs := probedSession(t, router, false, false, fastReach)
	waitFor(t, 20*time.Second, "given up", func() bool { return pr.Status().State == ReachUnreached })
	if sess.LegacyLeaseSet() || pr.Stats().Fallbacks != 0 || pr.Stats().Arrived != 0 {
		t.Fatalf("explicit false fell back: %+v", pr.Stats())
	}
	if logs.count(slog.LevelWarn, "not reachable on I2P") != 1 {
		t.Fatal("not reached, not logged")
	}
}

// TestReachTunnelsNeverBuild: a session up with no LeaseSet request
// names the tunnels, once, with what to check.
func TestReachTunnelsNeverBuild(t *testing.T) {
	router, err := i2cptest.NewRouter("127.0.0.1:0", i2cptest.Options{LeaseSetDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()
	sess, pr, logs := probedSession(t, router, true, false, fastReach)
	waitFor(t, 10*time.Second, "tunnels named", func() bool { return logs.count(slog.LevelWarn, "no LeaseSet requested") == 1 })
	if _, stuck := pr.tunnelsStuck(time.Now()); !stuck || sess.State().Phase != i2cp.PhaseSessionUp {
		t.Fatalf("stuck %v in %v", stuck, sess.State())
	}
	r := &run{session: sess, reach: pr}
	if h := r.health(time.Now()); h.Healthy || !strings.Contains(h.Detail, "inbound.length=0") {
		t.Fatalf("health %+v", h)
	}
	time.Sleep(3 * fastReach.tunnels)
	if n := logs.count(slog.LevelWarn, "no LeaseSet requested"); n != 1 {
		t.Fatalf("tunnels named %d times", n)
	}
}

// TestReachRetriesUntilReached: a tracker no probe reached in its first
// round keeps probing at growing, bounded waits, and says it is
// reachable once the router starts delivering, with one warning and one
// arrival logged.
func TestReachRetriesUntilReached(t *testing.T) {
	router, err := i2cptest.NewRouter("127.0.0.1:0", i2cptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()
	router.SetLeaseSet2Unreachable(true)
	_, pr, logs := probedSession(t, router, false, false, fastReach)
	waitFor(t, 20*time.Second, "first round given up", func() bool { return pr.Status().State == ReachUnreached })
	waitFor(t, 20*time.Second, "rounds go on", func() bool { return pr.Stats().Rounds >= 4 })
	if st := pr.Status(); st.State != ReachUnreached {
		t.Fatalf("state %v while the router still drops every probe", st.State)
	}
	router.SetLeaseSet2Unreachable(false)
	waitFor(t, 20*time.Second, "reached once the router delivers", func() bool { return pr.Status().State == ReachReached })
	if n := logs.count(slog.LevelWarn, "not reachable on I2P"); n != 1 {
		t.Errorf("unreached warned %d times, want once", n)
	}
	if n := logs.count(slog.LevelInfo, "reachable on I2P"); n != 1 {
		t.Errorf("arrival logged %d times, want once", n)
	}
	rounds := pr.Stats().Rounds
	time.Sleep(3 * fastReach.retryMax)
	if got := pr.Stats().Rounds; got != rounds {
		t.Fatalf("probing went on after the tracker was reached: %d rounds, then %d", rounds, got)
	}
}
