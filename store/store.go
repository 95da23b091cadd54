package store

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker"
)

// SchemaVersion is the layout this package writes.
const SchemaVersion = 1

// Key prefixes.
const (
	prefixVersion   = 'v'
	prefixSecret    = 's'
	prefixPeer      = 'p'
	prefixCompleted = 'c'
	// Destinations in their compact form (i2p.Destination.AppendCompact,
	// 74 bytes for most: kept in the tree, not the value log).
	prefixDestination = 'D'
	// prefixDestinationRaw: Destinations as they are (391+ bytes), as
	// versions before the compact form wrote them; still read, never
	// written, gone with their TTL.
	prefixDestinationRaw = 'd'
)

// Errors Open reports.
var (
	ErrLocked      = errors.New("store: data directory is in use by another process")
	ErrNewerSchema = errors.New("store: data directory was written by a newer version")
)

// Options configure a Store.
type Options struct {
	PeerTTL        time.Duration // default 2430 s (1.5 × 1620)
	DestinationTTL time.Duration // default 7 days
	FlushInterval  time.Duration // default 1 s
	MaxPending     int           // default 1,000,000 keys
	GCInterval     time.Duration // value-log GC; default 10 min
	// NoSync skips fsync on each flush (faster; a power loss, unlike a
	// crash, may then lose more than one interval).
	NoSync bool
	// MinFreeBytes is the free space on the store's file system below
	// which the journal pauses (see ErrDiskFull); default: what Badger
	// may write unasked with the store's sizes (diskReserve).
	MinFreeBytes int64
	Logger       *slog.Logger
	Now          func() time.Time

	openBytes int64 // free space below which Badger opens read-only; default openBytes
}

