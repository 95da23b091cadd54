package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/go-i2p/go-opentracker/tracker"
)

// crashImage returns a copy of an open store's directory taken after
// batches of peers were flushed, one flush for each, and before it is
// closed: what a crash leaves, with the peers in the write-ahead log
// (.mem) only.
func crashImage(t testing.TB, batches ...uint64) string {
	t.Helper()
	src := t.TempDir()
	s := open(t, src, Options{FlushInterval: time.Hour})
	now := time.Now()
	next := uint64(0)
	for _, n := range batches {
		for range n {
			s.PeerUpdated(tracker.PeerRecord{Info: infoN(next % 50), Peer: hashN(next), LastSeen: now})
			next++
		}
		if err := s.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	dst := copyImage(t, src)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// copyImage copies the files of an open store's directory.
func copyImage(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	copyImageTo(t, src, dst)
	return dst
}

// copyImageTo copies the files of an open store's directory into dst,
// made if missing.
func copyImageTo(t testing.TB, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "LOCK" || !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		copySparse(t, filepath.Join(dst, e.Name()), b)
	}
}

// copySparse writes b to path, leaving its zero pages holes (the logs
// are made at their full size and mostly not written yet).
func copySparse(t testing.TB, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(int64(len(b))); err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(b); off += 4096 {
		page := b[off:min(off+4096, len(b))]
		if allZero(page) {
			continue
		}
		if _, err := f.WriteAt(page, int64(off)); err != nil {
			t.Fatal(err)
		}
	}
}

// hashDir maps a directory's file names to their SHA-256.
func hashDir(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][32]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = sha256.Sum256(b)
	}
	return out
}

// onlyFile is the one file in dir whose name ends in suffix.
func onlyFile(t *testing.T, dir, suffix string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*"+suffix))
	if len(m) != 1 {
		t.Fatalf("%d %s files in %s, want 1", len(m), suffix, dir)
	}
	return m[0]
}

// recordsEnd is where the records of a log file end.
func recordsEnd(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	end, n, err := firstBadRecord(bytes.NewReader(b), int64(len(b)))
	if err != nil || n == 0 {
		t.Fatalf("%s: %d records, %v", path, n, err)
	}
	return end
}

// writeAt changes the bytes of path at off to what change makes of them.
func writeAt(t *testing.T, path string, off int64, n int, change func([]byte)) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	change(b)
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string, off int64) {
	writeAt(t, path, off, 1, func(b []byte) { b[0] ^= 0x20 })
}

// TestDamagedLogs: a byte flipped inside the write-ahead log, or in a
// value log's header, is refused with ErrCorrupt and the directory is
// left byte for byte as it was (Badger alone cuts the log at the flipped
// record and rewrites it, or refuses only after writing new files).
func TestDamagedLogs(t *testing.T) {
	const n = 5000
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
	}{
		{"byte flipped in the write-ahead log", func(t *testing.T, dir string) {
			mem := onlyFile(t, dir, ".mem")
			end := recordsEnd(t, mem)
			flipByte(t, mem, logHeaderSize+(end-logHeaderSize)*8/10)
		}},
		{"byte flipped in the first record", func(t *testing.T, dir string) {
			flipByte(t, onlyFile(t, dir, ".mem"), logHeaderSize+3)
		}},
		{"value log header", func(t *testing.T, dir string) {
			flipByte(t, onlyFile(t, dir, ".vlog"), 5)
		}},
		{"write-ahead log header", func(t *testing.T, dir string) {
			flipByte(t, onlyFile(t, dir, ".mem"), 0)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := crashImage(t, n)
			c.damage(t, dir)
			before := hashDir(t, dir)
			s, err := Open(dir, Options{})
			if err == nil {
				got := len(restore(t, s).peers)
				s.Close()
				t.Fatalf("damaged directory opened (%d of %d peers restored)", got, n)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v, want ErrCorrupt", err)
			}
			if after := hashDir(t, dir); !maps.Equal(before, after) {
				t.Fatal("the refused directory changed")
			}
			t.Log(err)
		})
	}
}

