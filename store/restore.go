package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker"
)

// Restore replays the store's swarms into r: peers whose TTL has not run
// out and download counts. Corrupt records are skipped, counted and
// logged; they never stop the start.
func (s *Store) Restore(ctx context.Context, r tracker.Restorer) error {
	start := time.Now()
	var restored atomic.Uint64
	err := s.view(func(txn *badger.Txn) error {
		return s.scan(ctx, txn, keyRange{prefix: prefixCompleted, hi: 256}, func(k, v []byte) error {
			info, count, err := decodeCompleted(k, v)
			if err != nil {
				return err
			}
			r.RestoreCompleted(info, count)
			return nil
		})
	})
	if err == nil {
		r.ExpectPeers(s.estimatePeers())
		err = s.scanParallel(ctx, prefixPeer, func(k, v []byte) error {
			p, err := decodePeer(k, v)
			if err != nil {
				return err
			}
			r.RestorePeer(p)
			if n := restored.Add(1); n%250_000 == 0 {
				s.opts.Logger.Info("store: restoring", "peers", n, "elapsed", time.Since(start).Round(time.Millisecond))
			}
			return nil
		})
	}
	peers := restored.Load()
	d := time.Since(start)
	s.restoreDur.Store(int64(d))
	s.restoredPeers.Store(peers)
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	s.opts.Logger.Info("store: restored", "peers", peers, "corrupt_skipped", s.corrupt.Load(), "took", d.Round(time.Millisecond))
	return nil
}

// estimatePeers is about how many peer records the store holds, from the
// key counts of Badger's tables (free: they are in the tables' indexes)
// whose key range meets the peers' prefix; records still in a memtable
// are not counted, expired and deleted ones are.
func (s *Store) estimatePeers() int {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.db == nil {
		return 0
	}
	n := 0
	for _, t := range s.db.Tables() {
		if len(t.Left) > 0 && len(t.Right) > 0 && t.Left[0] <= prefixPeer && t.Right[0] >= prefixPeer {
			n += int(t.KeyCount)
		}
	}
	return n
}

// RestoreDestinations passes the journaled Destinations to fn until fn
// returns false or the journal or ctx ends.
func (s *Store) RestoreDestinations(ctx context.Context, fn func(i2p.Destination) bool) error {
	stopped := false
	err := s.view(func(txn *badger.Txn) error {
		for _, kr := range []keyRange{
			{prefix: prefixDestination, hi: 256},
			{prefix: prefixDestinationRaw, hi: 256, prefetch: true}, // ~400-byte values in the value log
		} {
			err := s.scan(ctx, txn, kr, func(k, v []byte) error {
				d, err := decodeDestination(k, v)
				if err != nil {
					return err
				}
				if !fn(d) {
					stopped = true
					return errStopScan
				}
				return nil
			})
			if err != nil || stopped {
				return err
			}
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("store: restore destinations: %w", err)
	}
	return nil
}

// keyRange selects the keys prefix|b|… with lo <= b < hi.
type keyRange struct {
	prefix byte
	lo, hi int
	// prefetch reads values ahead: worth it for values in the value log,
	// not for the few bytes kept in the tree beside their keys.
	prefetch bool
}

// errStopScan ends a scan early, without error, from its fn.
var errStopScan = errors.New("store: scan stopped")

// scanParallel scans the keys with prefix split by their next byte into
// one range per core, each in its own read transaction: peers are most
// of a restart, and the tracker takes them from several goroutines (its
// swarms are sharded), so fn is called concurrently.
func (s *Store) scanParallel(ctx context.Context, prefix byte, fn func(k, v []byte) error) error {
	parts := min(runtime.GOMAXPROCS(0), 8)
	var wg sync.WaitGroup
	errs := make([]error, parts)
	for i := range parts {
		kr := keyRange{prefix: prefix, lo: 256 * i / parts, hi: 256 * (i + 1) / parts}
		wg.Go(func() {
			errs[i] = s.view(func(txn *badger.Txn) error { return s.scan(ctx, txn, kr, fn) })
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// scan calls fn for every live key in kr; a record fn rejects is counted
// as corrupt and skipped.
func (s *Store) scan(ctx context.Context, txn *badger.Txn, kr keyRange, fn func(k, v []byte) error) error {
	opts := badger.IteratorOptions{Prefix: []byte{kr.prefix}, PrefetchValues: kr.prefetch}
	if kr.prefetch {
		opts.PrefetchSize = 1000
	}
	it := txn.NewIterator(opts)
	defer it.Close()
	n := 0
	for it.Seek([]byte{kr.prefix, byte(kr.lo)}); it.Valid(); it.Next() {
		item := it.Item()
		k := item.Key()
		if len(k) > 1 && int(k[1]) >= kr.hi {
			break
		}
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		err := item.Value(func(v []byte) error { return fn(k, v) })
		switch {
		case errors.Is(err, errStopScan):
			return nil
		case err != nil:
			s.corrupt.Add(1)
			s.opts.Logger.Warn("store: skipping corrupt record", "key", fmt.Sprintf("%x", k), "err", err)
		}
	}
	return nil
}

func decodePeer(k, v []byte) (tracker.PeerRecord, error) {
	var p tracker.PeerRecord
	if len(k) != 53 || len(v) != 5 {
		return p, fmt.Errorf("peer record: key %d bytes, value %d bytes", len(k), len(v))
	}
	if v[4]&^(flagSeed|flagCompleted) != 0 {
		return p, fmt.Errorf("peer record: unknown flags 0x%02x", v[4])
	}
	copy(p.Info[:], k[1:21])
	copy(p.Peer[:], k[21:53])
	p.LastSeen = time.Unix(int64(binary.BigEndian.Uint32(v)), 0)
	p.Seed = v[4]&flagSeed != 0
	p.Completed = v[4]&flagCompleted != 0
	return p, nil
}

func decodeCompleted(k, v []byte) (tracker.InfoHash, uint64, error) {
	var info tracker.InfoHash
	if len(k) != 21 || len(v) != 8 {
		return info, 0, fmt.Errorf("completed record: key %d bytes, value %d bytes", len(k), len(v))
	}
	copy(info[:], k[1:])
	return info, binary.BigEndian.Uint64(v), nil
}

func decodeDestination(k, v []byte) (i2p.Destination, error) {
	if len(k) != 33 {
		return i2p.Destination{}, fmt.Errorf("destination record: key %d bytes", len(k))
	}
	var d i2p.Destination
	var err error
	if k[0] == prefixDestinationRaw {
		var rest []byte
		d, rest, err = i2p.ParseDestination(v)
		if err == nil && len(rest) != 0 {
			err = fmt.Errorf("%d trailing bytes", len(rest))
		}
	} else {
		d, err = i2p.ParseCompactDestination(v)
	}
	if err != nil {
		return d, fmt.Errorf("destination record: %w", err)
	}
	if h := d.Hash(); string(h[:]) != string(k[1:]) {
		return d, fmt.Errorf("destination record: key does not match its hash")
	}
	return d, nil
}
