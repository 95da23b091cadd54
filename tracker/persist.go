package tracker

import (
	"context"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// InfoHash names a torrent (the 20-byte SHA-1 of its info dictionary).
type InfoHash [20]byte

// PeerRecord is what the tracker persists about one peer in one swarm.
type PeerRecord struct {
	Info     InfoHash
	Peer     i2p.Hash
	LastSeen time.Time // second resolution is enough
	Seed     bool
	// Completed: the peer's download was counted, so another completed
	// event from it (while it stays in the swarm) counts nothing.
	Completed bool
}

// Persister is where the tracker journals its state so it survives
// restarts; package store implements it on Badger, and the tests'
// MemoryPersister in memory. Package persisttest checks an
// implementation against what follows.
//
// The journal methods are called on the announce path, in the order the
// changes happened. They must not block on I/O: an implementation queues
// and writes behind.
type Persister interface {
	PeerUpdated(p PeerRecord)
	PeerRemoved(info InfoHash, peer i2p.Hash)
	CompletedChanged(info InfoHash, total uint64)
	DestinationSeen(d i2p.Destination)

	// Restore replays the persisted swarms (peers and download counts)
	// into r at start-up, before the tracker serves. Peers whose
	// LastSeen is older than the expiry the implementation was given
	// may be skipped.
	Restore(ctx context.Context, r Restorer) error

	// RestoreDestinations passes the persisted Destinations to fn until
	// fn returns false (the tracker's cache is full) or they run out.
	// The tracker runs it once it serves: until a Destination is back, a
	// reply to its peer costs a router lookup, never a wrong answer.
	// Ending through ctx is not an error.
	RestoreDestinations(ctx context.Context, fn func(i2p.Destination) bool) error
}

// Restorer receives persisted state during Persister.Restore. A
// Persister may call RestorePeer from several goroutines at once.
type Restorer interface {
	RestorePeer(p PeerRecord)
	RestoreCompleted(info InfoHash, total uint64)
	// ExpectPeers, called before the peers when the persister can tell,
	// says about how many there are, so the tracker sizes its tables
	// once.
	ExpectPeers(n int)
}
