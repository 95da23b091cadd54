package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/tracker/udptracker"
)

// AsyncConn sends one worker's BEP 15 requests as datagrams; the
// transport hands every reply to Engine.Deliver. Send is called by one
// goroutine; payload is valid only during the call.
type AsyncConn interface {
	Send(client int32, kind Kind, payload []byte) error
}

// SyncConn performs one request and waits for its answer (HTTP). Do is
// called by one goroutine; it must give up by the deadline of ctx.
type SyncConn interface {
	Do(ctx context.Context, r *Request) (Outcome, error)
}

// Outcome is what a SyncConn got back.
type Outcome struct {
	Refused bool // the tracker answered with a failure (or an error reply)
	Peers   int  // peers in an announce reply
}

// EngineConfig tunes an Engine. Zero fields take the defaults named.
type EngineConfig struct {
	Workers int           // async workers (and AsyncConns), at most 256; default 4
	Window  int           // requests in flight per async worker, a power of two; default 128
	Rate    float64       // requests a second over all workers; 0: as fast as the window allows
	Timeout time.Duration // a request unanswered this long is lost; default 5 s
	PeerLen int           // bytes per peer in announce replies: 6 IPv4, 32 I2P; default 6
	// Lifetime of a connection id whose connect reply does not say;
	// default 60 s (BEP 15).
	Lifetime time.Duration
	// PeerPort is the port field of client c's announces; default 6881.
	PeerPort func(c int32) uint16
	// Tracker, when set, is sampled around each phase (CPU, RSS).
	Tracker *Proc
}

const (
	maxWorkers = 256
	maxWindow  = 1 << 20
	seqBits    = 24 // transaction id = worker << 24 | sequence
)

