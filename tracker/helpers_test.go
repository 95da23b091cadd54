package tracker

import (
	"crypto/rand"
	"testing"

	"github.com/go-i2p/go-opentracker/i2p"
)

func newDest(t testing.TB) i2p.Destination {
	t.Helper()
	k, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k.Destination
}