func (o *Options) fill() {
	if o.PeerTTL <= 0 {
		o.PeerTTL = 2430 * time.Second
	}
	if o.DestinationTTL <= 0 {
		o.DestinationTTL = 7 * 24 * time.Hour
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 1_000_000
	}
	if o.GCInterval <= 0 {
		o.GCInterval = 10 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.openBytes <= 0 {
		o.openBytes = openBytes
	}
}

// Store is the Badger-backed tracker.Persister.
type Store struct {
	dbMu     sync.RWMutex // see readonly.go
	db       *badger.DB   // nil while read-only with nothing journaled yet
	readOnly bool         // opened on a full disk (readonly.go)
	bo       badger.Options
	dir      string
	opts     Options

	peerTTL atomic.Int64 // a peer record's TTL; SetPeerTTL changes it

	mu       sync.Mutex
	pending  map[pkey]op
	seq      uint64 // journal calls so far
	durable  atomic.Uint64
	flushReq chan chan error
	stop     chan struct{}
	done     chan struct{}
	closed   atomic.Bool

	disk *diskWatch

	flushed, dropped, flushErrors atomic.Uint64
	lastFlush, lastFlushDur       atomic.Int64
	restoreDur                    atomic.Int64
	restoredPeers, corrupt        atomic.Uint64
}

// pkey is a pending key: prefix + up to 52 bytes.
type pkey struct {
	n int
	b [1 + 20 + 32]byte
}

func (k *pkey) bytes() []byte { return k.b[:k.n] }

type opKind uint8

const (
	opPutPeer opKind = iota
	opDelete
	opPutCompleted
	opPutDestination
	opPutBid
	opPutSecret
)

type op struct {
	kind     opKind
	seen     uint32
	flags    byte // peer record flags
	count    uint64
	value    []byte // a Destination's or a bid's record
	expireAt uint64
}

// Open opens (or creates) the store in dir.
func Open(dir string, opts Options) (*Store, error) {
	opts.fill()
	// Sized for a write-mostly journal of small records: the tracker
	// reads the store only when it starts. Small memtables, no block
	// cache and no compression (keys are random hashes, values a few
	// bytes) keep Badger's fixed memory small: its table builders
	// allocate buffers per table (twice the table size, kept in a pool of
	// eight), compression adds more, so tables are 1 MB at every level.
	// Destinations are journaled compact (74 bytes for most) and stay in
	// the tree; only larger values go to the value log.
	bo := badger.DefaultOptions(dir).
		WithLogger(badgerLogger{opts.Logger}).
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithBaseTableSize(1 << 20).
		WithBlockCacheSize(0).
		WithIndexCacheSize(4 << 20).
		WithCompression(options.None).
		WithValueLogFileSize(64 << 20).
		WithValueThreshold(128).
		WithNumLevelZeroTables(3).
		WithNumLevelZeroTablesStall(8).
		WithNumCompactors(2).
		WithCompactL0OnClose(true).
		WithNumVersionsToKeep(1).
		WithSyncWrites(!opts.NoSync)
	bo.TableSizeMultiplier = 1 // no WithTableSizeMultiplier
	if opts.MinFreeBytes <= 0 {
		opts.MinFreeBytes = diskReserve(bo)
	}
	disk := newDiskWatch(dir, opts.MinFreeBytes, opts.Logger, opts.Now)
	release, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	err = checkSchemaFile(dir)
	if err == nil {
		err = checkDir(dir, bo)
	}
	if err == nil {
		err = checkLogs(dir)
	}
	// Below the reserve the store opens with its journal paused; read-only
	// only when not even what Badger writes as it opens is free.
	readOnly := err == nil && disk.roomFor(0) != nil && disk.snapshot().FreeBytes < opts.openBytes
	release()
	if err != nil {
		return nil, err
	}
	db, err := openDB(bo, readOnly)
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("%w: %s: %v", ErrLocked, dir, err)
		}
		if readOnly && strings.Contains(err.Error(), badger.ErrTruncateNeeded.Error()) { // Badger wraps it as text
			// The logs were checked above: an unclean stop left them
			// to be cut to their last record, which takes a write.
			return nil, fmt.Errorf("%w: %s: after an unclean stop its log must be rewritten, which needs %d bytes free: %s",
				ErrDiskFull, dir, opts.openBytes, disk.snapshot().Reason)
		}
		if looksDamaged(err, dir) {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, dir, err)
		}
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	s := &Store{db: db, readOnly: readOnly, bo: bo, dir: dir, opts: opts, disk: disk, pending: map[pkey]op{},
		flushReq: make(chan chan error), stop: make(chan struct{}), done: make(chan struct{})}
	if err := s.checkSchema(); err != nil {
		s.closeDB()
		return nil, err
	}
	if readOnly {
		opts.Logger.Warn("store: disk full at start; opened read-only, the tracker serves from memory until space returns",
			"dir", dir, "reason", disk.snapshot().Reason)
	} else if err := writeSchemaFile(dir); err != nil {
		db.Close()
		return nil, err
	}
	s.peerTTL.Store(int64(opts.PeerTTL))
	go s.run()
	return s, nil
}

// schemaFile names the schema version beside Badger's files, so a
// directory a newer version wrote is refused before Badger opens it (an
// open writes: its own bookkeeping, and the compaction on close). The
// version key inside Badger stays the authority for what the data is.
const schemaFile = "SCHEMA"

// checkSchemaFile refuses a directory whose schema file names a newer
// version; a missing file (a new directory, or one from before the file)
// is no reason to refuse.
func checkSchemaFile(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, schemaFile))
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(b) == 0) {
		return nil // none yet (an empty one: a crash before its write settled)
	}
	if err != nil {
		return fmt.Errorf("store: read schema file: %w", err)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil {
		return fmt.Errorf("%w: %s: schema file holds %q; left as it is", ErrCorrupt, dir, b)
	}
	if v > SchemaVersion {
		return fmt.Errorf("%w: %s has schema %d, this build knows %d; left as it is", ErrNewerSchema, dir, v, SchemaVersion)
	}
	return nil
}