func (c *EngineConfig) setDefaults() error {
	if c.Workers == 0 {
		c.Workers = 4
	}
	if c.Window == 0 {
		c.Window = 128
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	if c.PeerLen == 0 {
		c.PeerLen = 6
	}
	if c.Lifetime == 0 {
		c.Lifetime = time.Minute
	}
	if c.Workers < 1 || c.Workers > maxWorkers {
		return fmt.Errorf("loadgen: workers %d out of 1..%d", c.Workers, maxWorkers)
	}
	if c.Window < 1 || c.Window > maxWindow || c.Window&(c.Window-1) != 0 {
		return fmt.Errorf("loadgen: window %d is not a power of two in 1..%d", c.Window, maxWindow)
	}
	if c.Rate < 0 || c.Timeout < 0 {
		return errors.New("loadgen: negative rate or timeout")
	}
	return nil
}

// Engine drives a Workload through a transport and measures the replies.
type Engine struct {
	w    *Workload
	cfg  EngineConfig
	base time.Time // monotonic origin of the slots' send times
	self *Proc

	workers []*worker
	cid     []atomic.Uint64 // connection id per client
	cidExp  []atomic.Int64  // its expiry, ns since base; 0: none
	conSent []int64         // when a connect was last sent for a client, ns since base; owned by the client's worker

	stats atomic.Pointer[runStats] // the phase running now
	runs  uint64                   // phases run so far
	// delivering counts Deliver calls under way: a reply frees its slot
	// before it is counted, so a phase ends only when this is zero.
	delivering atomic.Int64
}

// worker is one async sender's in-flight window: a ring of slots indexed
// by the low bits of the transaction id. A slot is claimed by CAS, by the
// receiver when the reply comes or by the sender when it times out, so
// each request is counted exactly once.
type worker struct {
	id    uint32
	seq   uint32
	mask  uint32
	slots []slot
	freed chan struct{} // a slot became free
}

type slot struct {
	key    atomic.Uint64 // tx << 32 | kind << 1 | 1; 0 when free
	sent   atomic.Int64  // ns since base
	client atomic.Int32
}

// runStats are one phase's counters: per worker, per kind.
type runStats struct {
	workers           []workerStats
	late, malformed   atomic.Uint64
	unexpectedActions atomic.Uint64
}

type workerStats struct {
	kinds               [numKinds]kindStats
	lastSend, lastReply atomic.Int64 // ns since base
}

type kindStats struct {
	sent, answered, refused, lost, sendErrors, peers atomic.Uint64
	hist                                             Histogram
}

// NewEngine prepares an engine for w.
func NewEngine(w *Workload, cfg EngineConfig) (*Engine, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	self, err := NewProc(0)
	if err != nil {
		return nil, err
	}
	e := &Engine{w: w, cfg: cfg, base: time.Now(), self: self,
		cid: make([]atomic.Uint64, w.Clients()), cidExp: make([]atomic.Int64, w.Clients()), conSent: make([]int64, w.Clients())}
	for i := range cfg.Workers {
		e.workers = append(e.workers, &worker{id: uint32(i), mask: uint32(cfg.Window - 1),
			slots: make([]slot, cfg.Window), freed: make(chan struct{}, 1)})
	}
	e.stats.Store(newRunStats(cfg.Workers))
	return e, nil
}

func newRunStats(workers int) *runStats {
	return &runStats{workers: make([]workerStats, workers)}
}

// Config returns the engine's configuration with defaults applied.
func (e *Engine) Config() EngineConfig { return e.cfg }

func (e *Engine) now() int64 { return int64(time.Since(e.base)) }

// Limits bound a phase. Sweeps end by themselves; a steady phase needs a
// duration or a request count.
type Limits struct {
	Duration time.Duration
	Requests int64
}

// RunAsync runs phase p over conns (one per worker, len = Workers).
func (e *Engine) RunAsync(ctx context.Context, p Phase, lim Limits, conns []AsyncConn) (*PhaseResult, error) {
	if len(conns) != len(e.workers) {
		return nil, fmt.Errorf("loadgen: %d conns for %d workers", len(conns), len(e.workers))
	}
	return e.run(ctx, p, lim, len(conns), func(ctx context.Context, i int, st *Stream, quota int64, lim *Limiter, rs *runStats) {
		e.sendLoop(ctx, e.workers[i], st, conns[i], quota, lim, rs)
	})
}

// RunSync runs phase p over conns, one goroutine each. Connects are not
// part of request/response transports: PhaseConnect is an error.
func (e *Engine) RunSync(ctx context.Context, p Phase, lim Limits, conns []SyncConn) (*PhaseResult, error) {
	if p == PhaseConnect {
		return nil, errors.New("loadgen: no connect phase over a request/response transport")
	}
	if len(conns) == 0 {
		return nil, errors.New("loadgen: no conns")
	}
	return e.run(ctx, p, lim, len(conns), func(ctx context.Context, i int, st *Stream, quota int64, lim *Limiter, rs *runStats) {
		e.doLoop(ctx, conns[i], st, quota, lim, &rs.workers[i])
	})
}

func (e *Engine) run(ctx context.Context, p Phase, lim Limits, n int, loop func(context.Context, int, *Stream, int64, *Limiter, *runStats)) (*PhaseResult, error) {
	if p == PhaseSteady && lim.Duration <= 0 && lim.Requests <= 0 {
		return nil, errors.New("loadgen: a steady phase needs a duration or a request count")
	}
	e.runs++ // each phase of a run draws its own mix; equal runs draw the same
	rs := newRunStats(n)
	e.stats.Store(rs)
	if lim.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, lim.Duration)
		defer cancel()
	}
	mon := startMonitor(e.cfg.Tracker, e.self)
	startNS := e.now()
	var wg sync.WaitGroup
	for i := range n {
		quota := int64(0)
		if lim.Requests > 0 {
			quota = lim.Requests / int64(n)
			if int64(i) < lim.Requests%int64(n) {
				quota++
			}
			if quota == 0 {
				continue
			}
		}
		st := e.w.Stream(p, i, n, e.runs)
		l := NewLimiter(e.cfg.Rate/float64(n), max(1, int(e.cfg.Rate/float64(n)/100)), time.Now())
		wg.Add(1)
		go func() {
			defer wg.Done()
			loop(ctx, i, st, quota, l, rs)
		}()
	}
	wg.Wait()
	e.settle()
	end := startNS
	for i := range rs.workers {
		end = max(end, rs.workers[i].lastSend.Load(), rs.workers[i].lastReply.Load())
	}
	tracker, gen := mon.stop()
	res := rs.result(p, time.Duration(end-startNS), tracker, gen)
	return res, ctx.Err()
}

// settle waits (at most a second) for Deliver calls that freed their
// slot but have not yet counted their reply.
func (e *Engine) settle() {
	for i := 0; i < 20000 && e.delivering.Load() > 0; i++ {
		time.Sleep(50 * time.Microsecond)
	}
}

