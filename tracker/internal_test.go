package tracker

import (
	"math/rand/v2"
	"testing"

	"github.com/go-i2p/go-opentracker/i2p"
)

// TestIDTableModel runs random inserts, finds and removes against a map,
// with a hash of only a few bits so clusters collide and wrap around.
func TestIDTableModel(t *testing.T) {
	for _, bits := range []uint{3, 8, 64} {
		rng := rand.New(rand.NewPCG(uint64(bits), 1))
		keys := map[uint32]uint64{} // id → key
		hashOf := func(key uint64) uint64 {
			h := key * 0x9e3779b97f4a7c15
			if bits < 64 {
				h = (h >> (64 - bits)) * 0x9e3779b97f4a7c15 // few distinct hashes
			}
			return h
		}
		byID := func(id uint32) uint64 { return hashOf(keys[id]) }
		var tab idTable
		findKey := func(key uint64) (uint32, int, bool) {
			return tab.find(hashOf(key), func(id uint32) bool { return keys[id] == key })
		}
		next := uint32(0)
		for step := range 3000 + int(bits)*200 {
			if rng.IntN(3) > 0 || len(keys) == 0 {
				key := rng.Uint64()
				tab.insert(hashOf(key), next, byID)
				keys[next] = key // after insert: byID must not see it during growth
				next++
			} else {
				var id uint32
				for id = range keys {
					break
				}
				_, slot, ok := findKey(keys[id])
				if !ok {
					t.Fatalf("bits %d step %d: id %d not found", bits, step, id)
				}
				tab.remove(slot, byID)
				delete(keys, id)
			}
			if tab.n != len(keys) {
				t.Fatalf("bits %d step %d: n %d, model %d", bits, step, tab.n, len(keys))
			}
			if step%97 == 0 {
				for id, key := range keys {
					if got, _, ok := findKey(key); !ok || got != id {
						t.Fatalf("bits %d step %d: key of %d lost", bits, step, id)
					}
				}
				if _, _, ok := findKey(rng.Uint64()); ok {
					t.Fatalf("bits %d step %d: found a key never inserted", bits, step)
				}
			}
		}
	}
}

// checkSwarm verifies a swarm's partition, counters and position index.
func checkSwarm(t *testing.T, s *swarm) {
	t.Helper()
	for i := range s.entries {
		e := &s.entries[i]
		if e.seed() != (i >= int(s.leechers)) {
			t.Fatalf("entry %d (seed %v) outside its partition (leechers %d)", i, e.seed(), s.leechers)
		}
		if got := s.find(e.peer()); got != i {
			t.Fatalf("peer %d at %d found at %d", e.peer(), i, got)
		}
	}
	if s.pos != nil && s.pos.n != len(s.entries) {
		t.Fatalf("position index holds %d of %d", s.pos.n, len(s.entries))
	}
	if s.pos == nil && len(s.entries) > indexFrom {
		t.Fatalf("%d entries without an index", len(s.entries))
	}
}

// TestSwarmOps grows a swarm past indexFrom and back with random adds,
// removes and seed changes, checking it after every step.
func TestSwarmOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var s swarm
	in := map[uint32]bool{}
	next, largest := uint32(0), 0
	for step := range 6000 {
		target := 400
		if step > 3000 {
			target = 0
		}
		switch r := rng.IntN(10); {
		case r < 5 && len(in) < target || len(in) == 0:
			s.add(newEntry(next, 1, rng.IntN(2) == 0, false))
			in[next] = true
			next++
		case r < 8:
			i := rng.IntN(len(s.entries))
			delete(in, s.entries[i].peer())
			s.remove(i)
		default:
			s.setSeed(rng.IntN(len(s.entries)), rng.IntN(2) == 0)
		}
		if len(s.entries) != len(in) {
			t.Fatalf("step %d: %d entries, model %d", step, len(s.entries), len(in))
		}
		if step%7 == 0 || len(s.entries) > indexFrom-3 && len(s.entries) < indexFrom+3 {
			checkSwarm(t, &s)
		}
		if s.find(next+1) != -1 {
			t.Fatal("found a peer never added")
		}
		largest = max(largest, len(s.entries))
	}
	if largest <= indexFrom || len(s.entries) > indexFrom/2 {
		t.Fatalf("the test should cross indexFrom both ways (largest %d, last %d)", largest, len(s.entries))
	}
}

// TestSampleUniform checks that every eligible peer is drawn about
// equally often, for the bitset and the hash-set paths; a range that does
// not start at 0 (a seed's fill from the seeds) draws only from itself.
func TestSampleUniform(t *testing.T) {
	for _, n := range []int{60, 1000, 5000} {
		s := swarm{entries: make([]entry, n)}
		for i := range s.entries {
			s.entries[i] = newEntry(uint32(i), 1, false, false)
		}
		rng := wyrand(n)
		counts := make([]int, n)
		out := make([]uint32, MaxPeersPerReply)
		const rounds = 4000
		lo, self := n/10, n/3
		for range rounds {
			k := s.sample(&rng, lo, n, self, out)
			if k != MaxPeersPerReply {
				t.Fatalf("n %d: sampled %d", n, k)
			}
			seen := map[uint32]bool{}
			for _, p := range out[:k] {
				if seen[p] || int(p) == self || int(p) < lo {
					t.Fatalf("n %d: duplicate, self or out of range %d", n, p)
				}
				seen[p] = true
				counts[p]++
			}
		}
		want := float64(rounds*MaxPeersPerReply) / float64(n-lo-1)
		for p, c := range counts {
			if p == self || p < lo {
				continue
			}
			// Binomial: mean want, sd ≈ √want; allow 6 sd.
			if d := float64(c) - want; d*d > 36*want {
				t.Fatalf("n %d: peer %d drawn %d times, expected about %.0f", n, p, c, want)
			}
		}
	}
}

