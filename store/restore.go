package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker"
)

// Restore replays the store into r: peers whose TTL has not run out,
// download counts and cached Destinations. Corrupt records are skipped,
// counted and logged; they never stop the start.
func (s *Store) Restore(ctx context.Context, r tracker.Restorer) error {
	start := time.Now()
	var peers uint64
	err := s.db.View(func(txn *badger.Txn) error {
		if err := s.scan(ctx, txn, prefixCompleted, func(k, v []byte) error {
			info, count, err := decodeCompleted(k, v)
			if err != nil {
				return err
			}
			r.RestoreCompleted(info, count)
			return nil
		}); err != nil {
			return err
		}
		if err := s.scan(ctx, txn, prefixDestination, func(k, v []byte) error {
			d, err := decodeDestination(k, v)
			if err != nil {
				return err
			}
			r.RestoreDestination(d)
			return nil
		}); err != nil {
			return err
		}
		return s.scan(ctx, txn, prefixPeer, func(k, v []byte) error {
			p, err := decodePeer(k, v)
			if err != nil {
				return err
			}
			r.RestorePeer(p)
			peers++
			if peers%250_000 == 0 {
				s.opts.Logger.Info("store: restoring", "peers", peers, "elapsed", time.Since(start).Round(time.Millisecond))
			}
			return nil
		})
	})
	d := time.Since(start)
	s.restoreDur.Store(int64(d))
	s.restoredPeers.Store(peers)
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	s.opts.Logger.Info("store: restored", "peers", peers, "corrupt_skipped", s.corrupt.Load(), "took", d.Round(time.Millisecond))
	return nil
}

// scan calls fn for every live key with prefix; a record fn rejects is
// counted as corrupt and skipped.
func (s *Store) scan(ctx context.Context, txn *badger.Txn, prefix byte, fn func(k, v []byte) error) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefix}, PrefetchValues: true, PrefetchSize: 1000})
	defer it.Close()
	n := 0
	for it.Rewind(); it.Valid(); it.Next() {
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		item := it.Item()
		err := item.Value(func(v []byte) error { return fn(item.Key(), v) })
		if err != nil {
			s.corrupt.Add(1)
			s.opts.Logger.Warn("store: skipping corrupt record", "key", fmt.Sprintf("%x", item.Key()), "err", err)
		}
	}
	return nil
}

func decodePeer(k, v []byte) (tracker.PeerRecord, error) {
	var p tracker.PeerRecord
	if len(k) != 53 || len(v) != 5 {
		return p, fmt.Errorf("peer record: key %d bytes, value %d bytes", len(k), len(v))
	}
	if v[4]&^1 != 0 {
		return p, fmt.Errorf("peer record: unknown flags 0x%02x", v[4])
	}
	copy(p.Info[:], k[1:21])
	copy(p.Peer[:], k[21:53])
	p.LastSeen = time.Unix(int64(binary.BigEndian.Uint32(v)), 0)
	p.Seed = v[4]&1 != 0
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
	d, rest, err := i2p.ParseDestination(v)
	if err != nil {
		return d, fmt.Errorf("destination record: %w", err)
	}
	if len(rest) != 0 {
		return d, fmt.Errorf("destination record: %d trailing bytes", len(rest))
	}
	if h := d.Hash(); string(h[:]) != string(k[1:]) {
		return d, fmt.Errorf("destination record: key does not match its hash")
	}
	return d, nil
}