// writeSchemaFile records this build's schema version beside the data,
// atomically, unless it is recorded already.
func writeSchemaFile(dir string) error {
	path := filepath.Join(dir, schemaFile)
	want := strconv.Itoa(SchemaVersion) + "\n"
	if b, err := os.ReadFile(path); err == nil && string(b) == want {
		return nil
	}
	tmp := path + ".tmp"
	err := func() error {
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		_, werr := f.WriteString(want)
		serr := f.Sync() // the bytes are down before the name points at them
		if err := errors.Join(werr, serr, f.Close()); err != nil {
			return err
		}
		return os.Rename(tmp, path)
	}()
	if err != nil {
		return fmt.Errorf("store: write schema file: %w", err)
	}
	return nil
}

// checkSchema refuses a database of a newer schema and writes the
// version into a new one (a read-only one gets it once writable).
func (s *Store) checkSchema() error {
	if s.db == nil {
		return nil
	}
	check := func(txn *badger.Txn) error {
		item, err := txn.Get([]byte{prefixVersion})
		if errors.Is(err, badger.ErrKeyNotFound) {
			if s.readOnly {
				return nil
			}
			return txn.Set([]byte{prefixVersion}, binary.BigEndian.AppendUint32(nil, SchemaVersion))
		}
		if err != nil {
			return fmt.Errorf("store: read schema version: %w", err)
		}
		return item.Value(func(v []byte) error {
			if len(v) != 4 {
				return fmt.Errorf("store: corrupt schema version (%d bytes)", len(v))
			}
			if got := binary.BigEndian.Uint32(v); got > SchemaVersion {
				return fmt.Errorf("%w: %s has schema %d, this build knows %d", ErrNewerSchema, s.dir, got, SchemaVersion)
			}
			return nil
		})
	}
	if s.readOnly {
		return s.db.View(check)
	}
	return s.db.Update(check)
}

// --- the journal (tracker.Persister) ---

func peerKey(info tracker.InfoHash, peer i2p.Hash) pkey {
	var k pkey
	k.b[0] = prefixPeer
	copy(k.b[1:], info[:])
	copy(k.b[21:], peer[:])
	k.n = 53
	return k
}

// record adds one op to the pending set (coalescing by key).
func (s *Store) record(k pkey, o op) {
	s.mu.Lock()
	s.seq++
	if _, ok := s.pending[k]; !ok && len(s.pending) >= s.opts.MaxPending {
		s.mu.Unlock()
		s.dropped.Add(1)
		return
	}
	s.pending[k] = o
	s.mu.Unlock()
}

// SetPeerTTL changes how long a peer journaled from now on stays on disk
// (the tracker's peer expiry, when its interval changes live).
func (s *Store) SetPeerTTL(d time.Duration) {
	if d > 0 {
		s.peerTTL.Store(int64(d))
	}
}

// Flags of a peer record.
const (
	flagSeed      = 1 << 0
	flagCompleted = 1 << 1 // its download was counted
)

// PeerUpdated journals a peer's announce.
func (s *Store) PeerUpdated(p tracker.PeerRecord) {
	expire := p.LastSeen.Add(time.Duration(s.peerTTL.Load())).Unix()
	var flags byte
	if p.Seed {
		flags |= flagSeed
	}
	if p.Completed {
		flags |= flagCompleted
	}
	s.record(peerKey(p.Info, p.Peer), op{kind: opPutPeer, seen: uint32(p.LastSeen.Unix()), flags: flags, expireAt: uint64(expire)})
}

// PeerRemoved journals a stopped peer.
func (s *Store) PeerRemoved(info tracker.InfoHash, peer i2p.Hash) {
	s.record(peerKey(info, peer), op{kind: opDelete})
}

// CompletedChanged journals a swarm's download count.
func (s *Store) CompletedChanged(info tracker.InfoHash, total uint64) {
	var k pkey
	k.b[0] = prefixCompleted
	copy(k.b[1:], info[:])
	k.n = 21
	s.record(k, op{kind: opPutCompleted, count: total})
}

