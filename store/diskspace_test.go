package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker"
)

func setReserve(s *Store, n int64) {
	s.disk.mu.Lock()
	s.disk.reserve = n
	s.disk.mu.Unlock()
}

// TestJournalPause: with less free space than the reserve, flushes wait
// (Flush says ErrDiskFull, Stats say why), the pending set stays bounded
// with its drops counted, and once space is back what waited is written.
// Then a start on a disk that full serves read-only (checkFullStart).
func TestJournalPause(t *testing.T) {
	if _, ok, _ := freeBytes(t.TempDir()); !ok {
		t.Skip("the free space cannot be told here")
	}
	dir := t.TempDir()
	s := open(t, dir, Options{FlushInterval: time.Hour, MaxPending: 100})
	now := time.Now()
	announce := func(from, to uint64) {
		for n := from; n < to; n++ {
			s.PeerUpdated(tracker.PeerRecord{Info: infoN(n % 5), Peer: hashN(n), LastSeen: now})
		}
	}
	announce(0, 50)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	setReserve(s, 1<<62)
	announce(50, 250)
	if err := s.Flush(context.Background()); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("flush with the disk full: %v, want ErrDiskFull", err)
	}
	st := s.Stats()
	if !st.Disk.Paused || st.Disk.Reason == "" || st.Disk.Pauses != 1 || st.Pending != 100 || st.Dropped != 100 {
		t.Fatalf("paused: %+v", st)
	}
	if s.Durable() >= s.Journaled() {
		t.Fatalf("durable %d of %d journal calls while paused", s.Durable(), s.Journaled())
	}
	setReserve(s, 1)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Disk.Paused || st.Pending != 0 || st.Flushed != 150 {
		t.Fatalf("resumed: %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkFullStart(t, dir, 150)
}

// checkFullStart opens dir, holding the first journaled peers, on a disk
// too full for Badger to write: the store opens read-only and leaves the
// directory as it was, restores every peer, keeps new changes pending,
// and writes them once space is back; a restart then has old and new.
func checkFullStart(t *testing.T, dir string, journaled uint64) {
	t.Helper()
	before := hashDir(t, dir)
	s, err := Open(dir, Options{MinFreeBytes: 1 << 62, FlushInterval: time.Hour, openBytes: 1 << 62})
	if err != nil {
		t.Fatalf("open on a full disk: %v", err)
	}
	if c := restore(t, s); len(c.peers) != int(journaled) {
		t.Fatalf("restored %d peers read-only, want %d", len(c.peers), journaled)
	}
	secret, err := s.Secret(context.Background())
	if err != nil {
		t.Fatalf("secret while read-only: %v", err)
	}
	now := time.Now()
	for n := journaled; n < journaled+20; n++ {
		s.PeerUpdated(tracker.PeerRecord{Info: infoN(n % 5), Peer: hashN(n), LastSeen: now})
	}
	if err := s.Flush(context.Background()); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("flush read-only: %v, want ErrDiskFull", err)
	}
	if err := s.SaveHistory(map[string][]byte{"1h": {1}}); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("history saved read-only: %v", err)
	}
	if st := s.Stats(); !st.Disk.Paused || st.Pending != 21 {
		t.Fatalf("read-only: %+v, want paused with 20 peers and the secret pending", st)
	}
	if !maps.Equal(before, hashDir(t, dir)) {
		t.Fatal("the directory changed while read-only")
	}
	setReserve(s, 1)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatalf("flush once space is back: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, Options{})
	defer s.Close()
	c := restore(t, s)
	for n := range journaled + 20 {
		if _, ok := c.peers[pk(infoN(n%5), hashN(n))]; !ok {
			t.Fatalf("peer %d missing of the %d journaled (%d restored)", n, journaled+20, len(c.peers))
		}
	}
	if again, err := s.Secret(context.Background()); err != nil || !bytes.Equal(again, secret) {
		t.Fatalf("secret after the restart: %x, %v; want the one made read-only %x", again, err, secret)
	}
}

