package store

import (
	"testing"

	"github.com/go-i2p/go-opentracker/tracker"
	"github.com/go-i2p/go-opentracker/tracker/persisttest"
)

// TestPersisterContract holds the Badger store to the contract every
// tracker.Persister keeps, across a close and a reopen of its directory.
func TestPersisterContract(t *testing.T) {
	persisttest.Run(t, persisttest.Harness{
		Open: func(t *testing.T) tracker.Persister {
			s := open(t, t.TempDir(), Options{})
			t.Cleanup(func() { s.Close() })
			return s
		},
		Reopen: func(t *testing.T, p tracker.Persister) tracker.Persister {
			s := p.(*Store)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = open(t, s.Path(), Options{})
			t.Cleanup(func() { s.Close() })
			return s
		},
	})
}
