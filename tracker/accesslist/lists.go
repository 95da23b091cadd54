package accesslist

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker"
)

// The files, in the data directory.
const (
	AllowedTorrentsFile    = "allowed_torrents.txt"
	DeniedTorrentsFile     = "denied_torrents.txt"
	DeniedDestinationsFile = "denied_destinations.txt"
)

// MaxFileSize bounds each file: 16 MiB, some 400,000 info hashes.
const MaxFileSize = 16 << 20

// maxLine bounds a line (an entry with a comment after it).
const maxLine = 1024

// Lists is the access lists in force; safe for concurrent use. It
// implements tracker.AccessList.
type Lists struct {
	dir string
	cur atomic.Pointer[snapshot]

	mu    sync.Mutex // serializes reloads
	seen  [numFiles]stamp
	stats Stats
}

type snapshot struct {
	allow     map[tracker.InfoHash]struct{} // nil: no allow list
	deny      map[tracker.InfoHash]struct{}
	denyDests map[i2p.Hash]struct{}
}

const (
	fileAllow = iota
	fileDeny
	fileDenyDests
	numFiles
)

var fileNames = [numFiles]string{AllowedTorrentsFile, DeniedTorrentsFile, DeniedDestinationsFile}

// stamp is what tells a file changed.
type stamp struct {
	exists bool
	size   int64
	mtime  time.Time
}

// Stats counts what the lists did.
type Stats struct {
	DeniedTorrents, DeniedDestinations atomic.Uint64
	Reloads, ReloadErrors              atomic.Uint64
}

// New makes empty lists over dir; call Reload (or Watch) to read them.
func New(dir string) *Lists {
	l := &Lists{dir: dir}
	l.cur.Store(&snapshot{})
	return l
}

// Stats returns the counters.
func (l *Lists) Stats() *Stats { return &l.stats }

// Sizes returns how many entries each list holds (the allow list -1
// when there is none).
func (l *Lists) Sizes() (allowed, denied, deniedDests int) {
	s := l.cur.Load()
	allowed = -1
	if s.allow != nil {
		allowed = len(s.allow)
	}
	return allowed, len(s.deny), len(s.denyDests)
}

// TorrentAllowed reports whether info may be tracked.
func (l *Lists) TorrentAllowed(info tracker.InfoHash) bool {
	s := l.cur.Load()
	if s.allow != nil {
		if _, ok := s.allow[info]; !ok {
			l.stats.DeniedTorrents.Add(1)
			return false
		}
	}
	if _, ok := s.deny[info]; ok {
		l.stats.DeniedTorrents.Add(1)
		return false
	}
	return true
}

// PeerAllowed reports whether the Destination whose hash is peer may
// announce.
func (l *Lists) PeerAllowed(peer i2p.Hash) bool {
	s := l.cur.Load()
	if _, ok := s.denyDests[peer]; ok {
		l.stats.DeniedDestinations.Add(1)
		return false
	}
	return true
}

// Reload reads the files that changed since the last call and swaps in
// the new lists; on an error the lists in force stay. It reports whether
// anything changed.
func (l *Lists) Reload() (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var now [numFiles]stamp
	changed := false
	for i, name := range fileNames {
		st, err := os.Stat(filepath.Join(l.dir, name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			l.stats.ReloadErrors.Add(1)
			return false, fmt.Errorf("access list %s: %w", name, err)
		default:
			now[i] = stamp{true, st.Size(), st.ModTime()}
		}
		changed = changed || now[i] != l.seen[i]
	}
	if !changed {
		return false, nil
	}
	s, err := l.read(now)
	if err != nil {
		l.stats.ReloadErrors.Add(1)
		return false, err
	}
	l.cur.Store(s)
	l.seen = now
	l.stats.Reloads.Add(1)
	return true, nil
}

func (l *Lists) read(st [numFiles]stamp) (*snapshot, error) {
	s := &snapshot{deny: map[tracker.InfoHash]struct{}{}, denyDests: map[i2p.Hash]struct{}{}}
	if st[fileAllow].exists {
		s.allow = map[tracker.InfoHash]struct{}{}
	}
	for i, name := range fileNames {
		if !st[i].exists {
			continue
		}
		f, err := os.Open(filepath.Join(l.dir, name))
		if err != nil {
			return nil, fmt.Errorf("access list %s: %w", name, err)
		}
		err = ParseFile(io.LimitReader(f, MaxFileSize+1), func(entry string) error {
			return s.add(i, entry)
		})
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("access list %s: %w", name, err)
		}
	}
	return s, nil
}

func (s *snapshot) add(file int, entry string) error {
	if file == fileDenyDests {
		h, err := ParseDestinationHash(entry)
		if err != nil {
			return err
		}
		s.denyDests[h] = struct{}{}
		return nil
	}
	ih, err := ParseInfoHash(entry)
	if err != nil {
		return err
	}
	if file == fileAllow {
		s.allow[ih] = struct{}{}
	} else {
		s.deny[ih] = struct{}{}
	}
	return nil
}

// ParseFile calls fn with every entry of a list: lines with comments
// ('#' to the end of the line) and surrounding space removed, empty ones
// skipped. It fails on a line longer than 1 KiB, on input past
// MaxFileSize, and with fn's error (naming the line).
func ParseFile(r io.Reader, fn func(entry string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxLine)
	n, size := 0, 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		size += len(line) + 1
		if size > MaxFileSize {
			return fmt.Errorf("longer than %d bytes", MaxFileSize)
		}
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		entry := strings.TrimSpace(string(line))
		if entry == "" {
			continue
		}
		if err := fn(entry); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", n+1, err)
	}
	return nil
}

// ParseInfoHash reads an info hash of 40 hex digits.
func ParseInfoHash(s string) (tracker.InfoHash, error) {
	var ih tracker.InfoHash
	if len(s) != 2*len(ih) {
		return ih, fmt.Errorf("info hash %.50q: want 40 hex digits", s)
	}
	if _, err := hex.Decode(ih[:], []byte(s)); err != nil {
		return ih, fmt.Errorf("info hash %.50q: %w", s, err)
	}
	return ih, nil
}

// ParseDestinationHash reads a Destination's .b32.i2p address, with or
// without the suffix.
func ParseDestinationHash(s string) (i2p.Hash, error) {
	s = strings.ToLower(s)
	if !strings.HasSuffix(s, i2p.B32Suffix) {
		s += i2p.B32Suffix
	}
	h, err := i2p.ParseB32(s)
	if err != nil {
		return h, fmt.Errorf("destination %.70q: %w", s, err)
	}
	return h, nil
}

// Watch reloads the lists every interval until ctx ends, logging what
// changed and what failed.
func (l *Lists) Watch(ctx context.Context, every time.Duration, log *slog.Logger) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			changed, err := l.Reload()
			if err != nil {
				log.Warn("access lists not reloaded; the lists in force stay", "err", err)
			} else if changed {
				a, d, dd := l.Sizes()
				log.Info("access lists reloaded", "allowed_torrents", a, "denied_torrents", d, "denied_destinations", dd)
			}
		}
	}
}