// TestDamagedValueLogRecord: a byte flipped inside a record of the value
// log (values over the store's threshold go there) is refused like one
// in the write-ahead log; Badger alone cuts the value log there.
func TestDamagedValueLogRecord(t *testing.T) {
	src := t.TempDir()
	s := open(t, src, Options{})
	err := s.db.Update(func(txn *badger.Txn) error {
		for i := range 200 {
			if err := txn.Set([]byte(fmt.Sprintf("x%04d", i)), bytes.Repeat([]byte{byte(i)}, 1000)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := copyImage(t, src)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	vlog := onlyFile(t, dir, ".vlog")
	flipByte(t, vlog, logHeaderSize+(recordsEnd(t, vlog)-logHeaderSize)*6/10)
	before := hashDir(t, dir)
	if s, err := Open(dir, Options{}); !errors.Is(err, ErrCorrupt) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("a flipped value-log record: %v, want ErrCorrupt", err)
	}
	if !maps.Equal(before, hashDir(t, dir)) {
		t.Fatal("the refused directory changed")
	}
}

// TestCutLogTail: a write-ahead log whose last record a crash cut (its
// last bytes zero, as a torn page leaves them) is no damage: the
// directory opens with every peer before the cut record.
func TestCutLogTail(t *testing.T) {
	const n = 5000
	dir := crashImage(t, n)
	s := open(t, dir, Options{})
	if got := len(restore(t, s).peers); got != n {
		t.Fatalf("a crash image restored %d of %d peers", got, n)
	}
	s.Close()

	dir = crashImage(t, n, 100)
	mem := onlyFile(t, dir, ".mem")
	end := recordsEnd(t, mem)
	writeAt(t, mem, end-10, 10, func(b []byte) { clear(b) })
	s = open(t, dir, Options{})
	defer s.Close()
	// Badger drops the cut record's whole batch, as after any crash.
	if got := len(restore(t, s).peers); got != n {
		t.Fatalf("a cut tail restored %d of %d peers", got, n)
	}
}

// logRecord encodes one record as Badger writes it.
func logRecord(meta byte, key, value []byte, expires uint64) []byte {
	b := []byte{meta, 0}
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = binary.AppendUvarint(b, uint64(len(value)))
	b = binary.AppendUvarint(b, expires)
	b = append(append(b, key...), value...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func testLog(records int, tail int) []byte {
	b := make([]byte, logHeaderSize)
	b[10] = 0xaa // the base IV: any bytes
	for i := range records {
		key := binary.BigEndian.AppendUint64([]byte("key"), uint64(i))
		b = append(b, logRecord(0x40, key, []byte{1, 2, 3, byte(i)}, uint64(i))...)
	}
	return append(b, make([]byte, tail)...)
}

func TestScanLog(t *testing.T) {
	scan := func(b []byte) error { return scanLog(bytes.NewReader(b), int64(len(b))) }
	good := testLog(100, 4096)
	if err := scan(good); err != nil {
		t.Fatalf("a good log: %v", err)
	}
	for _, c := range []struct {
		name string
		log  []byte
		bad  bool
	}{
		{"empty", nil, false},
		{"short zeros", make([]byte, 7), false},
		{"short bytes", []byte{1, 2, 3}, true},
		{"header only", make([]byte, logHeaderSize), false},
		{"no tail", testLog(100, 0), false},
		{"cut last record", testLog(100, 0)[:len(testLog(100, 0))-3], false},
		{"flipped middle", func() []byte { b := bytes.Clone(good); b[logHeaderSize+40*24] ^= 1; return b }(), true},
		{"key id", func() []byte { b := bytes.Clone(good); b[7] = 1; return b }(), true},
		{"garbage tail", append(testLog(10, 0), bytes.Repeat([]byte{0xff, 0x01}, 5000)...), false},
	} {
		err := scan(c.log)
		var d logDamage
		if c.bad != errors.As(err, &d) || (!c.bad && err != nil) {
			t.Errorf("%s: %v, want damage %v", c.name, err, c.bad)
		}
	}
}

// FuzzScanLog: any bytes give an answer (never a panic), and a log that
// passes still passes with zeros appended (the unwritten part of a
// file).
func FuzzScanLog(f *testing.F) {
	f.Add(testLog(3, 64))
	f.Add(testLog(0, 0))
	f.Add(append(testLog(2, 0), 0x40, 0, 5, 1))
	b := testLog(5, 16)
	b[30] ^= 4
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		err := scanLog(bytes.NewReader(b), int64(len(b)))
		var d logDamage
		if err != nil && !errors.As(err, &d) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("error that is neither damage nor a short read: %v", err)
		}
		if err == nil && len(b) >= logHeaderSize {
			z := append(bytes.Clone(b), make([]byte, 64)...)
			if err := scanLog(bytes.NewReader(z), int64(len(z))); err != nil {
				t.Fatalf("passes, but not with zeros appended: %v", err)
			}
		}
	})
}
