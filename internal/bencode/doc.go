// Package bencode writes and reads BitTorrent's bencoding (BEP 3).
//
// The writer, AppendString, appends to a caller's buffer so a reply is
// built without allocating. The readers take untrusted bytes:
// every length is checked against the input before it is used, integers
// are bounded to int64, nesting to MaxDepth, and malformed input is an
// error wrapping ErrInvalid, never a panic. Decode is strict as BEP 3
// reads (canonical integers and lengths, dictionary keys sorted and
// unique, nothing after the value); Dict and List walk a value without
// building it and accept keys in any order, as a client reading a
// tracker's reply may.
package bencode
