package ratelimit

import (
	"encoding/binary"
	"slices"
	"sync"
	"time"
)

// Woodpecker is one of the peers refused most (opentracker's name for
// a client that hammers the tracker).
type Woodpecker struct {
	Peer Key
	// Refused counts refusals by kind; Total is their sum. Counts are
	// the space-saving algorithm's: a peer that took the place of
	// another inherits its count, so Total may overstate by Error.
	Refused [NumKinds]uint64
	Total   uint64
	Error   uint64
	Last    time.Time
}

// woodpeckers keeps the most refused peers in a fixed table (the
// space-saving algorithm): a peer not in a full table replaces the one
// with the fewest refusals and starts from its count.
type woodpeckers struct {
	mu   sync.Mutex
	rows []Woodpecker
	tags []uint64 // the first 8 bytes of each row's peer, scanned first
	max  int
}

func (w *woodpeckers) add(k *Key, kind Kind, now int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	least := -1
	tag := binary.LittleEndian.Uint64(k[:])
	for i, t := range w.tags {
		r := &w.rows[i]
		if t == tag && r.Peer == *k {
			r.Refused[kind]++
			r.Total++
			r.Last = time.Unix(0, now)
			return
		}
		if least < 0 || r.Total < w.rows[least].Total {
			least = i
		}
	}
	row := Woodpecker{Peer: *k, Total: 1, Last: time.Unix(0, now)}
	row.Refused[kind] = 1
	if len(w.rows) < w.max {
		w.rows = append(w.rows, row)
		w.tags = append(w.tags, tag)
		return
	}
	row.Error = w.rows[least].Total
	row.Total += row.Error
	w.rows[least], w.tags[least] = row, tag
}

// top returns up to n rows, most refused first.
func (w *woodpeckers) top(n int) []Woodpecker {
	w.mu.Lock()
	out := slices.Clone(w.rows)
	w.mu.Unlock()
	slices.SortFunc(out, func(a, b Woodpecker) int {
		if a.Total != b.Total {
			if a.Total > b.Total {
				return -1
			}
			return 1
		}
		return slices.Compare(a.Peer[:], b.Peer[:])
	})
	return out[:min(n, len(out))]
}
