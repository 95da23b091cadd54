package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Badger's write-ahead logs (.mem, one per memtable) and value logs
// (.vlog) share one layout: a 20-byte header (the data key's id, 0
// without encryption, and a 12-byte base IV), then records
//
//	meta(1) userMeta(1) uvarint(klen) uvarint(vlen) uvarint(expiresAt) key value crc32c(all before it)
//
// up to the first record that does not decode: the files are made at
// their full size and filled through a memory map, so what follows the
// last record is zeros, or the part of a record a crash cut. Badger cuts
// a log at its first bad record and goes on without a word, so one
// flipped byte would lose every record after it; checkLogs tells that
// damage from a crash's cut tail before Badger opens the directory.
const (
	logHeaderSize = 20
	logMaxKey     = 1 << 16 // Badger takes a longer key for the end of the log
	logMaxHeader  = 22      // two bytes and three uvarints of at most 32, 32 and 64 bits
	// logMaxResync bounds the records looked for after a bad one: the
	// store's records are a few hundred bytes at most.
	logMaxResync = 1 << 20
	logReadBuf   = 256 << 10
	logScanChunk = 4 << 20 // offsets tried per read of the search
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checkLogs reads every write-ahead and value log in dir, without
// writing, and reports ErrCorrupt for one whose header names an
// encryption key (the store uses none) or in which a record that does
// not decode is followed by one that does (a crash cuts only the tail),
// or by more bytes that are not zeros than the search for one is allowed
// to hash (a cut tail is one record's worth, then zeros).
func checkLogs(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: read %s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !(strings.HasSuffix(name, ".mem") || strings.HasSuffix(name, ".vlog")) {
			continue
		}
		if err := checkLogFile(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

func checkLogFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: stat %s: %w", path, err)
	}
	if err := scanLog(f, fi.Size()); err != nil {
		var d logDamage
		if errors.As(err, &d) {
			return fmt.Errorf("%w: %s: %v; left as it is", ErrCorrupt, path, err)
		}
		return fmt.Errorf("store: read %s: %w", path, err)
	}
	return nil
}

// logDamage is what scanLog finds wrong with a log's bytes (its other
// errors are failures to read them).
type logDamage string

func (d logDamage) Error() string { return string(d) }

// scanLog checks one log of size bytes read through r.
func scanLog(r io.ReaderAt, size int64) error {
	if size < 0 || size > 1<<32 {
		return logDamage(fmt.Sprintf("%d bytes: more than a log can address", size))
	}
	if size < logHeaderSize {
		// A crash between creating the file and sizing it.
		b := make([]byte, size)
		if _, err := r.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if !allZero(b) {
			return logDamage(fmt.Sprintf("%d bytes, too short for its header", size))
		}
		return nil
	}
	var head [logHeaderSize]byte
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return err
	}
	if id := binary.BigEndian.Uint64(head[:8]); id != 0 {
		return logDamage(fmt.Sprintf("header names data key %d; the store encrypts nothing", id))
	}
	end, records, err := firstBadRecord(r, size)
	if err != nil || end == size {
		return err
	}
	later, found, err := laterRecord(r, end+1, size)
	if err != nil {
		return err
	}
	if found {
		return logDamage(fmt.Sprintf("record at offset %d does not decode, after %d that do, and one at offset %d does", end, records, later))
	}
	return nil
}

// firstBadRecord reads records from the header on and returns the
// offset of the first that does not decode (size when all do) and how
// many did.
func firstBadRecord(r io.ReaderAt, size int64) (int64, int, error) {
	br := bufio.NewReaderSize(io.NewSectionReader(r, logHeaderSize, size-logHeaderSize), int(min(logReadBuf, size)))
	off := int64(logHeaderSize)
	records := 0
	h := crc32.New(castagnoli)
	for off < size {
		head, err := br.Peek(int(min(logMaxHeader, size-off)))
		if err != nil {
			return 0, 0, err
		}
		hlen, kvlen, ok := decodeLogHeader(head, size-off)
		if !ok {
			return off, records, nil
		}
		h.Reset()
		h.Write(head[:hlen])
		if _, err := br.Discard(hlen); err != nil {
			return 0, 0, err
		}
		if _, err := io.CopyN(h, br, kvlen); err != nil {
			return 0, 0, err
		}
		var sum [4]byte
		if _, err := io.ReadFull(br, sum[:]); err != nil {
			return 0, 0, err
		}
		if binary.BigEndian.Uint32(sum[:]) != h.Sum32() {
			return off, records, nil
		}
		off += int64(hlen) + kvlen + 4
		records++
	}
	return off, records, nil
}

// decodeLogHeader decodes the header of a record that may take at most
// room bytes in all; ok is false for one that cannot start a record.
func decodeLogHeader(b []byte, room int64) (hlen int, kvlen int64, ok bool) {
	if len(b) < 5 {
		return 0, 0, false
	}
	n := 2
	klen, k := binary.Uvarint(b[n:])
	if k <= 0 || klen == 0 || klen > logMaxKey {
		return 0, 0, false
	}
	n += k
	vlen, k := binary.Uvarint(b[n:])
	if k <= 0 || vlen > 1<<32-1 {
		return 0, 0, false
	}
	n += k
	if _, k = binary.Uvarint(b[n:]); k <= 0 {
		return 0, 0, false
	}
	n += k
	kvlen = int64(klen) + int64(vlen)
	if int64(n)+kvlen+4 > room {
		return 0, 0, false
	}
	return n, kvlen, true
}

// laterRecord looks for a record of at most logMaxResync bytes that
// decodes and matches its checksum, starting anywhere in [from, size).
func laterRecord(r io.ReaderAt, from, size int64) (int64, bool, error) {
	buf := make([]byte, min(logScanChunk+logMaxResync, size-from))
	// Bytes that lie can make every offset a candidate: the checksums
	// computed are bounded, and a tail that exhausts them is damage.
	budget := 16*(size-from) + 64<<20
	for pos := from; pos < size; pos += logScanChunk {
		n, err := r.ReadAt(buf[:min(int64(len(buf)), size-pos)], pos)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, false, err
		}
		w := buf[:n]
		for i := 0; i < min(n, logScanChunk); i++ {
			// A record's key length is at least 1: its third byte is not 0.
			if i+2 >= n {
				break
			}
			if w[i+2] == 0 {
				j := nextNonZero(w, i+2)
				if j < 0 {
					break
				}
				i = j - 3 // the loop's i++ makes it j-2
				continue
			}
			hlen, kvlen, ok := decodeLogHeader(w[i:min(i+logMaxHeader, n)], int64(n-i))
			if !ok || int64(hlen)+kvlen+4 > logMaxResync {
				continue
			}
			rec := w[i : i+hlen+int(kvlen)+4]
			if budget -= int64(len(rec)); budget < 0 {
				return 0, false, logDamage(fmt.Sprintf("bytes after offset %d do not decode (gave up looking for a record in them)", from-1))
			}
			if binary.BigEndian.Uint32(rec[len(rec)-4:]) == crc32.Checksum(rec[:len(rec)-4], castagnoli) {
				return pos + int64(i), true, nil
			}
		}
	}
	return 0, false, nil
}

// nextNonZero is the index of the first byte at or after i that is not
// 0, or -1.
func nextNonZero(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:]) != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i] != 0 {
			return i
		}
	}
	return -1
}

func allZero(b []byte) bool { return nextNonZero(b, 0) < 0 }
