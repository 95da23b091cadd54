// Package udptracker serves UDP announces over I2P (proposal 160).
//
// Requests are BEP 15's, carried in I2P datagrams on an I2CP session. A
// connect arrives as a signed Datagram2 (protocol 19) and fills the
// hash → Destination cache; announces and scrapes arrive as Datagram3
// (protocol 20); every reply is a raw datagram (protocol 18) from the
// request's to-port to its from-port. Connection ids are stateless keyed hashes.
//
// The BEP 15 codec (bep15.go) and the connection-id scheme (connid.go) are
// pure and usable on their own by clients, tests and the load tool.
//
// # BEP 41 options
//
// An announce may carry options after its 98 bytes. URLData options are
// joined (up to MaxURLData bytes) into Announce.URLData; NOPs and unknown
// options are skipped. Options that are malformed — one whose length runs
// past the datagram, or URL data past the bound — end the reading of
// options, not the announce: it is served with what came before, and
// counted (Snapshot.BadOptions).
//
// # Drops and overload
//
// Requests that get no answer are counted by DropReason; requests
// answered with an error by ErrorReason. When the Session also reports
// its outgoing backlog (Backlogger), the transport drops early under
// overload, like a router's WRED: above half the queue's capacity a
// request is dropped, before any signature check or swarm work, with a
// probability that rises linearly to 1 at 90 % ("overload"). Nothing
// waits without bound: lookups in flight and the replies waiting on them
// are capped (Config.MaxLookups, Config.MaxPendingReplies), and senders
// whose connection id failed have a lookup budget of their own
// (Config.MaxUnprovedLookups), so they cannot starve real peers.
//
// # Signatures and limits
//
// A connect's signature is checked by a verify worker, not on the
// receive goroutine: cheap (Ed25519) and costly signatures wait in
// separate bounded queues, cheap first, and what does not fit is dropped
// ("verify_queue_full"); a flood of slow signatures cannot hold up
// announces. With Config.Limits, each sender has token buckets for
// connects (priced by signature cost, charged only once the signature
// proves the sender), announces and scrapes (charged once the connection
// id proves it); past them it gets a BEP 15 error, counted by kind.
package udptracker
