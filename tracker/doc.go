// Package tracker is the transport-free swarm model of go-opentracker:
// swarms keyed by info hash, peers keyed by the 32-byte hash of their I2P
// Destination, announce and scrape semantics, peer selection, expiry, the
// hash → Destination cache, limits and statistics. The UDP and HTTP
// transports sit beside it; persistence goes through the Persister
// interface that package store implements.
package tracker
