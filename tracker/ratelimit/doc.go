// Package ratelimit limits requests per peer hash with token buckets.
//
// A Buckets is one limit (requests per minute and a burst) over a
// bounded table of buckets: GCRA (the "virtual scheduling" form of a
// token bucket) needs one time per peer, so a slot is 16 bytes. The table
// is two-way set associative, indexed by a keyed hash of the peer hash: a
// peer new to a full set takes the slot of the neighbour that has been
// idle longest, so memory stays fixed whatever the number of senders, and
// what the table forgets of an active peer is counted (Stats.Evicted).
// Forgetting can only ever grant a peer a fresh burst, never refuse an
// honest one.
//
// A Limits holds one Buckets per kind of request (UDP connects,
// announces and scrapes, HTTP requests) and the woodpeckers: the peers
// refused most, kept by the space-saving algorithm in a table of fixed
// size. A nil *Limits allows everything.
package ratelimit
