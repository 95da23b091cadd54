package tracker_test

import (
	"testing"

	"github.com/go-i2p/go-opentracker/tracker"
	"github.com/go-i2p/go-opentracker/tracker/persisttest"
)

// TestMemoryPersisterContract holds MemoryPersister to the contract every
// tracker.Persister keeps.
func TestMemoryPersisterContract(t *testing.T) {
	persisttest.Run(t, persisttest.Harness{
		Open:   func(*testing.T) tracker.Persister { return tracker.NewMemoryPersister() },
		Reopen: func(_ *testing.T, p tracker.Persister) tracker.Persister { return p },
	})
}
