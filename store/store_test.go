package store

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker"
)

func open(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hashN(n uint64) i2p.Hash {
	var h i2p.Hash
	binary.BigEndian.PutUint64(h[:], n)
	h[31] = 1
	return h
}

func infoN(n uint64) tracker.InfoHash {
	var h tracker.InfoHash
	binary.BigEndian.PutUint64(h[:], n)
	h[19] = 7
	return h
}

func pk(info tracker.InfoHash, peer i2p.Hash) [2]string {
	return [2]string{string(info[:]), string(peer[:])}
}

// collector is a tracker.Restorer that records what it is given (peers
// come from several goroutines at once).
type collector struct {
	mu        sync.Mutex
	peers     map[[2]string]tracker.PeerRecord
	completed map[tracker.InfoHash]uint64
	dests     map[i2p.Hash]i2p.Destination
	expected  int // ExpectPeers
}

func newCollector() *collector {
	return &collector{peers: map[[2]string]tracker.PeerRecord{}, completed: map[tracker.InfoHash]uint64{}, dests: map[i2p.Hash]i2p.Destination{}}
}

func (c *collector) RestorePeer(p tracker.PeerRecord) {
	c.mu.Lock()
	c.peers[pk(p.Info, p.Peer)] = p
	c.mu.Unlock()
}
func (c *collector) RestoreCompleted(info tracker.InfoHash, n uint64) { c.completed[info] = n }
func (c *collector) ExpectPeers(n int)                                { c.expected = n }

func restore(t testing.TB, s *Store) *collector {
	t.Helper()
	c := newCollector()
	if err := s.Restore(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	err := s.RestoreDestinations(context.Background(), func(d i2p.Destination) bool {
		c.dests[d.Hash()] = d
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRestoreCoversEveryKeyRange: peers are restored by one iterator per
// core over ranges of the info hash's first byte; every byte value, and
// so every range boundary, must come back.
func TestRestoreCoversEveryKeyRange(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	defer s.Close()
	now := time.Now()
	for b := range 256 {
		info := infoN(uint64(b))
		info[0] = byte(b)
		for j := range uint64(3) {
			s.PeerUpdated(tracker.PeerRecord{Info: info, Peer: hashN(uint64(b)*3 + j), LastSeen: now})
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := restore(t, s)
	if len(c.peers) != 256*3 || s.Stats().RestoredPeers != 256*3 {
		t.Fatalf("restored %d peers (counted %d), want %d", len(c.peers), s.Stats().RestoredPeers, 256*3)
	}
	for b := range 256 {
		info := infoN(uint64(b))
		info[0] = byte(b)
		if _, ok := c.peers[pk(info, hashN(uint64(b)*3))]; !ok {
			t.Fatalf("no peer restored for first byte %d", b)
		}
	}
}

// TestRestoreDestinationsStops: the replay ends when fn says so.
func TestRestoreDestinationsStops(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	defer s.Close()
	for range 5 {
		k, err := i2p.NewIdentity(crand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		s.DestinationSeen(k.Destination)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := s.RestoreDestinations(context.Background(), func(i2p.Destination) bool { n++; return n < 2 }); err != nil || n != 2 {
		t.Fatalf("read %d Destinations after asking to stop at 2 (%v)", n, err)
	}
	if s.Stats().Corrupt != 0 {
		t.Fatalf("stopping counted %d corrupt records", s.Stats().Corrupt)
	}
}

// TestDestinationForms: Destinations are journaled in their compact form
// (74 bytes for 0.9.57 padding, kept beside the key), and those an older
// version wrote whole are still restored.
func TestDestinationForms(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	fresh, _ := i2p.NewIdentity(crand.Reader)
	legacy, _ := i2p.NewIdentity(crand.Reader)
	s.DestinationSeen(fresh.Destination)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := legacy.Destination.Hash()
	err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(append([]byte{prefixDestinationRaw}, h[:]...), legacy.Destination.Bytes())
	})
	if err != nil {
		t.Fatal(err)
	}
	fh := fresh.Destination.Hash()
	err = s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(append([]byte{prefixDestination}, fh[:]...))
		if err != nil {
			return err
		}
		// 74 bytes, or one less when the signing key happens to begin
		// with the pattern's next byte.
		if n := item.ValueSize(); n != int64(len(fresh.Destination.AppendCompact(nil))) || n > 74 {
			t.Errorf("compact Destination record holds %d bytes, want 74", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir, Options{})
	defer s.Close()
	var got []i2p.Destination
	if err := s.RestoreDestinations(context.Background(), func(d i2p.Destination) bool { got = append(got, d); return true }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Equal(fresh.Destination) || !bytes.Equal(got[1].Bytes(), legacy.Destination.Bytes()) || s.Stats().Corrupt != 0 {
		t.Fatalf("restored %d Destinations (corrupt %d)", len(got), s.Stats().Corrupt)
	}
	n := 0
	if err := s.RestoreDestinations(context.Background(), func(i2p.Destination) bool { n++; return false }); err != nil || n != 1 {
		t.Fatalf("asked to stop at the first, read %d (%v)", n, err)
	}
}

func TestCleanRestartRestoresEverything(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	secret, err := s.Secret(context.Background())
	if err != nil || len(secret) != 32 {
		t.Fatalf("secret: %v", err)
	}
	now := time.Now().Truncate(time.Second)
	for i := range uint64(100) {
		s.PeerUpdated(tracker.PeerRecord{Info: infoN(i % 7), Peer: hashN(i), LastSeen: now, Seed: i%3 == 0, Completed: i%5 == 0})
	}
	s.PeerRemoved(infoN(1), hashN(1))
	s.CompletedChanged(infoN(2), 42)
	k, _ := i2p.NewIdentity(crand.Reader)
	s.DestinationSeen(k.Destination)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, dir, Options{})
	defer s.Close()
	c := restore(t, s)
	if len(c.peers) != 99 {
		t.Fatalf("restored %d peers, want 99", len(c.peers))
	}
	for i := range uint64(100) {
		if i == 1 {
			continue
		}
		p := c.peers[pk(infoN(i%7), hashN(i))]
		if p.Seed != (i%3 == 0) || p.Completed != (i%5 == 0) || !p.LastSeen.Equal(now) {
			t.Fatalf("peer %d restored as %+v", i, p)
		}
	}
	if c.completed[infoN(2)] != 42 {
		t.Fatal("completed count lost")
	}
	if d, ok := c.dests[k.Destination.Hash()]; !ok || !d.Equal(k.Destination) {
		t.Fatal("destination lost")
	}
	again, err := s.Secret(context.Background())
	if err != nil || string(again) != string(secret) {
		t.Fatal("secret changed across restart: connection ids would break")
	}
	// The tables' key counts estimate the peers (stale versions and the
	// few other keys in the same tables counted too).
	if c.expected < 99 || c.expected > 120 {
		t.Fatalf("expected %d peers, restored 99", c.expected)
	}
	if st := s.Stats(); st.RestoredPeers != 99 || st.SizeBytes <= 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestExpiredPeersLeaveTheDisk(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{PeerTTL: 2 * time.Second})
	now := time.Now()
	s.PeerUpdated(tracker.PeerRecord{Info: infoN(1), Peer: hashN(1), LastSeen: now.Add(-time.Second)}) // expires in ~1 s
	s.PeerUpdated(tracker.PeerRecord{Info: infoN(1), Peer: hashN(2), LastSeen: now.Add(time.Hour)})    // far from expiry
	// The expiry grew live (a longer interval): this one outlives the
	// first though it was seen as long ago.
	s.SetPeerTTL(time.Hour)
	s.PeerUpdated(tracker.PeerRecord{Info: infoN(1), Peer: hashN(3), LastSeen: now.Add(-time.Second)})
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	c := restore(t, s)
	if _, gone := c.peers[pk(infoN(1), hashN(1))]; len(c.peers) != 2 || gone {
		t.Fatalf("%d peers restored, want the two live ones", len(c.peers))
	}
	s.Close()
}

// TestNewerSchemaRefused: a directory a newer version wrote is refused,
// by its schema file before Badger opens it (so not a byte changes), or
// by the version key when the file is gone.
func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	s.PeerUpdated(tracker.PeerRecord{Info: infoN(1), Peer: hashN(1), LastSeen: time.Now()})
	s.db.Update(func(txn *badger.Txn) error {
		return txn.Set([]byte{prefixVersion}, binary.BigEndian.AppendUint32(nil, SchemaVersion+1))
	})
	s.Close()
	if b, err := os.ReadFile(filepath.Join(dir, schemaFile)); err != nil || string(b) != fmt.Sprintln(SchemaVersion) {
		t.Fatalf("schema file %q (%v)", b, err)
	}
	os.WriteFile(filepath.Join(dir, schemaFile), fmt.Appendln(nil, SchemaVersion+1), 0o600)
	before := snapshot(t, dir)
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("newer schema file: %v", err)
	}
	if after := snapshot(t, dir); !maps.Equal(before, after) {
		t.Fatalf("the refused directory changed:\nbefore %v\nafter  %v", before, after)
	}
	os.Remove(filepath.Join(dir, schemaFile))
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("newer schema key: %v", err)
	}
}

func TestLockedDirectory(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	defer s.Close()
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
}

// TestDamagedDirectory: a data directory damaged on disk is refused with
// ErrCorrupt, without a panic, and left exactly as it was (Badger alone
// would start empty and delete the tables, restore part of the peers
// without a word, or crash the process).
func TestDamagedDirectory(t *testing.T) {
	tables := func(dir string) []string {
		m, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
		if len(m) == 0 {
			t.Fatal("no table files to damage")
		}
		return m
	}
	cases := []struct {
		name   string
		damage func(dir string)
	}{
		{"MANIFEST deleted", func(dir string) { os.Remove(filepath.Join(dir, "MANIFEST")) }},
		{"MANIFEST overwritten", func(dir string) {
			os.WriteFile(filepath.Join(dir, "MANIFEST"), []byte("not a manifest at all"), 0o600)
		}},
		{"table cut short", func(dir string) { os.Truncate(tables(dir)[0], 100) }},
		{"table cut to nothing", func(dir string) { os.Truncate(tables(dir)[0], 0) }},
		{"table footer zeroed", func(dir string) {
			f := tables(dir)[0]
			b, _ := os.ReadFile(f)
			clear(b[len(b)-64:])
			os.WriteFile(f, b, 0o600)
		}},
		{"bytes flipped inside a table", func(dir string) {
			f := tables(dir)[0]
			b, _ := os.ReadFile(f)
			for i := len(b) / 3; i < len(b)/3+512; i++ {
				b[i] ^= 0xff
			}
			os.WriteFile(f, b, 0o600)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := populated(t, 20000)
			c.damage(dir)
			before := snapshot(t, dir)
			s, err := Open(dir, Options{})
			if err == nil {
				n := len(restore(t, s).peers)
				s.Close()
				t.Fatalf("damaged directory opened (%d of 20000 peers restored)", n)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v, want ErrCorrupt", err)
			}
			if after := snapshot(t, dir); !maps.Equal(before, after) {
				t.Fatalf("the refused directory changed:\nbefore %v\nafter  %v", before, after)
			}
			t.Log(err)
		})
	}
}

// TestSchemaFileContents: an empty schema file (a crash before its write
// settled) is no schema file and is written again; one that holds no
// number is damage.
func TestSchemaFileContents(t *testing.T) {
	dir := populated(t, 10)
	path := filepath.Join(dir, schemaFile)
	os.WriteFile(path, nil, 0o600)
	s := open(t, dir, Options{})
	s.Close()
	if b, _ := os.ReadFile(path); string(b) != fmt.Sprintln(SchemaVersion) {
		t.Fatalf("schema file %q after an open", b)
	}
	os.WriteFile(path, []byte("one\n"), 0o600)
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a schema file without a number: %v, want ErrCorrupt", err)
	}
}

// TestLooksDamaged: Badger's errors for damaged files count as damage; a
// file the store may not read, or a word in the directory's own name,
// does not.
func TestLooksDamaged(t *testing.T) {
	dir := "/srv/magic-truncate/store"
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("open: %w", badger.ErrEncryptionKeyMismatch), true},
		{errors.New("while opening value log: checksum mismatch"), true},
		{&fs.PathError{Op: "open", Path: dir + "/MANIFEST", Err: fs.ErrPermission}, false},
		{errors.New("cannot open " + dir + "/000001.vlog: no space left on device"), false},
	} {
		if got := looksDamaged(c.err, dir); got != c.want {
			t.Errorf("looksDamaged(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	// Through Open: a key registry Badger cannot read.
	d := populated(t, 10)
	os.WriteFile(filepath.Join(d, "KEYREGISTRY"), []byte("not a key registry at all"), 0o600)
	if _, err := Open(d, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a damaged key registry: %v, want ErrCorrupt", err)
	}
}

// TestCrashLeftoverTable: a table file the MANIFEST does not list (a
// crash while Badger wrote it) is no damage: Open succeeds, Badger
// removes it, and every peer is there. A table the MANIFEST lists that
// is gone is damage.
func TestCrashLeftoverTable(t *testing.T) {
	dir := populated(t, 20000)
	leftover := filepath.Join(dir, "000999.sst")
	os.WriteFile(leftover, make([]byte, 1<<20), 0o600)
	s := open(t, dir, Options{})
	if n := len(restore(t, s).peers); n != 20000 {
		t.Fatalf("restored %d of 20000 peers", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the leftover table is still there: %v", err)
	}

	m, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(m) == 0 {
		t.Fatal("no tables")
	}
	os.Remove(m[0])
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a listed table missing: %v, want ErrCorrupt", err)
	}
}

// TestCompressedTablesRead: tables written with compression (as Badger's
// defaults wrote them before this store turned it off) pass the check
// and restore: the MANIFEST records each table's compression.
func TestCompressedTablesRead(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil).WithCompression(options.Snappy).WithBaseTableSize(1 << 20))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	wb := db.NewWriteBatch()
	for i := range uint64(20000) {
		k := peerKey(infoN(i%50), hashN(i))
		v := binary.BigEndian.AppendUint32(nil, uint32(now.Unix()))
		if err := wb.SetEntry(badger.NewEntry(append([]byte(nil), k.bytes()...), append(v, 0)).WithTTL(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.Flatten(1); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.sst")); len(m) == 0 {
		t.Fatal("no tables written")
	}
	s := open(t, dir, Options{})
	defer s.Close()
	if n := len(restore(t, s).peers); n != 20000 {
		t.Fatalf("restored %d of 20000 peers", n)
	}
}

// populated returns a closed store's directory holding n peers in 50
// swarms (tables on disk: the store compacts level 0 on close).
func populated(t *testing.T, n uint64) string {
	t.Helper()
	dir := t.TempDir()
	s := open(t, dir, Options{})
	now := time.Now()
	for i := range n {
		s.PeerUpdated(tracker.PeerRecord{Info: infoN(i % 50), Peer: hashN(i), LastSeen: now})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// snapshot maps a directory's file names to their sizes.
func snapshot(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			out[e.Name()] = fi.Size()
		}
	}
	return out
}

func TestCoalesceAndDrop(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{MaxPending: 3, FlushInterval: time.Hour})
	defer s.Close()
	now := time.Now()
	for range 1000 { // one key, many announces: never dropped
		s.PeerUpdated(tracker.PeerRecord{Info: infoN(1), Peer: hashN(1), LastSeen: now})
	}
	for i := range uint64(5) {
		s.PeerUpdated(tracker.PeerRecord{Info: infoN(2), Peer: hashN(i), LastSeen: now})
	}
	if st := s.Stats(); st.Pending != 3 || st.Dropped != 3 {
		t.Fatalf("pending %d dropped %d, want 3 and 3", st.Pending, st.Dropped)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Pending != 0 || st.Flushed != 3 || s.Durable() != s.Journaled() {
		t.Fatalf("after flush %+v", st)
	}
}

func TestCorruptRecordsSkipped(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	s.PeerUpdated(tracker.PeerRecord{Info: infoN(1), Peer: hashN(1), LastSeen: time.Now()})
	s.Flush(context.Background())
	s.db.Update(func(txn *badger.Txn) error {
		bad := append([]byte{prefixPeer}, make([]byte, 52)...)
		bad[5] = 9
		if err := txn.Set(bad, []byte{1, 2}); err != nil {
			return err
		}
		return txn.Set(append([]byte{prefixDestination}, make([]byte, 32)...), []byte("not a destination"))
	})
	c := restore(t, s)
	if len(c.peers) != 1 || len(c.dests) != 0 || s.Stats().Corrupt != 2 {
		t.Fatalf("peers %d dests %d corrupt %d", len(c.peers), len(c.dests), s.Stats().Corrupt)
	}
	s.Close()
}

// TestTrackerRoundTrip persists a real tracker's state and restores it
// into a new one.
func TestTrackerRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	tr := tracker.New(tracker.Config{}, s)
	buf := make([]i2p.Hash, 50)
	for i := range uint64(200) {
		tr.Announce(&tracker.AnnounceRequest{InfoHash: infoN(i % 10), Peer: hashN(i), Left: i % 2}, buf)
	}
	tr.Announce(&tracker.AnnounceRequest{InfoHash: infoN(0), Peer: hashN(0), Event: tracker.EventCompleted}, buf)
	before := tr.Totals()
	s.Close()

	s = open(t, dir, Options{})
	defer s.Close()
	tr2 := tracker.New(tracker.Config{}, s)
	if err := tr2.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after := tr2.Totals(); after != before {
		t.Fatalf("before %+v after %+v", before, after)
	}
}

// The crash test: a child process journals announces as fast as it can
// and reports what is durable; it is killed with SIGKILL; every announce
// reported durable must be there after a restart. Several cycles share
// one directory. Each cycle logs its loss window: how long before the
// kill the first announce lost was journaled (at most; the child reports
// every 256th announce's time).
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("STORE_CRASH_CHILD_DIR")
	if dir == "" {
		t.Skip("run by TestCrash")
	}
	base, _ := strconv.ParseUint(os.Getenv("STORE_CRASH_CHILD_BASE"), 10, 64)
	// STORE_CRASH_FLUSH sets the flush interval, to measure the loss
	// window at the default one (docs/performance.md).
	interval, err := time.ParseDuration(cmp.Or(os.Getenv("STORE_CRASH_FLUSH"), "50ms"))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	s, err := Open(dir, Options{FlushInterval: interval})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	now := time.Now()
	reported := uint64(0)
	for n := base; ; n++ {
		s.PeerUpdated(tracker.PeerRecord{Info: infoN(n % 100), Peer: hashN(n), LastSeen: now})
		if d := s.Durable(); d > reported {
			reported = d
			fmt.Fprintf(out, "durable %d\n", base+d) // journal calls 1..d, i.e. announces base..base+d-1
			out.Flush()
		}
		if n%64 == 0 {
			time.Sleep(time.Millisecond)
		}
		if (n-base)%256 == 0 {
			// When announce n was journaled, for the loss window TestCrash logs.
			fmt.Fprintf(out, "at %d %d\n", n, time.Now().UnixNano())
			out.Flush()
		}
	}
}

func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	dir := t.TempDir()
	base := uint64(0)
	for cycle := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v=false")
		cmd.Env = append(os.Environ(), "STORE_CRASH_CHILD_DIR="+dir, fmt.Sprintf("STORE_CRASH_CHILD_BASE=%d", base))
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var durable uint64
		var journaled []journalTime
		var killed time.Time
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// The kill comes at a random moment once the child is writing
		// (after its first durable report), so a slow start under load
		// cannot end a cycle before anything was written.
		var killAt <-chan time.Time
		giveUp := time.After(60 * time.Second)
	read:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					break read
				}
				if v, ok := strings.CutPrefix(l, "durable "); ok {
					durable, _ = strconv.ParseUint(v, 10, 64)
					if cycle == 0 && killAt == nil {
						// Another process holds the directory: refused.
						if s, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
							if err == nil {
								s.Close()
							}
							cmd.Process.Signal(syscall.SIGKILL)
							t.Fatalf("open while the child holds the directory: %v, want ErrLocked", err)
						}
					}
					if killAt == nil {
						killAt = time.After(time.Duration(100+rand.IntN(700)) * time.Millisecond)
					}
				} else if jt, ok := parseJournalTime(l); ok {
					journaled = append(journaled, jt)
				} else if strings.HasPrefix(l, "error") {
					t.Fatal(l)
				}
			case <-killAt:
				killed = time.Now()
				cmd.Process.Signal(syscall.SIGKILL)
				killAt = nil
			case <-giveUp:
				cmd.Process.Signal(syscall.SIGKILL)
				giveUp = nil
			}
		}
		cmd.Wait()
		if durable <= base {
			t.Fatalf("cycle %d: child reported nothing durable", cycle)
		}
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("cycle %d: reopen after SIGKILL: %v", cycle, err)
		}
		c := restore(t, s)
		for n := base; n < durable; n++ {
			if _, ok := c.peers[pk(infoN(n%100), hashN(n))]; !ok {
				s.Close()
				t.Fatalf("cycle %d: announce %d was reported durable but is missing (durable up to %d)", cycle, n, durable)
			}
		}
		lost := durable
		for {
			if _, ok := c.peers[pk(infoN(lost%100), hashN(lost))]; !ok {
				break
			}
			lost++
		}
		t.Logf("cycle %d: %d announces durable before the kill, all present; %d peers on disk; loss window %v",
			cycle, durable-base, len(c.peers), lossWindow(journaled, lost, killed))
		s.Close()
		base = uint64(len(c.peers)) + 1_000_000*uint64(cycle+1)
	}
}

