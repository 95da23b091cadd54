package accesslist

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker"
)

func ih(b byte) tracker.InfoHash { var h tracker.InfoHash; h[0] = b; return h }

func hexOf(b byte) string { h := ih(b); return hex.EncodeToString(h[:]) }

func write(t *testing.T, dir, name, body string, at time.Time) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, at, at); err != nil {
		t.Fatal(err)
	}
}

// TestListsLive: the lists refuse what they name through the tracker,
// an edit applies on the next reload, a file in error keeps the lists
// in force, and refusals are counted.
func TestListsLive(t *testing.T) {
	dir := t.TempDir()
	bad := i2p.HashOf([]byte("bad"))
	at := time.Unix(1_800_000_000, 0)
	write(t, dir, DeniedTorrentsFile, "# denied\n"+hexOf(1)+"  # a comment\n\n", at)
	write(t, dir, DeniedDestinationsFile, strings.ToUpper(bad.B32()[:52])+"\n", at)
	l := New(dir)
	if changed, err := l.Reload(); err != nil || !changed {
		t.Fatalf("reload: %v %v", changed, err)
	}
	tr := tracker.New(tracker.Config{}, nil)
	tr.SetAccessList(l)
	try := func(info tracker.InfoHash, peer i2p.Hash) error {
		_, err := tr.Announce(&tracker.AnnounceRequest{InfoHash: info, Peer: peer, Left: 1}, nil)
		return err
	}
	good := i2p.HashOf([]byte("good"))
	if err := try(ih(1), good); !errors.Is(err, tracker.ErrTorrentDenied) {
		t.Fatalf("denied torrent: %v", err)
	}
	if err := try(ih(2), bad); !errors.Is(err, tracker.ErrPeerDenied) {
		t.Fatalf("denied destination: %v", err)
	}
	if err := try(ih(2), good); err != nil {
		t.Fatal(err)
	}
	// An allow list appears: only what it names is tracked.
	write(t, dir, AllowedTorrentsFile, hexOf(3)+"\n", at)
	if changed, err := l.Reload(); err != nil || !changed {
		t.Fatalf("reload: %v %v", changed, err)
	}
	if err := try(ih(2), good); !errors.Is(err, tracker.ErrTorrentDenied) {
		t.Fatalf("torrent off the allow list: %v", err)
	}
	if err := try(ih(3), good); err != nil {
		t.Fatal(err)
	}
	// A broken edit keeps the lists in force.
	write(t, dir, AllowedTorrentsFile, "not a hash\n", at.Add(time.Second))
	if _, err := l.Reload(); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("broken file: %v", err)
	}
	if err := try(ih(3), good); err != nil {
		t.Fatalf("lists lost on a broken edit: %v", err)
	}
	// Removing the allow list opens the tracker again; nothing changed,
	// nothing is read.
	os.Remove(filepath.Join(dir, AllowedTorrentsFile))
	if changed, err := l.Reload(); err != nil || !changed {
		t.Fatalf("reload: %v %v", changed, err)
	}
	if changed, _ := l.Reload(); changed {
		t.Fatal("reloaded unchanged files")
	}
	if err := try(ih(4), good); err != nil {
		t.Fatal(err)
	}
	st := l.Stats()
	if st.DeniedTorrents.Load() != 2 || st.DeniedDestinations.Load() != 1 || st.ReloadErrors.Load() != 1 {
		t.Fatalf("stats: %d %d %d", st.DeniedTorrents.Load(), st.DeniedDestinations.Load(), st.ReloadErrors.Load())
	}
	if n := tr.Stats().Snapshot().Refused["torrent_not_allowed"]; n != 2 {
		t.Fatalf("tracker counted %d", n)
	}
}

// TestWatchReloads: Watch picks an edit up without a call.
func TestWatchReloads(t *testing.T) {
	dir := t.TempDir()
	l := New(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Watch(ctx, 5*time.Millisecond, slog.New(slog.DiscardHandler))
	write(t, dir, DeniedTorrentsFile, hexOf(7)+"\n", time.Unix(1_800_000_000, 0))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if !l.TorrentAllowed(ih(7)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("edit not picked up")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestParseFileBounds(t *testing.T) {
	long := strings.Repeat("a", maxLine+1)
	if err := ParseFile(strings.NewReader(long), func(string) error { return nil }); err == nil {
		t.Fatal("overlong line accepted")
	}
	big := bytes.Repeat([]byte(strings.Repeat("0", 40)+"\n"), MaxFileSize/41+2)
	if err := ParseFile(bytes.NewReader(big), func(string) error { return nil }); err == nil {
		t.Fatal("oversized file accepted")
	}
}

func FuzzParseFile(f *testing.F) {
	f.Add([]byte("# c\n" + strings.Repeat("ab", 20) + "\n\n  x # y\n"))
	f.Add([]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b32.i2p\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = ParseFile(bytes.NewReader(b), func(e string) error {
			if e == "" || strings.Contains(e, "#") || strings.ContainsAny(e, "\n") {
				t.Fatalf("entry %q", e)
			}
			if _, err := ParseInfoHash(e); err != nil {
				_, _ = ParseDestinationHash(e)
			}
			return nil
		})
	})
}
