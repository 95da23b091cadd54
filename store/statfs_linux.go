package store

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// freeBytes is the space left for unprivileged writers on the file
// system that holds dir (or, for a directory not made yet, its nearest
// existing parent); ok is false where it cannot be told.
func freeBytes(dir string) (free int64, ok bool, err error) {
	for {
		var st syscall.Statfs_t
		err := syscall.Statfs(dir, &st)
		if err == nil {
			return int64(min(st.Bavail*uint64(st.Bsize), 1<<62)), true, nil
		}
		parent := filepath.Dir(dir)
		if !errors.Is(err, syscall.ENOENT) || parent == dir {
			return 0, false, &os.PathError{Op: "statfs", Path: dir, Err: err}
		}
		dir = parent
	}
}
