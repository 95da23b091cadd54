package streaming

import (
	"context"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2p"
)

// RunAttached attaches a Manager to s, runs s until the test ends (then
// closes both) and waits up to ready for s to be ready.
func RunAttached(t testing.TB, s *i2cp.Session, keys *i2p.PrivateKeys, cfg Config, ready time.Duration) *Manager {
	t.Helper()
	m, err := Attach(s, IdentityOf(keys), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { m.Close(); cancel(); <-done })
	wctx, wcancel := context.WithTimeout(context.Background(), ready)
	defer wcancel()
	if err := s.WaitReady(wctx); err != nil {
		t.Fatalf("I2CP session not ready: %v (%+v)", err, s.State())
	}
	return m
}
