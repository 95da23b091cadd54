// Package i2p holds the I2P identity structures the tracker needs.
//
// They are hashes, Destinations with their certificates, signature types
// and verification, offline signatures, I2P Mappings, the I2P Base64 and
// Base32 text forms, and private key files.
//
// Everything here is pure computation over byte slices, except the key-file
// helpers that read and write files. Parsers bound every read and return an
// error that names what was wrong; none of them panics on hostile input.
package i2p
