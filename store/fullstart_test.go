package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/tracker"
)

// fullStartResult is what TestStartOnFullDiskChild reports.
type fullStartResult struct {
	Error                  string
	FreeBeforeOpen         int64 // bytes free when the store opened on the full disk
	FreeAfterOpen          int64
	OpenMs                 int64 // the open and restore on the full disk
	RestoredOnFullDisk     uint64
	RestoredAfterRestart   int
	AnsweredOnFullDisk     int
	PausedAtStart          bool
	FlushError             string
	ResumedAfterMs         int64 // from the filler's removal to the pending set written
	OldMissing, NewMissing int   // after a restart
}

// TestStartOnFullDisk: a store that crashed and whose disk filled while
// it was down opens
// with its journal paused, restores what it had, journals the announces
// answered from memory once space returns, and a restart finds the old
// and the new peers.
func TestStartOnFullDisk(t *testing.T) {
	var res fullStartResult
	runInMountNamespace(t, "TestStartOnFullDiskChild", "STORE_FULLSTART_CHILD", &res)
	if res.Error != "" {
		t.Fatal(res.Error)
	}
	if !res.PausedAtStart || res.OldMissing != 0 || res.NewMissing != 0 {
		t.Fatalf("paused at start %v, old peers missing %d, new missing %d", res.PausedAtStart, res.OldMissing, res.NewMissing)
	}
}

func TestStartOnFullDiskChild(t *testing.T) {
	base := os.Getenv("STORE_FULLSTART_CHILD")
	if base == "" {
		t.Skip("run by TestStartOnFullDisk")
	}
	b, _ := json.Marshal(startOnFullDisk(t, base))
	fmt.Printf("result %s\n", b)
}

func startOnFullDisk(t *testing.T, base string) (res fullStartResult) {
	fail := func(f string, a ...any) fullStartResult {
		res.Error = fmt.Sprintf(f, a...)
		return res
	}
	mnt := filepath.Join(base, "tmpfs")
	if err := mountTmpfs(mnt); err != nil {
		return fail("%v", err)
	}
	defer syscall.Unmount(mnt, syscall.MNT_DETACH)
	dir := filepath.Join(mnt, "store")
	const reserve, old, added = 16 << 20, 2000, 3000
	opts := Options{FlushInterval: 50 * time.Millisecond, MinFreeBytes: reserve}
	s, err := Open(dir, opts)
	if err != nil {
		return fail("open: %v", err)
	}
	announce := func(tr *tracker.Tracker, from, to uint64) (answered int) {
		for n := from; n < to; n++ {
			if _, err := tr.Announce(&tracker.AnnounceRequest{InfoHash: loadInfo(n), Peer: loadPeer(n), Left: 1, NumWant: -1}, nil); err == nil {
				answered++
			}
		}
		return answered
	}
	announce(tracker.New(tracker.Config{}, s), 0, old)
	if err := s.Flush(context.Background()); err != nil {
		return fail("flush: %v", err)
	}
	// The tracker dies (a copy of its files as they are while it runs,
	// the write-ahead log untruncated), and the disk fills while it is
	// down.
	crashed := filepath.Join(mnt, "crashed")
	copyImageTo(t, dir, crashed)
	s.Close()
	os.RemoveAll(dir)
	dir = crashed

	if err := fillTo(mnt, "filler", 1<<20); err != nil && !errors.Is(err, syscall.ENOSPC) {
		return fail("fill: %v", err)
	}
	res.FreeBeforeOpen, _, _ = freeBytes(mnt)
	start := time.Now()
	s, err = Open(dir, opts)
	if err != nil {
		return fail("open on the full disk: %v", err)
	}
	tr := tracker.New(tracker.Config{}, s)
	if err := tr.Restore(context.Background()); err != nil {
		s.Close()
		return fail("restore on the full disk: %v", err)
	}
	res.OpenMs = time.Since(start).Milliseconds()
	res.FreeAfterOpen, _, _ = freeBytes(mnt)
	res.PausedAtStart = s.Stats().Disk.Paused
	res.RestoredOnFullDisk = s.Stats().RestoredPeers
	res.AnsweredOnFullDisk = announce(tr, old, old+added)
	if err := s.Flush(context.Background()); !errors.Is(err, ErrDiskFull) {
		s.Close()
		return fail("flush on the full disk: %v, want ErrDiskFull", err)
	} else {
		res.FlushError = err.Error()
	}

	// Space returns.
	os.Remove(filepath.Join(mnt, "filler"))
	start = time.Now()
	if !waitFor(10*time.Second, func() bool { st := s.Stats(); return !st.Disk.Paused && st.Pending == 0 }) {
		s.Close()
		return fail("the journal did not resume: %+v", s.Stats())
	}
	res.ResumedAfterMs = time.Since(start).Milliseconds()
	if err := s.Close(); err != nil {
		return fail("close after the resume: %v", err)
	}

	s, err = Open(dir, opts)
	if err != nil {
		return fail("reopen: %v", err)
	}
	defer s.Close()
	c := newCollector()
	if err := s.Restore(context.Background(), c); err != nil {
		return fail("restore: %v", err)
	}
	res.RestoredAfterRestart = len(c.peers)
	for n := range uint64(old + added) {
		if _, ok := c.peers[pk(loadInfo(n), loadPeer(n))]; !ok {
			if n < old {
				res.OldMissing++
			} else {
				res.NewMissing++
			}
		}
	}
	return res
}
