package plugin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/store"
)

// TestFailedStartClosesTheStore: a Start that fails after the store is
// open (here the session refuses an identity whose offline signature has
// expired) closes it again, so the directory is free for the next start.
func TestFailedStartClosesTheStore(t *testing.T) {
	dir := t.TempDir()
	keys, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	transient, err := i2p.GenerateSigningKey(i2p.SigEd25519, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	off, err := i2p.NewOfflineSignature(keys.SigningKey, transient, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// An offline-signed key file holds zeros for the long-term key.
	keys.SigningKey.Private = make([]byte, len(keys.SigningKey.Private))
	keys.Offline, keys.TransientKey = &off, transient
	if err := i2p.WritePrivateKeyFile(filepath.Join(dir, KeyFileName), keys); err != nil {
		t.Fatal(err)
	}
	p, err := New(newTestHost(t, dir, newRouter(t)), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "i2cp: identity") {
		t.Fatalf("Start with an expired offline signature: %v", err)
	}
	if p.Tracker() != nil {
		t.Fatal("a failed Start left a run behind")
	}
	st, err := store.Open(filepath.Join(dir, "store"), store.Options{})
	if err != nil {
		t.Fatalf("the store after a failed Start: %v (locked: %v)", err, errors.Is(err, store.ErrLocked))
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Fatalf("Stop after a failed Start: %v", err)
	}
}

// TestRouterStateWithoutRouter: with no router answering, WaitRouter
// waits until its context ends and RouterState says where the link
// stands; stopped, neither has a session to ask.
func TestRouterStateWithoutRouter(t *testing.T) {
	router := newRouter(t)
	h := newTestHost(t, t.TempDir(), router)
	router.Close() // the port refuses from now on
	p, err := New(h, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if phase, _ := p.RouterState(); phase != "stopped" {
		t.Fatalf("before Start the router link is %q", phase)
	}
	if err := p.WaitRouter(context.Background()); err == nil {
		t.Fatal("WaitRouter before Start did not fail")
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer p.Stop(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := p.WaitRouter(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitRouter without a router: %v", err)
	}
	if phase, _ := p.RouterState(); phase == "stopped" || phase == "LeaseSet published" {
		t.Fatalf("without a router the link is %q", phase)
	}
}

// TestRefusedSessionNamed: while the router refuses the tracker's
// session, RouterState and the console name the link refused (not
// merely disconnected, as with no router at all), and once the router
// accepts it the tracker attaches.
func TestRefusedSessionNamed(t *testing.T) {
	router := newRouter(t)
	router.SetRefuseSessions(true)
	p, err := New(newTestHost(t, t.TempDir(), router), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer p.Stop(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	phase, detail := p.RouterState()
	for phase != PhaseRefused && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		phase, detail = p.RouterState()
	}
	if phase != PhaseRefused || !strings.Contains(detail, "refused") {
		t.Fatalf("router link %q (%s), want %q", phase, detail, PhaseRefused)
	}
	if st := (consoleSource{p}).Status().Router; st.State != PhaseRefused || st.Healthy {
		t.Fatalf("console router status %+v", st)
	}
	router.SetRefuseSessions(false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.WaitRouter(ctx); err != nil {
		t.Fatal(err)
	}
	if phase, _ := p.RouterState(); phase == PhaseRefused {
		t.Fatalf("attached, but the link is still %q", phase)
	}
}

// TestRefusedByErrorNotText: the link is named refused by the error that
// ended it, not by its text: a router's Disconnect whose reason quotes
// ErrRefused's message is a disconnect.
func TestRefusedByErrorNotText(t *testing.T) {
	quoted := fmt.Errorf("%w: router says %q", i2cp.ErrDisconnected, i2cp.ErrRefused.Error())
	refused := fmt.Errorf("%w (is the destination already in use by another client?)", i2cp.ErrRefused)
	for _, c := range []struct {
		err  error
		want string
	}{
		{quoted, i2cp.PhaseDisconnected.String()},
		{refused, PhaseRefused},
		{nil, i2cp.PhaseDisconnected.String()},
	} {
		detail := "retrying"
		if c.err != nil {
			detail = c.err.Error()
		}
		h := linkHealth(i2cp.State{Phase: i2cp.PhaseDisconnected, Detail: detail, Err: c.err})
		if h.State != c.want || h.Healthy {
			t.Errorf("disconnected by %v: %+v, want %q", c.err, h, c.want)
		}
	}
}