// sendLoop is one async worker: it sends until its stream, quota or
// context ends, then waits for what is still in flight.
func (e *Engine) sendLoop(ctx context.Context, wk *worker, st *Stream, conn AsyncConn, quota int64, lim *Limiter, rs *runStats) {
	ws := &rs.workers[wk.id]
	ks := &ws.kinds
	var (
		req     Request
		held    = newFIFO(len(wk.slots)) // announces waiting for their client's connect
		buf     = make([]byte, 0, 256)
		ann     udptracker.Announce
		sent    int64
		done    bool // the stream is exhausted
		timeout = int64(e.cfg.Timeout)
	)
	for quota == 0 || sent < quota {
		if ctx.Err() != nil {
			break
		}
		now := e.now()
		ok := false
		if h := held.peek(); h != nil {
			switch {
			case e.cidValid(h.Client, now):
				req, ok = *h, true
				held.pop()
			case now-e.conSent[h.Client] > timeout:
				req, ok = Request{Kind: KindConnect, Client: h.Client}, true
			}
		}
		if !ok && !done && !held.full() {
			if !st.Next(&req) {
				done = true
			} else if ok = true; req.Kind != KindConnect && !e.cidValid(req.Client, now) {
				held.push(req)
				if now-e.conSent[req.Client] <= timeout && e.conSent[req.Client] != 0 {
					continue // its connect is under way
				}
				req = Request{Kind: KindConnect, Client: req.Client}
			}
		}
		if !ok {
			if done && held.empty() {
				break
			}
			e.wait(ctx, wk, 2*time.Millisecond)
			continue
		}
		if d := lim.Take(time.Now()); d > 0 {
			if !Sleep(ctx, d) {
				break
			}
			lim.Take(time.Now())
		}
		tx, s := e.acquire(ctx, wk, ks)
		if s == nil {
			break
		}
		buf = e.build(buf[:0], &req, tx, &ann)
		if req.Kind == KindConnect {
			e.conSent[req.Client] = max(e.now(), 1)
		}
		s.client.Store(req.Client)
		s.sent.Store(e.now())
		s.key.Store(uint64(tx)<<32 | uint64(req.Kind)<<1 | 1)
		ks[req.Kind].sent.Add(1)
		sent++
		if err := conn.Send(req.Client, req.Kind, buf); err != nil {
			if s.key.CompareAndSwap(uint64(tx)<<32|uint64(req.Kind)<<1|1, 0) {
				ks[req.Kind].sendErrors.Add(1)
			}
		}
	}
	ws.lastSend.Store(e.now())
	e.drain(wk, ks)
}

// acquire returns the next transaction id and its free slot, waiting
// while the slot's previous request is in flight and younger than the
// timeout; an older one is reclaimed and counted lost.
func (e *Engine) acquire(ctx context.Context, wk *worker, ks *[numKinds]kindStats) (uint32, *slot) {
	tx := wk.id<<seqBits | wk.seq&(1<<seqBits-1)
	wk.seq++
	s := &wk.slots[tx&wk.mask]
	for {
		k := s.key.Load()
		if k == 0 {
			return tx, s
		}
		age := e.now() - s.sent.Load()
		if age >= int64(e.cfg.Timeout) {
			if s.key.CompareAndSwap(k, 0) {
				ks[Kind(k>>1&0xff)].lost.Add(1)
			}
			continue
		}
		if ctx.Err() != nil {
			return 0, nil
		}
		e.wait(ctx, wk, time.Duration(int64(e.cfg.Timeout)-age))
	}
}

// drain waits until every slot of wk is answered or timed out.
func (e *Engine) drain(wk *worker, ks *[numKinds]kindStats) {
	for i := range wk.slots {
		s := &wk.slots[i]
		for {
			k := s.key.Load()
			if k == 0 {
				break
			}
			age := e.now() - s.sent.Load()
			if age >= int64(e.cfg.Timeout) {
				if s.key.CompareAndSwap(k, 0) {
					ks[Kind(k>>1&0xff)].lost.Add(1)
				}
				break
			}
			e.wait(context.Background(), wk, time.Duration(int64(e.cfg.Timeout)-age))
		}
	}
}

// wait blocks until a slot of wk is freed, d passes or ctx ends.
func (e *Engine) wait(ctx context.Context, wk *worker, d time.Duration) {
	t := time.NewTimer(max(d, time.Microsecond))
	defer t.Stop()
	select {
	case <-wk.freed:
	case <-t.C:
	case <-ctx.Done():
	}
}

// Sleep waits d; it returns false if ctx ends first.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (e *Engine) cidValid(c int32, now int64) bool {
	exp := e.cidExp[c].Load()
	return exp != 0 && now < exp-int64(time.Second)
}

// ConnectionID returns client c's connection id, if it has a valid one.
func (e *Engine) ConnectionID(c int32) (uint64, bool) {
	if !e.cidValid(c, e.now()) {
		return 0, false
	}
	return e.cid[c].Load(), true
}

// build appends the BEP 15 request for r with transaction id tx.
func (e *Engine) build(dst []byte, r *Request, tx uint32, a *udptracker.Announce) []byte {
	switch r.Kind {
	case KindConnect:
		return udptracker.AppendConnectRequest(dst, tx)
	case KindScrape:
		return udptracker.AppendScrapeRequest(dst, e.cid[r.Client].Load(), tx, e.w.InfoHash(r.Torrent))
	}
	a.ConnectionID = e.cid[r.Client].Load()
	a.TransactionID = tx
	a.InfoHash = e.w.InfoHash(r.Torrent)
	a.PeerID = e.w.PeerID(r.Client)
	a.Downloaded = 0
	a.Left = r.Left
	a.Uploaded = 0
	a.Event = r.Event
	a.Key = uint32(r.Client)
	a.NumWant = r.NumWant
	a.Port = 6881
	if e.cfg.PeerPort != nil {
		a.Port = e.cfg.PeerPort(r.Client)
	}
	return udptracker.AppendAnnounceRequest(dst, a)
}

