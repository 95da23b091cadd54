package streaming

import (
	"crypto/rand"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// memNet is an in-memory network of Managers with seeded loss,
// duplication, delay (and so reordering), for the state-machine tests.
type memNet struct {
	mu       sync.Mutex
	rng      *mrand.Rand
	drop     float64 // probability a packet is lost
	dup      float64 // probability it arrives twice
	maxDelay time.Duration
	nodes    map[i2p.Hash]*Manager
	observe  func(from i2p.Hash, p *Packet)
	block    map[i2p.Hash]bool // senders whose packets all vanish
	wg       sync.WaitGroup
}

func newMemNet(seed uint64, drop, dup float64, maxDelay time.Duration) *memNet {
	return &memNet{rng: mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), drop: drop, dup: dup,
		maxDelay: maxDelay, nodes: map[i2p.Hash]*Manager{}, block: map[i2p.Hash]bool{}}
}

type memLink struct {
	n    *memNet
	from i2p.Hash
}

func (l memLink) Send(to i2p.Destination, fromPort, toPort uint16, packet []byte) error {
	raw := append([]byte(nil), packet...)
	n := l.n
	n.mu.Lock()
	dst := n.nodes[to.Hash()]
	copies := 1
	if n.block[l.from] || n.rng.Float64() < n.drop {
		copies = 0
	} else if n.rng.Float64() < n.dup {
		copies = 2
	}
	delays := make([]time.Duration, copies)
	for i := range delays {
		if n.maxDelay > 0 {
			delays[i] = time.Duration(n.rng.Int64N(int64(n.maxDelay)))
		}
	}
	obs := n.observe
	n.mu.Unlock()
	if obs != nil {
		if p, err := Parse(raw); err == nil {
			obs(l.from, p)
		}
	}
	if dst == nil {
		return nil
	}
	for _, d := range delays {
		n.wg.Add(1)
		time.AfterFunc(d, func() {
			defer n.wg.Done()
			dst.HandlePacket(fromPort, toPort, raw)
		})
	}
	return nil
}

// node adds a Manager with a fresh Ed25519 identity.
func (n *memNet) node(t testing.TB, cfg Config) *Manager {
	t.Helper()
	keys, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h := keys.Destination.Hash()
	m, err := NewManager(memLink{n: n, from: h}, IdentityOf(keys), cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.mu.Lock()
	n.nodes[h] = m
	n.mu.Unlock()
	t.Cleanup(func() { m.Close() })
	return m
}

func (n *memNet) setObserver(f func(from i2p.Hash, p *Packet)) {
	n.mu.Lock()
	n.observe = f
	n.mu.Unlock()
}

// fastConfig makes timers short enough for tests on a lossy link.
func fastConfig() Config {
	return Config{InitialRTO: 200 * time.Millisecond, MinRTO: 50 * time.Millisecond, MaxRTO: 2 * time.Second,
		MaxResends: 20, AckDelay: 20 * time.Millisecond, ReplyHold: 50 * time.Millisecond,
		Inactivity: 20 * time.Second, Linger: 5 * time.Second}
}

// waitFor polls cond for up to d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
