// Package store keeps go-opentracker's state on disk in Badger, so a
// restart loses nothing: peers (with a Badger TTL equal to the peer
// expiry, so stale peers leave the disk by themselves), download counts
// (kept forever), the hash → Destination cache (with a TTL), the
// connection-ID secret, and settings changed on the console.
//
// Writes come from the announce path through the tracker.Persister journal
// methods, which only record the change in a pending set coalesced by key
// (the latest change wins); a writer flushes that set in one WriteBatch at
// least every FlushInterval and on Close. The set is bounded: when the
// disk cannot keep up and the set is full, new keys are dropped and
// counted, while repeated changes to pending keys still coalesce. A crash
// loses at most the last flush interval; a clean Close loses nothing.
//
// Key layout (one-byte prefixes):
//
//	'v'                     schema version (u32)
//	's'                     connection-ID secret (32 bytes)
//	'o' + name              setting value
//	'p' + info(20) + peer(32)  u32 last seen (unix s) | u8 flags (bit 0: seed); TTL
//	'c' + info(20)          u64 completed count
//	'd' + hash(32)          serialized Destination; TTL
//
// Badger is sized for a small router: 16 MiB memtables (2), a 16 MiB
// block cache, an 8 MiB index cache, 64 MiB value-log files, values kept
// inline in the LSM tree (every value here is small), and level 0
// compacted on close. Badger replays its write-ahead log after an unclean
// shutdown; a directory locked by another process or written by a newer
// version is refused with a clear error and never modified.
package store
