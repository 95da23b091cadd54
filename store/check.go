package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
)

// ErrCorrupt is reported for a data directory that is damaged: Open
// leaves it as it is, so its owner can move it aside (the tracker then
// starts empty) or restore it from a backup.
var ErrCorrupt = errors.New("store: data directory is damaged")

// checkDir looks at a data directory before Badger opens it, for the
// damage Badger would not report as an error:
//
//   - table files without a MANIFEST: Badger would start an empty
//     database and delete the tables as leftovers;
//   - a table the MANIFEST lists that is missing, or whose footer, index
//     or blocks do not match their checksums: Badger checks only the index
//     when it opens a table, and a cut or damaged table can crash the
//     process from one of its goroutines.
//
// Tables the MANIFEST does not list are left to Badger, which deletes
// them: a crash while it wrote one leaves such a file, and that is no
// damage. Every listed table is read whole once, with the compression
// the MANIFEST records for it (docs/performance.md has what that costs).
// The write-ahead and value logs are checkLogs' job.
func checkDir(dir string, bo badger.Options) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: read %s: %w", dir, err)
	}
	tables := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sst") {
			tables++
		}
	}
	mf, err := os.Open(filepath.Join(dir, "MANIFEST"))
	if errors.Is(err, os.ErrNotExist) {
		if tables > 0 {
			return fmt.Errorf("%w: %s holds %d table files but no MANIFEST (it was deleted or never written); left as it is",
				ErrCorrupt, dir, tables)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: open %s: %w", mf.Name(), err)
	}
	manifest, _, err := badger.ReplayManifestFile(mf, bo.ExternalMagicVersion, bo)
	mf.Close()
	if err != nil {
		return fmt.Errorf("%w: %s: MANIFEST: %v; left as it is", ErrCorrupt, dir, err)
	}

	type job struct {
		path string
		tm   badger.TableManifest
	}
	var (
		mu    sync.Mutex
		first error
		next  = make(chan job)
		wg    sync.WaitGroup
	)
	for range min(runtime.GOMAXPROCS(0), max(len(manifest.Tables), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				if err := checkTable(j.path, j.tm.Compression); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for id, tm := range manifest.Tables {
		next <- job{filepath.Join(dir, table.IDToFilename(id)), tm}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return fmt.Errorf("%w: %v; left as it is", ErrCorrupt, first)
	}
	return nil
}

// checkTable reads one table file and verifies its index and every
// block against their checksums with Badger's own table reader, in this
// goroutine, where a panic on bytes that lie can be caught.
func checkTable(path string, compression options.CompressionType) (err error) {
	id, ok := table.ParseFileID(filepath.Base(path))
	if !ok {
		return fmt.Errorf("table %s: not a table file name", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("table %s: %w", path, err) // a listed table that is missing, too
	}
	if len(data) < 8 {
		return fmt.Errorf("table %s: %d bytes, too short for its footer", path, len(data))
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("table %s (%d bytes): unreadable: %v", path, len(data), firstLine(r))
		}
	}()
	// VerifyChecksum checks every block; a block so damaged that reading
	// it panics is caught above (Badger's block-read mode would report
	// the first bad block by dereferencing nil).
	opts := &table.Options{Compression: compression, ChkMode: options.NoVerification}
	t, err := table.OpenInMemoryTable(data, id, opts)
	if err != nil {
		return fmt.Errorf("table %s: %w", path, err)
	}
	// Not t.DecrRef: the last reference deletes a table's file.
	if err := t.VerifyChecksum(); err != nil {
		return fmt.Errorf("table %s: %w", path, err)
	}
	return nil
}

// looksDamaged tells the errors Badger's Open returns for damaged files
// (a value log or key registry it cannot read; checkDir has read the
// MANIFEST and the tables already) from the others: a file it may not
// read or that is missing is the operator's setup, not damage. Badger
// wraps some errors without keeping them comparable, so its messages are
// matched too, with the directory's name taken out of them.
func looksDamaged(err error, dir string) bool {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if errors.Is(err, badger.ErrEncryptionKeyMismatch) || errors.Is(err, badger.ErrInvalidDataKeyID) || errors.Is(err, badger.ErrTruncateNeeded) {
		return true
	}
	s := strings.ToLower(strings.ReplaceAll(err.Error(), dir, ""))
	for _, w := range []string{"checksum", "corrupt", "magic", "invalid datakey", "encryption key mismatch", "truncate"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// firstLine shortens a recovered panic (Badger's carry a dump).
func firstLine(r any) string {
	s := strings.TrimSpace(fmt.Sprint(r))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.Trim(s, "= ")
}