// TestFullStartNewDirectory: a new directory on a full disk opens with
// nothing in it, writes nothing, and is created once space is back.
func TestFullStartNewDirectory(t *testing.T) {
	if _, ok, _ := freeBytes(t.TempDir()); !ok {
		t.Skip("the free space cannot be told here")
	}
	dir := filepath.Join(t.TempDir(), "store")
	s, err := Open(dir, Options{MinFreeBytes: 1 << 62, FlushInterval: time.Hour, openBytes: 1 << 62})
	if err != nil {
		t.Fatalf("open a new directory on a full disk: %v", err)
	}
	if c := restore(t, s); len(c.peers) != 0 {
		t.Fatalf("restored %d peers from nothing", len(c.peers))
	}
	s.PeerUpdated(tracker.PeerRecord{Info: infoN(1), Peer: hashN(1), LastSeen: time.Now()})
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the directory was made on a full disk: %v", err)
	}
	setReserve(s, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, Options{})
	defer s.Close()
	if c := restore(t, s); len(c.peers) != 1 {
		t.Fatalf("restored %d peers, want the one journaled while the disk was full", len(c.peers))
	}
}

// diskFullResult is what TestDiskFullChild reports to TestDiskFull.
type diskFullResult struct {
	Error                 string
	FlushedBefore         uint64 // announces durable before the disk filled
	AnsweredWhilePaused   uint64 // announces answered while the journal was paused
	DroppedWhilePaused    uint64
	PausedAfterMs         int64  // from the filler leaving less than the reserve to the pause
	ResumedAfterMs        int64  // from the filler's removal to the pending set written
	FlushedAfterResume    uint64 // keys written from the resume on
	MissingAfterReopen    int    // of the announces durable before the fill or after the resume
	ReopenedPeers         int
	StoreErrorWhilePaused string
}

// TestDiskFull runs TestDiskFullChild in a mount namespace of its own
// with its store on a 48 MiB tmpfs, which the child fills (as root only:
// that is how CI runs).
func TestDiskFull(t *testing.T) {
	var res diskFullResult
	runInMountNamespace(t, "TestDiskFullChild", "STORE_DISKFULL_CHILD", &res)
	if res.Error != "" {
		t.Fatal(res.Error)
	}
	if res.AnsweredWhilePaused == 0 || res.DroppedWhilePaused == 0 || res.MissingAfterReopen != 0 || res.FlushedAfterResume == 0 {
		t.Fatalf("answered while paused %d, dropped %d, flushed after resume %d, missing after reopen %d",
			res.AnsweredWhilePaused, res.DroppedWhilePaused, res.FlushedAfterResume, res.MissingAfterReopen)
	}
}

// runInMountNamespace runs the test child of this binary in a mount
// namespace of its own, with env naming a temporary directory for it,
// and decodes the JSON it prints after "result " into res. It skips
// where a namespace and a tmpfs cannot be made (not root, no unshare).
func runInMountNamespace(t *testing.T, child, env string, res any) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for a mount namespace and a tmpfs")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("no unshare(1) to make a mount namespace")
	}
	if out, err := exec.Command(unshare, "-m", "true").CombinedOutput(); err != nil {
		t.Skipf("unshare -m does not work here: %v %s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, unshare, "-m", "--propagation", "private", os.Args[0], "-test.run=^"+child+"$", "-test.v=false")
	cmd.Env = append(os.Environ(), env+"="+t.TempDir())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	found := false
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "result "); ok {
			found = json.Unmarshal([]byte(v), res) == nil
		}
	}
	if err != nil || !found {
		t.Fatalf("child: %v (it dies of SIGBUS when Badger writes to a full disk)\n%s", err, out)
	}
	t.Logf("%+v", res)
}

func TestDiskFullChild(t *testing.T) {
	base := os.Getenv("STORE_DISKFULL_CHILD")
	if base == "" {
		t.Skip("run by TestDiskFull")
	}
	res := diskFull(base)
	b, _ := json.Marshal(res)
	fmt.Printf("result %s\n", b)
}

