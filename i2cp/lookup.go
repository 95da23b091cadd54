// Lookups: HostLookup requests and the replies the reader hands back.
//
// Invariants: every waiting lookup has a channel of capacity 1 in
// s.lookups, keyed by its request id. Whoever sends its one result (the
// reader, or down on a disconnect) removes the entry in the same hold of
// lookupMu, and the waiter removes it when it gives up, so a channel gets
// at most one value and that send never blocks. Lock order: lookupMu is
// taken alone.

package i2cp

import (
	"context"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

type lookupResult struct {
	d   i2p.Destination
	err error
}

// Lookup asks the router for the Destination whose hash is h.
func (s *Session) Lookup(ctx context.Context, h i2p.Hash) (i2p.Destination, error) {
	return s.lookup(ctx, HostLookup{Type: LookupHash, Hash: h})
}

// LookupName asks the router to resolve a host name (e.g. "x.i2p").
func (s *Session) LookupName(ctx context.Context, name string) (i2p.Destination, error) {
	return s.lookup(ctx, HostLookup{Type: LookupName, Name: name})
}

func (s *Session) lookup(ctx context.Context, hl HostLookup) (i2p.Destination, error) {
	id := s.sessionID.Load()
	if id < 0 {
		return i2p.Destination{}, ErrNotReady
	}
	s.lookupsN.Add(1)
	hl.SessionID = uint16(id)
	hl.RequestID = s.nextReq.Add(1)
	hl.Timeout = 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		hl.Timeout = min(max(time.Until(dl), time.Millisecond), 5*time.Minute)
	}
	// The router answers within Timeout; a lookup lost with its link (or
	// queued for a session that ended) must not wait forever.
	ctx, cancel := context.WithTimeout(ctx, hl.Timeout+5*time.Second)
	defer cancel()
	ch := make(chan lookupResult, 1)
	s.lookupMu.Lock()
	s.lookups[hl.RequestID] = ch
	s.lookupMu.Unlock()
	defer func() {
		s.lookupMu.Lock()
		delete(s.lookups, hl.RequestID)
		s.lookupMu.Unlock()
	}()
	select {
	case s.ctrl <- AppendHostLookup(nil, hl):
	case <-ctx.Done():
		s.lookupFails.Add(1)
		return i2p.Destination{}, ctx.Err()
	}
	select {
	case r := <-ch:
		if r.err != nil {
			s.lookupFails.Add(1)
		}
		return r.d, r.err
	case <-ctx.Done():
		s.lookupFails.Add(1)
		return i2p.Destination{}, ctx.Err()
	}
}