// DestinationSeen journals a Destination for the cache.
func (s *Store) DestinationSeen(d i2p.Destination) {
	var k pkey
	h := d.Hash()
	k.b[0] = prefixDestination
	copy(k.b[1:], h[:])
	k.n = 33
	expire := s.opts.Now().Add(s.opts.DestinationTTL).Unix()
	s.record(k, op{kind: opPutDestination, value: d.AppendCompact(nil), expireAt: uint64(expire)})
}

// --- the writer ---

func (s *Store) run() {
	defer close(s.done)
	flush := time.NewTicker(s.opts.FlushInterval)
	defer flush.Stop()
	gc := time.NewTicker(s.opts.GCInterval)
	defer gc.Stop()
	for {
		select {
		case <-s.stop:
			return
		case reply := <-s.flushReq:
			reply <- s.flush()
		case <-flush.C:
			if err := s.flush(); err != nil && !errors.Is(err, ErrDiskFull) { // a pause is logged once
				s.opts.Logger.Error("store: flush failed; changes stay pending", "err", err)
			}
		case <-gc.C:
			// GC rewrites live values into the newest value-log file.
			if !s.readOnly && s.disk.spare(s.bo.ValueLogFileSize) {
				s.valueLogGC()
			}
		}
	}
}

// flush writes the pending set in one batch, when the disk has room for
// it. On failure the set is merged back (newer changes win) so nothing is
// silently lost.
func (s *Store) flush() error {
	if err := s.writable(); err != nil {
		return err // the pending set waits, untouched
	}
	if err := s.disk.roomFor(0); err != nil {
		return err // the pending set waits, untouched
	}
	s.mu.Lock()
	batch := s.pending
	seq := s.seq
	if len(batch) == 0 {
		s.mu.Unlock()
		s.durable.Store(seq)
		return nil
	}
	s.pending = make(map[pkey]op, len(batch))
	s.mu.Unlock()
	if err := s.disk.roomFor(batchBytes(batch)); err != nil {
		s.putBack(batch)
		return err
	}

	start := time.Now()
	wb := s.db.NewWriteBatch()
	err := func() error {
		for k, o := range batch {
			key := append([]byte(nil), k.bytes()...)
			var e *badger.Entry
			switch o.kind {
			case opDelete:
				if err := wb.Delete(key); err != nil {
					return err
				}
				continue
			case opPutPeer:
				v := binary.BigEndian.AppendUint32(make([]byte, 0, 5), o.seen)
				e = badger.NewEntry(key, append(v, o.flags))
				e.ExpiresAt = o.expireAt
			case opPutCompleted:
				e = badger.NewEntry(key, binary.BigEndian.AppendUint64(nil, o.count))
			case opPutDestination:
				e = badger.NewEntry(key, o.value)
				e.ExpiresAt = o.expireAt
			case opPutBid, opPutSecret:
				e = badger.NewEntry(key, o.value)
			}
			if err := wb.SetEntry(e); err != nil {
				return err
			}
		}
		return wb.Flush()
	}()
	if err != nil {
		wb.Cancel()
		s.flushErrors.Add(1)
		s.putBack(batch)
		return fmt.Errorf("store: write batch: %w", err)
	}
	s.flushed.Add(uint64(len(batch)))
	s.durable.Store(seq)
	s.lastFlush.Store(time.Now().UnixNano())
	s.lastFlushDur.Store(int64(time.Since(start)))
	return nil
}

// putBack merges a batch that was not written into the pending set;
// changes made since win.
func (s *Store) putBack(batch map[pkey]op) {
	s.mu.Lock()
	for k, o := range batch {
		if _, newer := s.pending[k]; !newer {
			s.pending[k] = o
		}
	}
	s.mu.Unlock()
}