// diskFull journals announces from a load into a store on a small
// tmpfs, fills the tmpfs, and empties it again.
func diskFull(base string) (res diskFullResult) {
	fail := func(f string, a ...any) diskFullResult {
		res.Error = fmt.Sprintf(f, a...)
		return res
	}
	mnt := filepath.Join(base, "tmpfs")
	if err := mountTmpfs(mnt); err != nil {
		return fail("%v", err)
	}
	defer syscall.Unmount(mnt, syscall.MNT_DETACH)
	dir := filepath.Join(mnt, "store")
	const reserve, maxPending = 16 << 20, 10000
	opts := Options{FlushInterval: 50 * time.Millisecond, MaxPending: maxPending, MinFreeBytes: reserve}
	s, err := Open(dir, opts)
	if err != nil {
		return fail("open: %v", err)
	}
	tr := tracker.New(tracker.Config{}, s)
	l := startLoad(tr)
	defer l.stop()

	// Journaling as usual.
	time.Sleep(300 * time.Millisecond)
	mark := l.next.Load()
	if err := s.Flush(context.Background()); err != nil {
		return fail("flush: %v", err)
	}
	res.FlushedBefore = mark

	// Fill the disk to less than the reserve: the journal pauses.
	if err := fillTo(mnt, "filler", reserve/2); err != nil {
		return fail("fill: %v", err)
	}
	start := time.Now()
	if !waitFor(5*time.Second, func() bool { return s.Stats().Disk.Paused }) {
		return fail("the journal did not pause: %+v", s.Stats().Disk)
	}
	res.PausedAfterMs = time.Since(start).Milliseconds()
	// Then fill it to the last byte, and serve on.
	if err := fillTo(mnt, "filler2", 0); err != nil && !errors.Is(err, syscall.ENOSPC) {
		return fail("fill to the last byte: %v", err)
	}
	answered, dropped := l.answered.Load(), s.Stats().Dropped
	// Serve on, past the pending set's bound.
	waitFor(10*time.Second, func() bool { return l.answered.Load()-answered > 2*maxPending })
	if err := s.Flush(context.Background()); !errors.Is(err, ErrDiskFull) {
		return fail("Flush while the disk is full: %v, want ErrDiskFull", err)
	} else {
		res.StoreErrorWhilePaused = err.Error()
	}
	// A start on the full disk serves read-only, not killed by Badger's
	// writes: a second store on it is opened, paused, and closed.
	other, err := Open(filepath.Join(mnt, "other"), opts)
	if err != nil {
		return fail("open on the full disk: %v", err)
	}
	if !other.Stats().Disk.Paused {
		return fail("a store opened on the full disk is not paused")
	}
	if err := other.Close(); err != nil {
		return fail("close the store opened on the full disk: %v", err)
	}
	res.AnsweredWhilePaused = l.answered.Load() - answered
	res.DroppedWhilePaused = s.Stats().Dropped - dropped

	// Space returns: the journal resumes and catches up.
	os.Remove(filepath.Join(mnt, "filler"))
	os.Remove(filepath.Join(mnt, "filler2"))
	start = time.Now()
	// Resumed once the pending set, full while paused, was written out:
	// from then on no announce is dropped.
	if !waitFor(10*time.Second, func() bool { st := s.Stats(); return !st.Disk.Paused && st.Pending < maxPending/2 }) {
		return fail("the journal did not resume: %+v", s.Stats())
	}
	res.ResumedAfterMs = time.Since(start).Milliseconds()
	resumed := l.next.Load() + 1 // the announce under way may have met the full set
	flushed := s.Stats().Flushed
	time.Sleep(200 * time.Millisecond)
	l.stop()
	last := l.next.Load()
	if err := s.Close(); err != nil {
		return fail("close: %v", err)
	}
	res.FlushedAfterResume = s.Stats().Flushed - flushed

	s, err = Open(dir, opts)
	if err != nil {
		return fail("reopen: %v", err)
	}
	defer s.Close()
	c := newCollector()
	if err := s.Restore(context.Background(), c); err != nil {
		return fail("restore: %v", err)
	}
	res.ReopenedPeers = len(c.peers)
	for _, r := range [][2]uint64{{0, res.FlushedBefore}, {resumed, last}} {
		for n := r[0]; n < r[1]; n++ {
			if _, ok := c.peers[pk(loadInfo(n), loadPeer(n))]; !ok {
				res.MissingAfterReopen++
			}
		}
	}
	return res
}

