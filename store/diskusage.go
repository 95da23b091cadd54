package store

import (
	"io/fs"
	"path/filepath"
)

// usedBytes is the space the files under dir take on the disk, as du
// counts it: allocated blocks, not apparent sizes, so Badger's logs made
// at their full size but mostly unwritten count only the pages written.
// A file that goes away during the walk is skipped; -1 means the
// directory itself could not be read.
func usedBytes(dir string) int64 {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if d == nil || d.IsDir() {
				return err
			}
			return nil
		}
		if fi, err := d.Info(); err == nil {
			total += allocated(fi)
		}
		return nil
	})
	if err != nil {
		return -1
	}
	return total
}
