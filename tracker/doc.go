// Package tracker is the transport-free swarm model of go-opentracker.
//
// It holds swarms keyed by info hash and peers keyed by the 32-byte hash
// of their I2P Destination, and implements announce and scrape
// semantics, peer selection, expiry, the hash → Destination cache, limits
// and statistics. The UDP and HTTP transports sit beside it; persistence
// goes through the Persister interface that package store implements.
//
// # Memory layout
//
// Every peer is interned once, in a table of fixed chunks (its 32-byte
// hash and a 2-byte count of its swarms), and known everywhere else by a
// 24-bit index. Swarms keep their peers in one slice of 6-byte entries
// (index, last announce, seed and downloaded flags), leechers first, so
// that a sample of leechers or of everyone is a contiguous range. Swarms
// of more than 256 peers add an index from peer to position. Hash
// lookups (peer hash → index, info hash → swarm) are open-addressing
// tables of 4-byte slots with a keyed hash, kept 70–88 % full. There are
// no per-peer or per-entry pointers. Measured (BenchmarkMemory): about
// 47–55 bytes per peer at a million peers, each in one swarm, and 12
// bytes per further (peer, swarm) membership.
//
// # Concurrency
//
// Swarms are split over 64 shards by info hash, each under its own
// mutex, so announces on different swarms rarely meet; the peer table
// has 64 shards of its own, locked inside a swarm shard (never the other
// way round). Replies copy the sampled hashes before the swarm's lock is
// released. The expiry sweep visits one shard at a time.
package tracker

// ImportPath is this package's import path. A transport that recovers a
// panic of its handler lets one raised in here go on (it may have left a
// shard locked), so that the process ends and restarts.
const ImportPath = "github.com/go-i2p/go-opentracker/tracker"