func (s *Store) valueLogGC() {
	for range 16 {
		if err := s.db.RunValueLogGC(0.5); err != nil {
			return // badger.ErrNoRewrite: nothing more to reclaim
		}
	}
}

// Flush writes everything journaled so far and returns when it is on disk.
func (s *Store) Flush(ctx context.Context) error {
	if s.closed.Load() {
		return errors.New("store: closed")
	}
	reply := make(chan error, 1)
	select {
	case s.flushReq <- reply:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return errors.New("store: closed")
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Durable is how many journal calls are settled: written to disk, or
// dropped because the pending set was full (those are counted in
// Stats.Dropped, and none is dropped while Dropped stays 0).
func (s *Store) Durable() uint64 { return s.durable.Load() }

// Journaled is how many journal calls were made.
func (s *Store) Journaled() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// Close flushes what is pending and closes the database.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.stop)
	<-s.done
	ferr := s.flush()
	if errors.Is(ferr, ErrDiskFull) {
		s.mu.Lock()
		lost := len(s.pending)
		s.pending = map[pkey]op{}
		s.mu.Unlock()
		s.dropped.Add(uint64(lost))
		full := ferr
		if ferr = nil; lost > 0 {
			ferr = fmt.Errorf("store: close: %d pending changes not written: %w", lost, full)
		}
	}
	return errors.Join(ferr, s.closeDB())
}

// closeDB closes the database, if one is open.
func (s *Store) closeDB() error {
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if s.db == nil {
		return nil
	}
	return s.db.Close()
}

// --- the secret ---

// Secret returns the UDP tracker's connection-ID secret (32 bytes),
// creating and persisting a random one on first use, so connection IDs
// stay valid across restarts.
func (s *Store) Secret(ctx context.Context) ([]byte, error) {
	if out, err := s.secretReadOnly(); out != nil || err != nil {
		return out, err
	}
	var out []byte
	err := s.update(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte{prefixSecret})
		if err == nil {
			out, err = item.ValueCopy(nil)
			if err == nil && len(out) != 32 {
				return fmt.Errorf("store: corrupt secret (%d bytes)", len(out))
			}
			return err
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		out = make([]byte, 32)
		if _, err := rand.Read(out); err != nil {
			return err
		}
		return txn.Set([]byte{prefixSecret}, out)
	})
	if err != nil {
		return nil, fmt.Errorf("store: secret: %w", err)
	}
	return out, nil
}

// Path is the data directory.
func (s *Store) Path() string { return s.dir }

// Stats describe the store's health.
type Stats struct {
	Pending                       int
	Flushed, Dropped, FlushErrors uint64
	LastFlush                     time.Time
	LastFlushDuration             time.Duration
	SizeBytes                     int64 // space used on disk, as du counts it
	RestoreDuration               time.Duration
	RestoredPeers, Corrupt        uint64
	Disk                          DiskState
}

// Stats returns the counters.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	pending := len(s.pending)
	s.mu.Unlock()
	st := Stats{
		Pending: pending, Flushed: s.flushed.Load(), Dropped: s.dropped.Load(), FlushErrors: s.flushErrors.Load(),
		LastFlushDuration: time.Duration(s.lastFlushDur.Load()), SizeBytes: usedBytes(s.dir),
		RestoreDuration: time.Duration(s.restoreDur.Load()), RestoredPeers: s.restoredPeers.Load(), Corrupt: s.corrupt.Load(),
		Disk: s.disk.snapshot(),
	}
	if t := s.lastFlush.Load(); t != 0 {
		st.LastFlush = time.Unix(0, t)
	}
	return st
}

type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error("badger: " + strings.TrimSpace(fmt.Sprintf(f, a...)))
}
func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn("badger: " + strings.TrimSpace(fmt.Sprintf(f, a...)))
}
func (b badgerLogger) Infof(string, ...any)  {}
func (b badgerLogger) Debugf(string, ...any) {}

var _ tracker.Persister = (*Store)(nil)
