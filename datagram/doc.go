// Package datagram encodes and decodes the I2P datagrams of UDP announces.
//
// The formats are proposal 163's, used by proposal 160: Datagram2 (I2CP protocol 19: the sender's Destination, signed over the
// receiver's hash, replay resistant) and Datagram3 (protocol 20: the
// sender's hash only, unauthenticated). Raw datagrams (protocol 18) have no
// framing of their own.
//
// Everything is a pure function over byte slices; parsed payloads alias the
// input. Parsers bound every read, never panic, and return errors that
// wrap one of the Err values below so callers can count drops by reason.
package datagram

// I2CP protocol numbers of the datagram formats.
const (
	ProtocolDatagram1 = 17
	ProtocolRaw       = 18
	ProtocolDatagram2 = 19
	ProtocolDatagram3 = 20
)
