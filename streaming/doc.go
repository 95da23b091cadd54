// Package streaming implements the I2P streaming protocol (I2CP protocol 6).
//
// The packet codec (packet.go, sign.go) is pure computation over byte
// slices: Parse bounds every read and returns errors, never panics, and
// Append writes the canonical encoding the Java reference re-serialises
// when it verifies a signature. The connection engine (Manager, Listener,
// Dialer and Conn) turns packets into reliable, ordered byte streams with
// retransmission, acknowledgements, a congestion window and graceful close,
// over any Link that can send one payload to a Destination; Attach
// connects a Manager to an I2CP session.
package streaming
