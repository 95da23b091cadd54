package loadgen

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/tracker"
	"github.com/go-i2p/go-opentracker/tracker/udptracker"
)

// fakeTracker answers BEP 15 requests in its own goroutine, as a
// datagram tracker would: a connection id per client, announces checked
// against it, every dropEvery-th announce unanswered.
type fakeTracker struct {
	e         *Engine
	in        chan fakeDatagram
	dropEvery uint64
	rejectNth uint64 // reject the first announce of clients c with c%rejectNth == 0 (once)
	announces atomic.Uint64
	dropped   atomic.Uint64
	badCID    atomic.Uint64
	rejected  sync.Map
	wg        sync.WaitGroup
}

type fakeDatagram struct {
	client int32
	b      []byte
}

func cidOf(c int32) uint64 { return mix64(uint64(c)) | 1 }

func newFakeTracker(e *Engine) *fakeTracker {
	f := &fakeTracker{e: e, in: make(chan fakeDatagram, 4096)}
	f.wg.Add(1)
	go f.serve()
	return f
}

func (f *fakeTracker) close() { close(f.in); f.wg.Wait() }

func (f *fakeTracker) serve() {
	defer f.wg.Done()
	var a udptracker.Announce
	for d := range f.in {
		h, err := udptracker.ParseHeader(d.b)
		if err != nil {
			panic(err)
		}
		var out []byte
		switch h.Action {
		case udptracker.ActionConnect:
			out = udptracker.AppendConnectResponse(nil, h.TransactionID, cidOf(d.client), 600)
		case udptracker.ActionAnnounce:
			if err := udptracker.ParseAnnounce(d.b, &a); err != nil {
				panic(err)
			}
			if a.ConnectionID != cidOf(d.client) {
				f.badCID.Add(1)
				out = udptracker.AppendErrorResponse(nil, h.TransactionID, "bad connection id")
				break
			}
			if f.rejectNth > 0 && uint64(d.client)%f.rejectNth == 0 {
				if _, seen := f.rejected.LoadOrStore(d.client, true); !seen {
					out = udptracker.AppendErrorResponse(nil, h.TransactionID, "try again")
					break
				}
			}
			if n := f.announces.Add(1); f.dropEvery > 0 && n%f.dropEvery == 0 {
				f.dropped.Add(1)
				continue
			}
			out = udptracker.AppendAnnounceResponseHeader(nil, h.TransactionID, 1620, 1, 2)
			out = append(out, make([]byte, 6*3)...)
		case udptracker.ActionScrape:
			out = udptracker.AppendScrapeEntry(udptracker.AppendScrapeResponseHeader(nil, h.TransactionID), 1, 2, 3)
		}
		f.e.Deliver(out)
	}
}

type fakeConn struct{ f *fakeTracker }

func (c fakeConn) Send(client int32, kind Kind, payload []byte) error {
	c.f.in <- fakeDatagram{client, append([]byte(nil), payload...)}
	return nil
}

