// Package udptracker serves UDP announces over I2P (proposal 160): BEP 15
// requests carried in I2P datagrams on an I2CP session. A connect arrives
// as a signed Datagram2 (protocol 19) and fills the hash → Destination
// cache; announces and scrapes arrive as Datagram3 (protocol 20); every
// reply is a raw datagram (protocol 18) from the request's to-port to its
// from-port. Connection ids are stateless keyed hashes.
//
// The BEP 15 codec (bep15.go) and the connection-id scheme (connid.go) are
// pure and usable on their own by clients, tests and the load tool.
package udptracker
