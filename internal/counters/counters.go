// Package counters counts events by reason, lock-free.
//
// A reason type is a small enum (~uint8) whose Names method returns its
// name table, indexed by reason; a Set holds one counter per reason and
// snapshots them by name.
package counters

import "sync/atomic"

// Reason is an enum whose values index the table Names returns. Names
// must return the same table for every value of the type.
type Reason interface {
	~uint8
	Names() []string
}

// Name returns r's name, or "unknown" for a value past its table.
func Name[R Reason](r R) string {
	if names := r.Names(); int(r) < len(names) {
		return names[r]
	}
	return "unknown"
}

// Set is one counter per value of R. The zero Set is ready to use and
// safe for concurrent use; it must not be copied after first use.
type Set[R Reason] struct {
	n [256]atomic.Uint64
}

// Add counts one r.
func (s *Set[R]) Add(r R) { s.n[r].Add(1) }

// Load returns r's count.
func (s *Set[R]) Load(r R) uint64 { return s.n[r].Load() }

// Snapshot returns every named reason's count by name, zeros included.
func (s *Set[R]) Snapshot() map[string]uint64 {
	var r R
	names := r.Names()
	out := make(map[string]uint64, len(names))
	for i, name := range names {
		out[name] = s.n[i].Load()
	}
	return out
}