func newEngineFor(t *testing.T, w *Workload, cfg EngineConfig) (*Engine, *fakeTracker, []AsyncConn) {
	t.Helper()
	e, err := NewEngine(w, cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeTracker(e)
	t.Cleanup(f.close)
	conns := make([]AsyncConn, e.Config().Workers)
	for i := range conns {
		conns[i] = fakeConn{f}
	}
	return e, f, conns
}

func TestEngineAsyncPhases(t *testing.T) {
	w, err := NewWorkload(Config{Clients: 3000, Torrents: 100, Seed: 1, ScrapeFraction: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	self, _ := NewProc(0)
	e, f, conns := newEngineFor(t, w, EngineConfig{Workers: 3, Window: 32, Tracker: self})
	ctx := context.Background()

	res, err := e.RunAsync(ctx, PhaseConnect, Limits{}, conns)
	if err != nil {
		t.Fatal(err)
	}
	if k := res.Kind(KindConnect); k == nil || k.Sent != 3000 || k.Answered != 3000 || k.Lost != 0 {
		t.Fatalf("connect phase: %+v", res.Kinds)
	}
	if res.Tracker == nil || res.Kind(KindConnect).Latency.Max <= 0 {
		t.Errorf("connect phase has no tracker usage or latency: %+v", res)
	}

	res, err = e.RunAsync(ctx, PhasePopulate, Limits{}, conns)
	if err != nil {
		t.Fatal(err)
	}
	if k := res.Kind(KindAnnounce); k == nil || k.Sent != 3000 || k.Answered != 3000 || k.PeersPerReply != 3 {
		t.Fatalf("populate phase: %+v", res.Kinds)
	}
	if res.Kind(KindConnect) != nil {
		t.Errorf("populate reconnected: %+v", res.Kinds)
	}

	res, err = e.RunAsync(ctx, PhaseSteady, Limits{Requests: 20000}, conns)
	if err != nil {
		t.Fatal(err)
	}
	ann, scr := res.Kind(KindAnnounce), res.Kind(KindScrape)
	if ann == nil || scr == nil || ann.Sent+scr.Sent != 20000 || ann.Answered != ann.Sent || scr.Answered != scr.Sent {
		t.Fatalf("steady phase: %+v", res.Kinds)
	}
	if f.badCID.Load() != 0 || res.Late != 0 || res.Malformed != 0 {
		t.Errorf("bad cids %d, late %d, malformed %d", f.badCID.Load(), res.Late, res.Malformed)
	}
}

func TestEngineCountsLossAndReconnects(t *testing.T) {
	w, err := NewWorkload(Config{Clients: 200, Torrents: 20, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	e, f, conns := newEngineFor(t, w, EngineConfig{Workers: 2, Window: 16, Timeout: 100 * time.Millisecond})
	f.dropEvery = 100
	f.rejectNth = 10
	// No connect phase: announces find no connection id and connect first.
	res, err := e.RunAsync(context.Background(), PhaseSteady, Limits{Requests: 3000}, conns)
	if err != nil {
		t.Fatal(err)
	}
	ann, con := res.Kind(KindAnnounce), res.Kind(KindConnect)
	if con == nil || con.Answered < 200+20 {
		t.Fatalf("connects %+v: want one per client plus one per rejected client", con)
	}
	if ann.Lost != f.dropped.Load() || ann.Refused != 20 || ann.Answered+ann.Lost+ann.Refused != ann.Sent {
		t.Errorf("announces %+v; tracker dropped %d", ann, f.dropped.Load())
	}
	if ann.Lost == 0 || ann.LossRatio <= 0 {
		t.Errorf("no loss counted: %+v", ann)
	}
	if f.badCID.Load() != 0 {
		t.Errorf("%d announces with a bad connection id", f.badCID.Load())
	}
}

func TestEngineRateLimited(t *testing.T) {
	w, err := NewWorkload(Config{Clients: 100, Torrents: 10, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	e, _, conns := newEngineFor(t, w, EngineConfig{Workers: 2, Rate: 2000})
	if _, err := e.RunAsync(context.Background(), PhaseConnect, Limits{}, conns); err != nil {
		t.Fatal(err)
	}
	res, err := e.RunAsync(context.Background(), PhaseSteady, Limits{Duration: 300 * time.Millisecond}, conns)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	ann := res.Kind(KindAnnounce)
	// 2000/s for 0.3 s plus the burst: never above the bucket's bound.
	if ann == nil || ann.Sent == 0 || float64(ann.Sent) > 2000*res.Seconds+2*21+2 {
		t.Fatalf("rate-limited phase sent %+v in %.3f s", ann, res.Seconds)
	}
}

func TestEngineDeliverJunk(t *testing.T) {
	w, _ := NewWorkload(Config{Clients: 10, Torrents: 2})
	e, err := NewEngine(w, EngineConfig{Workers: 1, Window: 4})
	if err != nil {
		t.Fatal(err)
	}
	e.Deliver(nil)
	e.Deliver([]byte{1, 2, 3})
	b := udptracker.AppendConnectResponse(nil, 0xff000001, 1, 60) // worker 255 does not exist
	e.Deliver(b)
	binary.BigEndian.PutUint32(b[4:], 3) // no request in flight
	e.Deliver(b)
	rs := e.stats.Load()
	if rs.malformed.Load() != 2 || rs.late.Load() != 2 {
		t.Errorf("malformed %d late %d", rs.malformed.Load(), rs.late.Load())
	}
}

type fakeSync struct {
	n      atomic.Uint64
	failAt uint64
}

func (f *fakeSync) Do(ctx context.Context, r *Request) (Outcome, error) {
	n := f.n.Add(1)
	if f.failAt > 0 && n%f.failAt == 0 {
		return Outcome{}, errors.New("connection reset")
	}
	if r.Event == tracker.EventStopped {
		return Outcome{Refused: true}, nil
	}
	return Outcome{Peers: 7}, nil
}

func TestEngineSync(t *testing.T) {
	w, err := NewWorkload(Config{Clients: 1000, Torrents: 50, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(w, EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSync{failAt: 100}
	conns := []SyncConn{f, f, f, f}
	if _, err := e.RunSync(context.Background(), PhaseConnect, Limits{}, conns); err == nil {
		t.Error("connect phase over a sync transport accepted")
	}
	res, err := e.RunSync(context.Background(), PhasePopulate, Limits{}, conns)
	if err != nil {
		t.Fatal(err)
	}
	ann := res.Kind(KindAnnounce)
	if ann.Sent != 1000 || ann.Lost != 10 || ann.Answered != 990 || ann.PeersPerReply != 7 {
		t.Fatalf("populate: %+v", ann)
	}
	res, err = e.RunSync(context.Background(), PhaseSteady, Limits{Requests: 4000}, conns)
	if err != nil {
		t.Fatal(err)
	}
	ann = res.Kind(KindAnnounce)
	if ann.Sent != 4000 || ann.Answered+ann.Refused+ann.Lost != 4000 || ann.Refused == 0 {
		t.Fatalf("steady: %+v", ann)
	}
}

func BenchmarkEngineAsync(b *testing.B) {
	w, _ := NewWorkload(Config{Clients: 10000, Torrents: 1000, Seed: 1})
	e, err := NewEngine(w, EngineConfig{Workers: 2, Window: 256})
	if err != nil {
		b.Fatal(err)
	}
	conns := []AsyncConn{&echoConn{e: e}, &echoConn{e: e}}
	if _, err := e.RunAsync(context.Background(), PhaseConnect, Limits{}, conns); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	res, err := e.RunAsync(context.Background(), PhaseSteady, Limits{Requests: int64(b.N)}, conns)
	if err != nil {
		b.Fatal(err)
	}
	if ann := res.Kind(KindAnnounce); ann.Answered != ann.Sent {
		b.Fatalf("%+v", ann)
	}
}

// echoConn answers synchronously inside Send: the engine's own cost.
type echoConn struct {
	e   *Engine
	out []byte
}

func (c *echoConn) Send(client int32, kind Kind, p []byte) error {
	tx := binary.BigEndian.Uint32(p[12:])
	if kind == KindConnect {
		c.out = udptracker.AppendConnectResponse(c.out[:0], tx, 1, 600)
	} else {
		c.out = udptracker.AppendAnnounceResponseHeader(c.out[:0], tx, 1, 1, 1)
	}
	c.e.Deliver(c.out)
	return nil
}

// blockingSync answers nothing: every request ends with its context.
type blockingSync struct{}

func (blockingSync) Do(ctx context.Context, r *Request) (Outcome, error) {
	<-ctx.Done()
	return Outcome{}, ctx.Err()
}

// TestEngineSyncPhaseEndIsNotLoss: requests cut short by the end of a
// timed phase are not counted, even before the phase's context reports
// its deadline.
func TestEngineSyncPhaseEndIsNotLoss(t *testing.T) {
	w, _ := NewWorkload(Config{Clients: 100, Torrents: 10})
	e, err := NewEngine(w, EngineConfig{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		res, err := e.RunSync(context.Background(), PhaseSteady, Limits{Duration: 30 * time.Millisecond}, []SyncConn{blockingSync{}, blockingSync{}})
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatal(err)
		}
		if ann := res.Kind(KindAnnounce); ann != nil && (ann.Lost != 0 || ann.Sent != 0) {
			t.Fatalf("cut-short requests counted: %+v", ann)
		}
	}
}

// TestEngineRunsAreReproducible: equal workloads and engines send the
// same requests, phase by phase.
func TestEngineRunsAreReproducible(t *testing.T) {
	record := func() []Request {
		w, _ := NewWorkload(Config{Clients: 50, Torrents: 10, Seed: 9})
		e, err := NewEngine(w, EngineConfig{})
		if err != nil {
			t.Fatal(err)
		}
		rec := &recordingSync{}
		for range 2 {
			if _, err := e.RunSync(context.Background(), PhaseSteady, Limits{Requests: 200}, []SyncConn{rec}); err != nil {
				t.Fatal(err)
			}
		}
		return rec.reqs
	}
	a, b := record(), record()
	if len(a) != 400 || !slices.Equal(a, b) {
		t.Fatalf("runs differ: %d and %d requests", len(a), len(b))
	}
	if slices.Equal(a[:200], a[200:]) {
		t.Error("two steady phases of one run drew the same mix")
	}
}

type recordingSync struct{ reqs []Request }

func (r *recordingSync) Do(_ context.Context, q *Request) (Outcome, error) {
	r.reqs = append(r.reqs, *q)
	return Outcome{}, nil
}

// TestSleep: Sleep reports a wait that ran its course, and one that the
// context ended.
func TestSleep(t *testing.T) {
	if !Sleep(context.Background(), time.Millisecond) {
		t.Fatal("a finished sleep reported as cancelled")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Fatal("a cancelled sleep reported as finished")
	}
}
