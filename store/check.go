package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

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
//   - a table whose footer, index or blocks do not match their checksums:
//     Badger checks only the index when it opens a table, and a cut or
//     damaged table can crash the process from one of its goroutines.
//
// Every table is read whole once (about 0.2 s for 1M peers' 190 MB);
// the rest of the directory Badger checks itself (its write-ahead logs
// carry checksums and are cut at the first bad record, as after a crash).
func checkDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: read %s: %w", dir, err)
	}
	var tables []string
	manifest := false
	for _, e := range entries {
		switch name := e.Name(); {
		case name == "MANIFEST":
			manifest = true
		case strings.HasSuffix(name, ".sst"):
			tables = append(tables, name)
		}
	}
	if len(tables) > 0 && !manifest {
		return fmt.Errorf("%w: %s holds %d table files but no MANIFEST (it was deleted or never written); left as it is",
			ErrCorrupt, dir, len(tables))
	}

	var (
		mu    sync.Mutex
		first error
		next  = make(chan string)
		wg    sync.WaitGroup
	)
	for range min(runtime.GOMAXPROCS(0), len(tables)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range next {
				if err := checkTable(filepath.Join(dir, name)); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, name := range tables {
		next <- name
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
func checkTable(path string) (err error) {
	id, ok := table.ParseFileID(filepath.Base(path))
	if !ok {
		return fmt.Errorf("table %s: not a table file name", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("table %s: %w", path, err)
	}
	if len(data) < 8 {
		return fmt.Errorf("table %s: %d bytes, too short for its footer", path, len(data))
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("table %s (%d bytes): unreadable: %v", path, len(data), firstLine(r))
		}
	}()
	opts := &table.Options{Compression: options.None, ChkMode: options.NoVerification}
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
// (a bad MANIFEST, value log or key registry) from the others.
func looksDamaged(err error) bool {
	s := strings.ToLower(err.Error())
	for _, w := range []string{"manifest", "checksum", "corrupt", "magic", "invalid datakey", "encryption key mismatch", "truncate"} {
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
