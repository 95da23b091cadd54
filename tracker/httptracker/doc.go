// Package httptracker answers HTTP announces and scrapes from I2P peers.
//
// It follows the I2P BitTorrent guide: the peer is an I2P Destination
// (the ip parameter, or the X-I2P-Dest* headers an I2P server tunnel
// adds, which win), compact replies list 32-byte destination hashes,
// non-compact ones Base64 Destinations, and requests that came through an
// inproxy from the clearnet are refused (403). The Handler serves
// net/http (ServeHTTP) and an httpserver.Server's fast path (Respond)
// alike; the HTTP server itself is package httpserver's.
//
// # The ip parameter
//
// ip is the client's Base64 Destination, with or without ".i2p". It must
// decode to a Destination a client can have: 387 to 395 bytes (see
// MaxDestinationLen), a signature type Destinations use, and a key
// certificate exactly as long as its key types need. A longer value is
// refused whole, never cut to a prefix that might parse; IPv4 and IPv6
// literals are refused.
//
// # Destination enforcement
//
// A request over an I2P stream carries the stream's verified remote
// Destination (WithPeer, Request.Peer): the peer is that Destination, and
// X-I2P-* headers on it, which the client wrote, are not read. A request
// that came through the tracker's I2P server tunnel carries X-I2P-DestB64,
// X-I2P-DestHash and X-I2P-DestB32, which a client cannot forge: the peer
// is that Destination. Either way an ip that names another one adds,
// updates or removes no peer; the request still gets peers, or a failure
// when it wants none (numwant=0, or event=stopped). A request with
// neither has no verified peer (a local client over TCP, or a proxy):
// with strict enforcement (Config.Strict, SetStrict) its announce is
// refused with a failure; without, its ip is trusted, as zzzot does, at
// most Config.UnverifiedRate announces a second. A Destination is
// remembered only for an announce the swarm model took.
//
// # Non-compact replies
//
// A non-compact peer list names each peer by its Base64 Destination,
// which the tracker takes from the hash → Destination cache (filled by
// HTTP announces, UDP connects and lookups). A peer whose Destination the
// cache does not hold — evicted, or known only by the hash a Datagram3
// carries — cannot be written, since a hash does not give its
// Destination back; it is left out of the list and counted
// (Snapshot.Omitted). The counts (complete, incomplete) still include it,
// and compact replies, which carry hashes, are complete.
//
// # Failures
//
// Refused requests get status 200 and a bencoded "failure reason";
// wrong methods on a tracker path get 405 and requests through an
// inproxy 403. Every refusal is counted by its reason (FailReason).
package httptracker