// journalTime is a child's report that announce n was journaled at t.
type journalTime struct {
	n uint64
	t time.Time
}

func parseJournalTime(l string) (journalTime, bool) {
	var n uint64
	var ns int64
	if _, err := fmt.Sscanf(l, "at %d %d", &n, &ns); err != nil {
		return journalTime{}, false
	}
	return journalTime{n, time.Unix(0, ns)}, true
}

// lossWindow is how long before killed the announce lost was journaled,
// at most: from the last report at or before it. It is 0 when nothing
// journaled before the kill was lost, and unknown without a kill.
func lossWindow(journaled []journalTime, lost uint64, killed time.Time) any {
	if killed.IsZero() {
		return "unknown (no kill)"
	}
	var at time.Time
	for _, jt := range journaled {
		if jt.n <= lost {
			at = jt.t
		}
	}
	if at.IsZero() || at.After(killed) {
		return time.Duration(0)
	}
	return killed.Sub(at).Round(time.Millisecond)
}

func FuzzDecodeRecords(f *testing.F) {
	f.Add(append([]byte{prefixPeer}, make([]byte, 52)...), []byte{0, 0, 0, 1, 1})
	f.Add(append([]byte{prefixCompleted}, make([]byte, 20)...), make([]byte, 8))
	f.Add(append([]byte{prefixDestinationRaw}, make([]byte, 32)...), make([]byte, 391))
	f.Add(append([]byte{prefixDestination}, make([]byte, 32)...), append([]byte{1, 1, 96}, make([]byte, 71)...))
	f.Add(append([]byte{prefixBid}, make([]byte, 52)...), make([]byte, bidValueLen))
	f.Fuzz(func(t *testing.T, k, v []byte) {
		_, _ = decodeBid(k, v)
		_, _ = decodePeer(k, v)
		_, _, _ = decodeCompleted(k, v)
		_, _ = decodeDestination(k, v)
	})
}
