package store

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// prefixHistory keys the console's chart history: h | window name, the
// value the console's own record. Builds that do not know the prefix
// never read it.
const prefixHistory = 'h'

// Bounds on the history kept: records, a name's length, a record's size.
const (
	maxHistoryRecords = 16
	maxHistoryName    = 16
	maxHistoryRecord  = 64 << 10
)

// SaveHistory replaces the chart history kept with recs, in one
// transaction; it refuses more or larger records than its bounds.
func (s *Store) SaveHistory(recs map[string][]byte) error {
	if len(recs) > maxHistoryRecords {
		return fmt.Errorf("store: chart history: %d records, at most %d", len(recs), maxHistoryRecords)
	}
	for name, rec := range recs {
		if len(name) == 0 || len(name) > maxHistoryName || len(rec) > maxHistoryRecord {
			return fmt.Errorf("store: chart history: record %q of %d bytes out of bounds", name, len(rec))
		}
	}
	err := s.update(func(txn *badger.Txn) error {
		var old [][]byte
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixHistory}})
		for it.Rewind(); it.Valid(); it.Next() {
			old = append(old, it.Item().KeyCopy(nil))
		}
		it.Close()
		for _, k := range old {
			if _, keep := recs[string(k[1:])]; !keep {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
		}
		for name, rec := range recs {
			if err := txn.Set(append([]byte{prefixHistory}, name...), rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: save chart history: %w", err)
	}
	return nil
}

// LoadHistory calls fn with each chart history record kept; one over
// SaveHistory's bounds is skipped and counted as corrupt.
func (s *Store) LoadHistory(fn func(name string, rec []byte)) error {
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixHistory}, PrefetchValues: true, PrefetchSize: maxHistoryRecords})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid() && n < maxHistoryRecords; it.Next() {
			item := it.Item()
			// ValueSize is approximate (it counts the value log's entry
			// header): the exact bound is checked on the copy.
			if len(item.Key()) > 1+maxHistoryName || item.ValueSize() > 2*maxHistoryRecord {
				s.skipHistory(item.Key())
				continue
			}
			rec, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			if len(rec) > maxHistoryRecord {
				s.skipHistory(item.Key())
				continue
			}
			fn(string(item.Key()[1:]), rec)
			n++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: load chart history: %w", err)
	}
	return nil
}

func (s *Store) skipHistory(k []byte) {
	s.corrupt.Add(1)
	s.opts.Logger.Warn("store: skipping an oversized chart history record", "key", fmt.Sprintf("%x", k))
}
