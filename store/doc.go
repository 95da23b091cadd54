// Package store keeps the tracker's state on disk in Badger.
//
// A restart loses nothing: peers (with a Badger TTL equal to the peer
// expiry, so stale peers leave the disk by themselves), download counts
// (kept forever), the hash → Destination cache (with a TTL) and the
// connection-ID secret. Settings are not here: they live in the plugin's
// configuration file, which the operator and the console both edit.
//
// Writes come from the announce path through the tracker.Persister journal
// methods, which only record the change in a pending set coalesced by key
// (the latest change wins); a writer flushes that set in one WriteBatch at
// least every FlushInterval and on Close. The set is bounded: when the
// disk cannot keep up and the set is full, new keys are dropped and
// counted, while repeated changes to pending keys still coalesce. A crash
// loses the last flush interval and the flush under way; a clean Close
// loses nothing. On a disk nearly full the journal pauses (ErrDiskFull,
// Stats.Disk) until space returns; a store opened on such a disk is
// opened read-only until then (readonly.go) when less than 1 MiB is
// free, for writing with the journal paused otherwise.
//
// Key layout (one-byte prefixes):
//
//	'v'                        schema version (u32)
//	's'                        connection-ID secret (32 bytes)
//	'p' + info(20) + peer(32)  u32 last seen (unix s) | u8 flags (bit 0 seed, bit 1 download counted); TTL
//	'c' + info(20)             u64 completed count
//	'D' + hash(32)             compact Destination (i2p.Destination.AppendCompact); TTL
//	'd' + hash(32)             whole Destination, as older versions wrote it: read, never written
//
// Badger is sized for a small router: two 8 MiB memtables, 1 MB tables at
// every level, no block cache (the tracker reads the store only when it
// starts), a 4 MiB index cache, no compression (keys are random hashes,
// values a few bytes), values over 128 bytes in 64 MiB value-log files,
// and level 0 compacted on close. Value-log GC runs every GCInterval.
//
// Open refuses, with a clear error and before Badger opens it (so without
// changing a byte), a directory another process holds (ErrLocked), one a
// newer version wrote (ErrNewerSchema: the SCHEMA file beside Badger's
// files says so; the version key inside is checked too) and one that is
// damaged (ErrCorrupt): table files without a MANIFEST, a MANIFEST that
// does not replay, a table it lists that is missing or fails its
// checksums, a write-ahead or value log whose header names an encryption
// key or in which a record that does not decode is followed by one that
// does (a crash cuts only a log's tail; Badger would cut the log at the
// damage and lose the rest). Tables it does not list are a crash's
// leftovers, which Badger deletes. Damage only Badger finds (a key
// registry it cannot read) is reported as ErrCorrupt too, after Badger
// tried. Badger replays its write-ahead log after an unclean shutdown,
// and store records that do not decode are skipped and counted at
// restore, never a reason not to start.
package store
