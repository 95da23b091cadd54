package loadgen

import (
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/go-i2p/go-opentracker/tracker"
)

// Kind is the kind of a request.
type Kind uint8

// Request kinds.
const (
	KindConnect Kind = iota
	KindAnnounce
	KindScrape
	numKinds
)

func (k Kind) String() string {
	switch k {
	case KindConnect:
		return "connect"
	case KindAnnounce:
		return "announce"
	case KindScrape:
		return "scrape"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Config describes a workload. Zero fields take the defaults named.
type Config struct {
	Clients         int     // virtual clients, each with its own peer id; default 10,000
	Torrents        int     // info hashes; default 1,000
	SwarmsPerClient int     // torrents each client is in; default 1
	ZipfS           float64 // popularity exponent, > 1; default 1.1
	Seed            uint64  // seeds every random choice; runs with equal Config are identical

	SeedFraction      float64 // share of (client, torrent) pairs that are seeds from the start; default 0.3
	CompletedFraction float64 // steady announces by a leecher that say completed; default 0.01
	StoppedFraction   float64 // steady announces that say stopped; default 0.005
	ScrapeFraction    float64 // steady requests that are scrapes (of one Zipf-chosen torrent); default 0
	NumWant           int32   // peers asked for; default 50 (negative: the tracker's default)
	Size              uint64  // bytes a fresh leecher has left; default 1 GiB
}

func (c *Config) setDefaults() {
	if c.Clients == 0 {
		c.Clients = 10000
	}
	if c.Torrents == 0 {
		c.Torrents = 1000
	}
	if c.SwarmsPerClient == 0 {
		c.SwarmsPerClient = 1
	}
	if c.ZipfS == 0 {
		c.ZipfS = 1.1
	}
	if c.SeedFraction == 0 {
		c.SeedFraction = 0.3
	}
	if c.CompletedFraction == 0 {
		c.CompletedFraction = 0.01
	}
	if c.StoppedFraction == 0 {
		c.StoppedFraction = 0.005
	}
	if c.NumWant == 0 {
		c.NumWant = 50
	}
	if c.Size == 0 {
		c.Size = 1 << 30
	}
}

// Limits keep a workload's tables bounded.
const (
	MaxClients = 1 << 24
	MaxPairs   = 1 << 26
)

// Workload is a fixed population of virtual clients and torrents with the
// per-pair state of the announce mix. Streams of different workers touch
// disjoint clients, so they run concurrently without locks.
type Workload struct {
	cfg     Config
	hashes  [][20]byte
	torrent []int32 // torrent of pair (c, k) at c*K+k
	state   []uint8 // pair state: stActive | stSeed
}

const (
	stActive uint8 = 1 << 0 // announced started and not stopped since
	stSeed   uint8 = 1 << 1 // has the whole torrent (left = 0)
)

// NewWorkload builds the population: info hashes, each pair's torrent
// (Zipf by popularity rank, distinct within a client) and seed flags.
func NewWorkload(cfg Config) (*Workload, error) {
	cfg.setDefaults()
	switch {
	case cfg.Clients < 1 || cfg.Clients > MaxClients:
		return nil, fmt.Errorf("loadgen: clients %d out of 1..%d", cfg.Clients, MaxClients)
	case cfg.Torrents < 1 || cfg.Torrents > MaxPairs:
		return nil, fmt.Errorf("loadgen: torrents %d out of 1..%d", cfg.Torrents, MaxPairs)
	case cfg.SwarmsPerClient < 1 || cfg.SwarmsPerClient > cfg.Torrents:
		return nil, fmt.Errorf("loadgen: swarms per client %d out of 1..%d (the torrent count)", cfg.SwarmsPerClient, cfg.Torrents)
	case cfg.Clients*cfg.SwarmsPerClient > MaxPairs:
		return nil, fmt.Errorf("loadgen: %d clients × %d swarms is more than %d pairs", cfg.Clients, cfg.SwarmsPerClient, MaxPairs)
	case cfg.ZipfS <= 1:
		return nil, errors.New("loadgen: the Zipf exponent must be above 1")
	case cfg.SeedFraction < 0 || cfg.SeedFraction > 1 || cfg.CompletedFraction < 0 || cfg.StoppedFraction < 0 ||
		cfg.ScrapeFraction < 0 || cfg.CompletedFraction+cfg.StoppedFraction > 1 || cfg.ScrapeFraction > 1:
		return nil, errors.New("loadgen: fractions must lie in 0..1")
	}
	w := &Workload{cfg: cfg, hashes: make([][20]byte, cfg.Torrents)}
	var buf [24]byte
	copy(buf[:8], "otload\x00\x00")
	for t := range w.hashes {
		binary.BigEndian.PutUint64(buf[8:], cfg.Seed)
		binary.BigEndian.PutUint64(buf[16:], uint64(t))
		w.hashes[t] = sha1.Sum(buf[:])
	}
	k := cfg.SwarmsPerClient
	n := cfg.Clients * k
	w.torrent = make([]int32, n)
	w.state = make([]uint8, n)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x746f7272656e7473))
	zipf := newZipf(rng, cfg.ZipfS, cfg.Torrents)
	seedCut := uint64(cfg.SeedFraction * (1 << 63))
	for c := 0; c < cfg.Clients; c++ {
		pairs := w.torrent[c*k : c*k+k]
		for i := range pairs {
			pairs[i] = pickDistinct(zipf, rng, cfg.Torrents, pairs[:i])
			if rng.Uint64()>>1 < seedCut {
				w.state[c*k+i] = stSeed
			}
		}
	}
	return w, nil
}

