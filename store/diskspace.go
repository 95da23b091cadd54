package store

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// ErrDiskFull is reported while the file system holding the store has
// less free space than the store keeps in reserve: Badger writes its logs
// and tables through memory maps of files it makes at their full size,
// and a write to a page the file system cannot supply kills the process
// (SIGBUS) instead of returning an error. So the journal pauses before
// the disk is full: the tracker goes on answering from memory, changes
// wait in the bounded pending set (new keys over its bound are dropped
// and counted), and journaling resumes when space returns.
var ErrDiskFull = errors.New("store: too little free disk space; journal paused")

// DiskState is the journal's view of the disk, at its last look.
type DiskState struct {
	Paused bool      // no flush is written until space returns
	Reason string    // why, while Paused
	Since  time.Time // when the pause began, while Paused
	// FreeBytes is the free space seen last (-1 where the platform
	// cannot tell), ReserveBytes what the store keeps free.
	FreeBytes, ReserveBytes int64
	Pauses                  uint64 // times the journal paused
}

// diskReserve is the free space Badger may need without another batch
// from the store: the live write-ahead log filled to its full size
// (twice a memtable), a level-0 table for each memtable, and a level-0
// compaction's output (level 0 at its stall size plus the base level).
func diskReserve(bo badger.Options) int64 {
	mt := bo.MemTableSize
	return 2*mt + int64(bo.NumMemtables)*mt + int64(bo.NumLevelZeroTablesStall)*mt + bo.BaseLevelSize
}

// openBytes is the free space below which Badger is opened read-only:
// it writes as it opens for writing (its LOCK file, and through memory
// maps the header of a new write-ahead log and of a new value-log file,
// a page each), and a mapped write the file system cannot supply kills
// the process. Above it and below the reserve, the store opens for
// writing with its journal paused, which also serves a directory whose
// write-ahead log a crash left untruncated (read-only, Badger refuses
// it).
const openBytes = 1 << 20

// diskWatch decides, before each flush and at each flush tick, whether
// the journal may write.
type diskWatch struct {
	dir     string
	reserve int64
	log     *slog.Logger
	now     func() time.Time

	mu     sync.Mutex
	state  DiskState
	warned bool // that the free space cannot be told
}

func newDiskWatch(dir string, reserve int64, log *slog.Logger, now func() time.Time) *diskWatch {
	return &diskWatch{dir: dir, reserve: reserve, log: log, now: now, state: DiskState{FreeBytes: -1, ReserveBytes: reserve}}
}

// roomFor looks at the free space and reports whether need bytes can be
// written with the reserve left over, pausing or resuming the journal
// when the answer changes. Resuming takes an eighth of the reserve more,
// so a disk at the edge does not switch the journal on and off at every
// flush.
func (w *diskWatch) roomFor(need int64) error {
	free, ok, err := freeBytes(w.dir)
	w.mu.Lock()
	defer w.mu.Unlock()
	if !ok {
		if err != nil && !w.warned {
			w.warned = true
			w.log.Warn("store: cannot tell the free disk space; the journal goes on", "err", err)
		}
		w.state.FreeBytes = -1
		return nil
	}
	w.state.FreeBytes = free
	want := w.reserve + need
	if w.state.Paused {
		want += w.reserve / 8
	}
	if free >= want {
		if w.state.Paused {
			w.log.Info("store: free disk space is back; journal resumes", "free_bytes", free,
				"paused_for", w.now().Sub(w.state.Since).Round(time.Millisecond))
			w.state.Paused, w.state.Reason, w.state.Since = false, "", time.Time{}
		}
		return nil
	}
	if !w.state.Paused {
		w.state.Paused, w.state.Since = true, w.now()
		w.state.Pauses++
		w.log.Warn("store: disk nearly full; journal paused, the tracker serves from memory",
			"dir", w.dir, "free_bytes", free, "reserve_bytes", w.reserve)
	}
	w.state.Reason = fmt.Sprintf("%d bytes free on the file system of %s; the store keeps %d free and needs %d more for its next flush",
		free, w.dir, w.reserve, need)
	return fmt.Errorf("%w: %s", ErrDiskFull, w.state.Reason)
}

// spare reports whether need bytes beyond the reserve are free (or the
// free space cannot be told), without pausing or resuming the journal.
func (w *diskWatch) spare(need int64) bool {
	free, ok, _ := freeBytes(w.dir)
	w.mu.Lock()
	defer w.mu.Unlock()
	return !ok || (!w.state.Paused && free >= w.reserve+need)
}

func (w *diskWatch) snapshot() DiskState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state
}

// logRecordOverhead is a journaled entry's bytes in Badger's logs beyond
// its key and value: the record header and checksum, and the version
// Badger appends to the key.
const logRecordOverhead = logMaxHeader + 4 + 8

// batchBytes is about what a flush of batch writes to Badger's logs.
func batchBytes(batch map[pkey]op) int64 {
	var n int64
	for k, o := range batch {
		n += int64(logRecordOverhead + k.n + 9 + len(o.value))
	}
	return n
}