// Deliver accounts for one reply (a BEP 15 response). Transports call it
// from any goroutine; it does not keep b.
func (e *Engine) Deliver(b []byte) {
	e.delivering.Add(1)
	defer e.delivering.Add(-1)
	rs := e.stats.Load()
	var r Reply
	err := ParseReply(b, e.cfg.PeerLen, &r)
	if len(b) < 8 {
		rs.malformed.Add(1)
		return
	}
	tx := r.TransactionID
	if err != nil {
		tx = uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7])
	}
	wi := tx >> seqBits
	if int(wi) >= len(e.workers) || int(wi) >= len(rs.workers) {
		rs.late.Add(1)
		return
	}
	wk := e.workers[wi]
	s := &wk.slots[tx&wk.mask]
	k := s.key.Load()
	if k == 0 || uint32(k>>32) != tx {
		rs.late.Add(1)
		return
	}
	sent := s.sent.Load()
	client := s.client.Load()
	if !s.key.CompareAndSwap(k, 0) {
		rs.late.Add(1)
		return
	}
	select {
	case wk.freed <- struct{}{}:
	default:
	}
	now := e.now()
	ws := &rs.workers[wi]
	ws.lastReply.Store(now)
	kind := Kind(k >> 1 & 0xff)
	ks := &ws.kinds[kind]
	if err != nil {
		rs.malformed.Add(1)
		ks.lost.Add(1)
		return
	}
	ks.hist.Record(time.Duration(now - sent))
	switch {
	case r.Action == ActionError:
		ks.refused.Add(1)
		if kind != KindConnect {
			e.cidExp[client].Store(0) // reconnect before the next request
		}
		return
	case kind == KindConnect && r.Action == ActionConnect:
		life := e.cfg.Lifetime
		if r.Lifetime > 0 {
			life = time.Duration(r.Lifetime) * time.Second
		}
		e.cid[client].Store(r.ConnectionID)
		e.cidExp[client].Store(now + int64(life))
	case kind == KindAnnounce && r.Action == ActionAnnounce:
		ks.peers.Add(uint64(r.NumPeers(e.cfg.PeerLen)))
	case kind == KindScrape && r.Action == ActionScrape:
	default:
		rs.unexpectedActions.Add(1)
		ks.lost.Add(1)
		return
	}
	ks.answered.Add(1)
}

// doLoop is one request/response worker.
func (e *Engine) doLoop(ctx context.Context, conn SyncConn, st *Stream, quota int64, lim *Limiter, ws *workerStats) {
	ks := &ws.kinds
	var req Request
	for n := int64(0); quota == 0 || n < quota; n++ {
		if ctx.Err() != nil || !st.Next(&req) {
			return
		}
		if d := lim.Take(time.Now()); d > 0 {
			if !Sleep(ctx, d) {
				return
			}
			lim.Take(time.Now())
		}
		k := &ks[req.Kind]
		k.sent.Add(1)
		rctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
		t0 := e.now()
		out, err := conn.Do(rctx, &req)
		cancel()
		now := e.now()
		switch {
		case err != nil && phaseOver(ctx):
			k.sent.Add(^uint64(0)) // cut short by the end of the phase: not counted
			return
		case err != nil:
			k.lost.Add(1)
			continue
		}
		ws.lastReply.Store(now)
		k.hist.Record(time.Duration(now - t0))
		if out.Refused {
			k.refused.Add(1)
			continue
		}
		k.answered.Add(1)
		k.peers.Add(uint64(out.Peers))
	}
}

// phaseOver reports whether ctx is done or past its deadline: a timer
// cancels a context a little after its deadline, and a request that
// failed in between was cut short by the phase, not lost.
func phaseOver(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// fifo is a bounded queue of requests.
type fifo struct {
	buf        []Request
	head, size int
}

func newFIFO(n int) *fifo { return &fifo{buf: make([]Request, n)} }

func (f *fifo) empty() bool { return f.size == 0 }
func (f *fifo) full() bool  { return f.size == len(f.buf) }
func (f *fifo) peek() *Request {
	if f.size == 0 {
		return nil
	}
	return &f.buf[f.head]
}
func (f *fifo) pop() {
	f.head = (f.head + 1) % len(f.buf)
	f.size--
}
func (f *fifo) push(r Request) {
	f.buf[(f.head+f.size)%len(f.buf)] = r
	f.size++
}
