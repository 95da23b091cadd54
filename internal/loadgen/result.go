package loadgen

import (
	"sync"
	"time"
)

// PhaseResult is what one phase measured.
type PhaseResult struct {
	Phase   string       `json:"phase"`
	Seconds float64      `json:"seconds"` // first send to last send or reply
	Kinds   []KindResult `json:"kinds"`
	// Late counts replies that matched nothing in flight: answers after
	// the timeout, duplicates, strays. Malformed counts unparsable replies;
	// Unexpected replies of the wrong action.
	Late       uint64 `json:"late"`
	Malformed  uint64 `json:"malformed"`
	Unexpected uint64 `json:"unexpected"`
	// Tracker is the tracker process's usage over the phase (absent
	// without a pid); Generator is the load tool's own.
	Tracker   *Usage `json:"tracker,omitempty"`
	Generator Usage  `json:"generator"`
}

// KindResult is one request kind's numbers in a phase.
type KindResult struct {
	Kind       string  `json:"kind"`
	Sent       uint64  `json:"sent"`
	Answered   uint64  `json:"answered"`    // a reply of the right kind
	Refused    uint64  `json:"refused"`     // an error reply (BEP 15 action 3, HTTP failure reason)
	Lost       uint64  `json:"lost"`        // no reply within the timeout, or a broken one
	SendErrors uint64  `json:"send_errors"` // the transport could not send
	PerSecond  float64 `json:"answered_per_second"`
	LossRatio  float64 `json:"loss_ratio"`
	// PerTrackerCPUSecond is answered requests per second of tracker CPU
	// time over the phase (0 without a pid).
	PerTrackerCPUSecond float64 `json:"answered_per_tracker_cpu_second,omitempty"`
	PeersPerReply       float64 `json:"peers_per_reply,omitempty"`
	Latency             Latency `json:"latency"`
}

// Latency are percentiles of the time from send to reply.
type Latency struct {
	P50 time.Duration `json:"p50_ns"`
	P90 time.Duration `json:"p90_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

// LatencyOf reads the percentiles of h.
func LatencyOf(h *Histogram) Latency {
	return Latency{P50: h.Quantile(0.50), P90: h.Quantile(0.90), P99: h.Quantile(0.99), Max: h.Max()}
}

// Kind returns the result of one kind, or nil.
func (p *PhaseResult) Kind(k Kind) *KindResult {
	for i := range p.Kinds {
		if p.Kinds[i].Kind == k.String() {
			return &p.Kinds[i]
		}
	}
	return nil
}

func (rs *runStats) result(p Phase, elapsed time.Duration, tracker *Usage, gen Usage) *PhaseResult {
	res := &PhaseResult{Phase: p.String(), Seconds: elapsed.Seconds(), Late: rs.late.Load(), Malformed: rs.malformed.Load(),
		Unexpected: rs.unexpectedActions.Load(), Tracker: tracker, Generator: gen}
	for k := range numKinds {
		var (
			kr    = KindResult{Kind: k.String()}
			hist  Histogram
			peers uint64
		)
		for i := range rs.workers {
			s := &rs.workers[i].kinds[k]
			kr.Sent += s.sent.Load()
			kr.Answered += s.answered.Load()
			kr.Refused += s.refused.Load()
			kr.Lost += s.lost.Load()
			kr.SendErrors += s.sendErrors.Load()
			peers += s.peers.Load()
			hist.Merge(&s.hist)
		}
		if kr.Sent == 0 {
			continue
		}
		if elapsed > 0 {
			kr.PerSecond = float64(kr.Answered) / elapsed.Seconds()
		}
		kr.LossRatio = float64(kr.Lost+kr.SendErrors) / float64(kr.Sent)
		if tracker != nil && tracker.CPUSeconds > 0 {
			kr.PerTrackerCPUSecond = float64(kr.Answered) / tracker.CPUSeconds
		}
		if k == KindAnnounce && kr.Answered > 0 {
			kr.PeersPerReply = float64(peers) / float64(kr.Answered)
		}
		kr.Latency = LatencyOf(&hist)
		res.Kinds = append(res.Kinds, kr)
	}
	return res
}

// monitor samples the tracker and the generator at the start and end of
// a phase, and the tracker's RSS every 100 ms in between for its maximum.
type monitor struct {
	tracker, self *Proc
	t0, g0        ProcSample
	maxRSS        uint64
	stopc         chan struct{}
	wg            sync.WaitGroup
}

func startMonitor(tracker, self *Proc) *monitor {
	m := &monitor{tracker: tracker, self: self, stopc: make(chan struct{})}
	m.g0, _ = self.Sample()
	if tracker == nil {
		return m
	}
	m.t0, _ = tracker.Sample()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-m.stopc:
				return
			case <-t.C:
				if s, err := tracker.Sample(); err == nil {
					m.maxRSS = max(m.maxRSS, s.RSS)
				}
			}
		}
	}()
	return m
}

func (m *monitor) stop() (*Usage, Usage) {
	close(m.stopc)
	m.wg.Wait()
	g1, _ := m.self.Sample()
	gen := UsageBetween(m.g0, g1, 0)
	if m.tracker == nil {
		return nil, gen
	}
	t1, err := m.tracker.Sample()
	if err != nil {
		return nil, gen
	}
	u := UsageBetween(m.t0, t1, m.maxRSS)
	return &u, gen
}