// load announces new peers to a tracker at about 20,000 a second (each
// peer once, so every announce is a new journal key).
type load struct {
	next, answered atomic.Uint64
	done           chan struct{}
	once           sync.Once
	wg             sync.WaitGroup
}

func loadInfo(n uint64) tracker.InfoHash { return infoN(n % 64) }
func loadPeer(n uint64) i2p.Hash         { return hashN(n) }

func startLoad(tr *tracker.Tracker) *load {
	l := &load{done: make(chan struct{})}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		buf := make([]i2p.Hash, 50)
		for wait := time.After(0); ; wait = time.After(5 * time.Millisecond) {
			select {
			case <-l.done:
				return
			case <-wait:
			}
			for range 100 {
				n := l.next.Load()
				if _, err := tr.Announce(&tracker.AnnounceRequest{InfoHash: loadInfo(n), Peer: loadPeer(n), Left: 1, NumWant: -1}, buf); err == nil {
					l.answered.Add(1)
				}
				l.next.Add(1)
			}
		}
	}()
	return l
}

func (l *load) stop() {
	l.once.Do(func() { close(l.done) })
	l.wg.Wait()
}

func waitFor(limit time.Duration, ok func() bool) bool {
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return true
		}
	}
	return ok()
}

// fillTo writes the file name in mnt until at most leave bytes are free.
func fillTo(mnt, name string, leave int64) error {
	f, err := os.Create(filepath.Join(mnt, name))
	if err != nil {
		return err
	}
	defer f.Close()
	chunk := make([]byte, 256<<10)
	for range 1 << 12 {
		free, _, _ := freeBytes(mnt)
		if free <= leave {
			return nil
		}
		// Smaller writes near the mark, to stop close to it.
		if _, err := f.Write(chunk[:min(int64(len(chunk)), max(4096, free-leave))]); err != nil {
			return err
		}
	}
	return errors.New("never filled")
}

// mountTmpfs makes mnt and mounts a 48 MiB tmpfs there (in the test
// child's own mount namespace).
func mountTmpfs(mnt string) error {
	if err := os.Mkdir(mnt, 0o700); err != nil {
		return err
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=48m"); err != nil {
		return fmt.Errorf("mount tmpfs: %w", err)
	}
	return nil
}

// TestFullStartAfterCrash: after an unclean stop Badger must write to
// replay its log, which a read-only open cannot; on a disk too full even
// for that the start is refused as a full disk (free some space), not as
// a damaged directory (which an operator might wipe), and the directory
// is left as it was.
func TestFullStartAfterCrash(t *testing.T) {
	if _, ok, _ := freeBytes(t.TempDir()); !ok {
		t.Skip("the free space cannot be told here")
	}
	dir := crashImage(t, 100)
	before := hashDir(t, dir)
	_, err := Open(dir, Options{MinFreeBytes: 1 << 62, openBytes: 1 << 62})
	if !errors.Is(err, ErrDiskFull) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("open after a crash on a full disk: %v, want ErrDiskFull", err)
	}
	if !maps.Equal(before, hashDir(t, dir)) {
		t.Fatal("the directory changed")
	}
	s := open(t, dir, Options{})
	defer s.Close()
	if c := restore(t, s); len(c.peers) != 100 {
		t.Fatalf("restored %d peers once there was space, want 100", len(c.peers))
	}
}