func newZipf(rng *rand.Rand, s float64, torrents int) *rand.Zipf {
	return rand.NewZipf(rng, s, 1, uint64(torrents-1))
}

// pickDistinct draws a torrent not in taken: a few Zipf draws, then the
// first free rank after the last draw (bounded work for any K ≤ M).
func pickDistinct(z *rand.Zipf, rng *rand.Rand, torrents int, taken []int32) int32 {
	t := int32(z.Uint64())
	for try := 0; try < 32 && contains(taken, t); try++ {
		t = int32(z.Uint64())
	}
	for contains(taken, t) {
		t = int32((int(t) + 1) % torrents)
	}
	return t
}

func contains(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Config returns the workload's configuration with defaults applied.
func (w *Workload) Config() Config { return w.cfg }

// Clients is the number of virtual clients.
func (w *Workload) Clients() int { return w.cfg.Clients }

// Pairs is the number of (client, torrent) pairs: the peers a tracker
// holds, counted per swarm, once every pair has announced.
func (w *Workload) Pairs() int { return len(w.torrent) }

// InfoHash is the info hash of the torrent of popularity rank t.
func (w *Workload) InfoHash(t int32) [20]byte { return w.hashes[t] }

// Torrent is the torrent of client c's k-th swarm.
func (w *Workload) Torrent(c int32, k int) int32 { return w.torrent[int(c)*w.cfg.SwarmsPerClient+k] }

// PeerID is client c's stable peer id: "-OL0001-" and 12 bytes from c.
func (w *Workload) PeerID(c int32) [20]byte {
	var id [20]byte
	copy(id[:], "-OL0001-")
	binary.BigEndian.PutUint32(id[8:], uint32(c))
	binary.BigEndian.PutUint64(id[12:], mix64(w.cfg.Seed^uint64(c)))
	return id
}

// IsSeed reports whether client c is a seed in its k-th swarm now.
func (w *Workload) IsSeed(c int32, k int) bool {
	return w.state[int(c)*w.cfg.SwarmsPerClient+k]&stSeed != 0
}

// mix64 is the SplitMix64 finalizer.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// Request is one request of a stream.
type Request struct {
	Kind    Kind
	Client  int32
	Torrent int32 // announce: the swarm; scrape: the torrent asked about
	Event   tracker.Event
	Left    uint64
	NumWant int32
}

// Phase names a stream's shape.
type Phase int

// Phases of a run.
const (
	// PhaseConnect sends one connect per client of the worker.
	PhaseConnect Phase = iota
	// PhasePopulate announces "started" once for every pair of the
	// worker's clients, in order: the tracker ends up holding every pair.
	PhasePopulate
	// PhaseSteady is the endless mix: a random client of the worker and
	// one of its swarms; started when the pair is not active, else
	// completed or stopped now and then, otherwise none; scrapes mixed in.
	PhaseSteady
)

func (p Phase) String() string {
	switch p {
	case PhaseConnect:
		return "connect"
	case PhasePopulate:
		return "populate"
	case PhaseSteady:
		return "steady"
	}
	return fmt.Sprintf("phase(%d)", int(p))
}

// Stream yields one worker's requests. Worker i of n owns the clients c
// with c mod n = i; a Stream is used by one goroutine.
type Stream struct {
	w              *Workload
	phase          Phase
	first, step    int // the worker's clients: first, first+step, ...
	count          int // how many clients the worker owns
	next           int // sweep position (client ordinal × K + swarm)
	rng            *rand.Rand
	zipf           *rand.Zipf
	complete, stop uint64 // thresholds on 63-bit draws
	scrape         uint64
}

// Stream returns worker's stream of the phase; seed varies the steady mix
// between runs of the same workload.
func (w *Workload) Stream(p Phase, worker, workers int, seed uint64) *Stream {
	if workers < 1 || worker < 0 || worker >= workers {
		panic("loadgen: worker out of range")
	}
	s := &Stream{w: w, phase: p, first: worker, step: workers}
	if worker < w.cfg.Clients {
		s.count = (w.cfg.Clients - worker + workers - 1) / workers
	}
	s.rng = rand.New(rand.NewPCG(w.cfg.Seed^seed, uint64(worker)<<8|uint64(p)))
	s.zipf = newZipf(s.rng, w.cfg.ZipfS, w.cfg.Torrents)
	const one = 1 << 63
	s.complete = uint64(w.cfg.CompletedFraction * one)
	s.stop = s.complete + uint64(w.cfg.StoppedFraction*one)
	s.scrape = uint64(w.cfg.ScrapeFraction * one)
	return s
}

// Clients is how many clients the stream's worker owns.
func (s *Stream) Clients() int { return s.count }

// Next fills r with the next request; false when a sweep is done.
func (s *Stream) Next(r *Request) bool {
	k := s.w.cfg.SwarmsPerClient
	switch s.phase {
	case PhaseConnect:
		if s.next >= s.count {
			return false
		}
		*r = Request{Kind: KindConnect, Client: int32(s.first + s.next*s.step)}
		s.next++
		return true
	case PhasePopulate:
		if s.next >= s.count*k {
			return false
		}
		c := int32(s.first + (s.next/k)*s.step)
		s.announce(r, c, s.next%k, tracker.EventStarted)
		s.next++
		return true
	}
	if s.count == 0 {
		return false
	}
	if s.scrape > 0 && s.rng.Uint64()>>1 < s.scrape {
		c := int32(s.first + s.rng.IntN(s.count)*s.step)
		*r = Request{Kind: KindScrape, Client: c, Torrent: int32(s.zipf.Uint64())}
		return true
	}
	c := int32(s.first + s.rng.IntN(s.count)*s.step)
	slot := 0
	if k > 1 {
		slot = s.rng.IntN(k)
	}
	st := s.w.state[int(c)*k+slot]
	ev := tracker.EventNone
	if st&stActive == 0 {
		ev = tracker.EventStarted
	} else if x := s.rng.Uint64() >> 1; x < s.complete && st&stSeed == 0 {
		ev = tracker.EventCompleted
	} else if x >= s.complete && x < s.stop {
		ev = tracker.EventStopped
	}
	s.announce(r, c, slot, ev)
	return true
}

// announce fills r and moves the pair's state as the tracker will see it.
func (s *Stream) announce(r *Request, c int32, slot int, ev tracker.Event) {
	i := int(c)*s.w.cfg.SwarmsPerClient + slot
	st := s.w.state[i]
	switch ev {
	case tracker.EventStarted, tracker.EventNone:
		st |= stActive
	case tracker.EventCompleted:
		st |= stActive | stSeed
	case tracker.EventStopped:
		st &^= stActive
	}
	s.w.state[i] = st
	left := s.w.cfg.Size
	if st&stSeed != 0 {
		left = 0
	}
	*r = Request{Kind: KindAnnounce, Client: c, Torrent: s.w.torrent[i], Event: ev, Left: left, NumWant: s.w.cfg.NumWant}
}
