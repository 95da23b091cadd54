package tracker

import (
	"math/rand/v2"
	"testing"
)

// TestIndexAgainstMap runs random inserts and deletes against a map.
func TestIndexAgainstMap(t *testing.T) {
	keys := make([]uint64, 5000) // value v has key keys[v]
	for i := range keys {
		keys[i] = rand.Uint64() % 3000 // collisions of the hash on purpose
	}
	hashOf := func(v uint32) uint64 { return keys[v] * 0x9e3779b97f4a7c15 }
	var x oaIndex
	in := map[uint32]bool{}
	rng := rand.New(rand.NewPCG(3, 4))
	for step := range 200000 {
		v := uint32(rng.IntN(len(keys)))
		slot, found := x.lookup(hashOf(v), func(s uint32) bool { return s == v })
		if found != in[v] {
			t.Fatalf("step %d: found=%v, map says %v", step, found, in[v])
		}
		if found {
			if x.value(slot) != v {
				t.Fatal("wrong value in slot")
			}
			if rng.IntN(2) == 0 {
				x.deleteAt(slot, hashOf)
				delete(in, v)
			}
		} else {
			x.insert(hashOf(v), v, hashOf)
			in[v] = true
		}
		if x.n != len(in) {
			t.Fatalf("step %d: %d entries, map %d", step, x.n, len(in))
		}
	}
	for v := range in {
		if _, found := x.lookup(hashOf(v), func(s uint32) bool { return s == v }); !found {
			t.Fatalf("value %d lost", v)
		}
	}
}
