package store

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/dgraph-io/badger/v4"
)

// A store whose disk is already short of its reserve when it opens is
// opened read-only: Badger replays its logs in memory and writes nothing,
// so the tracker restores what was journaled and serves from memory.
// Changes wait in the pending set as in any pause, and the first flush
// that finds the space back closes the read-only database and opens it
// for writing. A directory with nothing journaled yet is not opened at
// all until then (there is nothing to read).
//
// s.db and s.readOnly change only on the writer (the run goroutine, or
// Close after it ended), with dbMu held for writing; other goroutines
// use the database through view and update, which hold dbMu for
// reading. Lock order: dbMu before mu.

// openDB opens the database in bo.Dir, read-only when the disk is full.
func openDB(bo badger.Options, readOnly bool) (*badger.DB, error) {
	if !readOnly {
		return badger.Open(bo)
	}
	if _, err := os.Stat(filepath.Join(bo.Dir, badger.ManifestFilename)); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return badger.Open(bo.WithReadOnly(true).WithCompactL0OnClose(false))
}

// view runs fn in a read transaction; with no database open yet there is
// nothing to read and fn is not called.
func (s *Store) view(fn func(*badger.Txn) error) error {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.db == nil {
		return nil
	}
	return s.db.View(fn)
}

// update runs fn in a read-write transaction, or refuses while the store
// is read-only.
func (s *Store) update(fn func(*badger.Txn) error) error {
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.readOnly {
		return fmt.Errorf("%w: %s", ErrDiskFull, s.disk.snapshot().Reason)
	}
	return s.db.Update(fn)
}

// writable opens a read-only store for writing once the disk has room;
// it is nil when the store is writable. On the writer only.
func (s *Store) writable() error {
	if !s.readOnly {
		return nil
	}
	if err := s.disk.roomFor(0); err != nil {
		return err
	}
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if s.db != nil {
		if err := s.db.Close(); err != nil {
			return fmt.Errorf("store: close the read-only %s: %w", s.dir, err)
		}
		s.db = nil
	}
	db, err := badger.Open(s.bo)
	if err != nil {
		return fmt.Errorf("store: open %s for writing: %w", s.dir, err)
	}
	s.db, s.readOnly = db, false
	if err := s.checkSchema(); err != nil {
		return err
	}
	if err := writeSchemaFile(s.dir); err != nil {
		return err
	}
	s.opts.Logger.Info("store: free disk space is back; opened for writing", "dir", s.dir)
	return nil
}

// secretReadOnly is Secret while the store is read-only: the kept secret,
// else a new one that waits in the pending set with the other changes.
// It returns nil, nil when the store is writable.
func (s *Store) secretReadOnly() ([]byte, error) {
	s.dbMu.RLock()
	ro := s.readOnly
	s.dbMu.RUnlock()
	if !ro {
		return nil, nil
	}
	var kept []byte
	err := s.view(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte{prefixSecret})
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err == nil {
			kept, err = item.ValueCopy(nil)
		}
		return err
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("store: secret: %w", err)
	case kept != nil && len(kept) != 32:
		return nil, fmt.Errorf("store: secret: corrupt secret (%d bytes)", len(kept))
	case kept != nil:
		return kept, nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("store: secret: %w", err)
	}
	k := pkey{n: 1}
	k.b[0] = prefixSecret
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.pending[k]; ok {
		return slices.Clone(o.value), nil
	}
	s.seq++
	s.pending[k] = op{kind: opPutSecret, value: fresh} // past MaxPending: one key, and UDP connection ids depend on it
	return slices.Clone(fresh), nil
}