// peerState is one membership as the tests see it.
type peerState struct {
	seed, completed bool
	seen            int64 // unix seconds
}

// dump returns every membership and the download counts, and checks the
// internal bookkeeping on the way: shard totals, swarm counters, the
// peer table's reference counts and size.
func dump(t *testing.T, tr *Tracker) (map[InfoHash]map[i2p.Hash]peerState, map[InfoHash]uint64) {
	t.Helper()
	out := map[InfoHash]map[i2p.Hash]peerState{}
	completed := map[InfoHash]uint64{}
	refs := map[uint32]int{}
	var swarms int
	for i := range tr.shards {
		sh := &tr.shards[i]
		sh.mu.Lock()
		var seeds, leechers int
		var done uint64
		sh.each(func(sw *swarm) {
			swarms++
			if len(sw.entries) == 0 && sw.completed == 0 {
				t.Errorf("empty swarm kept")
			}
			checkSwarm(t, sw)
			m := map[i2p.Hash]peerState{}
			for i := range sw.entries {
				e := &sw.entries[i]
				refs[e.peer()]++
				m[*tr.peers.hash(e.peer())] = peerState{e.seed(), e.completed(), sh.base + int64(e.lastSeen())}
			}
			seeds += sw.seeders()
			leechers += int(sw.leechers)
			done += sw.completed
			out[sw.info] = m
			completed[sw.info] = sw.completed
		})
		if seeds != sh.seeds || leechers != sh.leechers || done != sh.completed {
			t.Errorf("shard %d totals %d/%d/%d, swarms add up to %d/%d/%d", i, sh.seeds, sh.leechers, sh.completed, seeds, leechers, done)
		}
		sh.mu.Unlock()
	}
	if int64(swarms) != tr.swarms.Load() {
		t.Errorf("%d swarms, counter %d", swarms, tr.swarms.Load())
	}
	for idx, n := range refs {
		if got := int(*tr.peers.refs(idx)); got != n {
			t.Errorf("peer %d: %d references, in %d swarms", idx, got, n)
		}
		if tr.peers.find(tr.peers.hashOf(tr.peers.hash(idx)), tr.peers.hash(idx)) != idx {
			t.Errorf("peer %d not in the index", idx)
		}
	}
	if tr.peers.len() != len(refs) {
		t.Errorf("peer table holds %d, swarms refer to %d", tr.peers.len(), len(refs))
	}
	return out, completed
}

func TestEntryFields(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 10000 {
		peer, seen := uint32(rng.IntN(maxPeers)), uint32(rng.IntN(maxSeen+1))
		seed, done := rng.IntN(2) == 0, rng.IntN(2) == 0
		e := newEntry(peer, seen, seed, done)
		if e.peer() != peer || e.lastSeen() != seen || e.seed() != seed || e.completed() != done {
			t.Fatalf("entry(%d, %d, %v, %v) reads back (%d, %d, %v, %v)", peer, seen, seed, done, e.peer(), e.lastSeen(), e.seed(), e.completed())
		}
		seen2 := uint32(rng.IntN(maxSeen + 1))
		e.setSeen(seen2)
		e.setSeed(!seed)
		if e.peer() != peer || e.lastSeen() != seen2 || e.seed() == seed || e.completed() != done {
			t.Fatal("setters disturb other fields")
		}
	}
}

// TestIDTableReserveThenDrain: a table reserve made large keeps an empty
// slot however far it drains, so a search for a missing key ends.
func TestIDTableReserveThenDrain(t *testing.T) {
	hashOf := func(id uint32) uint64 { return uint64(id) * 0x9e3779b97f4a7c15 }
	var tab idTable
	tab.reserve(1000, hashOf)
	for id := range uint32(3) {
		tab.insert(hashOf(id), id, hashOf)
	}
	for id := range uint32(2) {
		_, slot, ok := tab.find(hashOf(id), func(got uint32) bool { return got == id })
		if !ok {
			t.Fatalf("id %d not found", id)
		}
		tab.remove(slot, hashOf)
	}
	if len(tab.slots) < minTable {
		t.Fatalf("drained to %d slots", len(tab.slots))
	}
	if _, _, ok := tab.find(hashOf(7), func(got uint32) bool { return got == 7 }); ok {
		t.Fatal("found an id never inserted")
	}
	if _, _, ok := tab.find(hashOf(2), func(got uint32) bool { return got == 2 }); !ok {
		t.Fatal("the remaining id is lost")
	}
}
