package i2p

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
)

// HashLen is the size of an I2P hash (SHA-256).
const HashLen = 32

// B32Suffix ends every Base32 address.
const B32Suffix = ".b32.i2p"

// Hash is the SHA-256 of a serialized structure; the hash of a Destination
// names a peer everywhere a Destination is too large to carry.
type Hash [HashLen]byte

// HashOf returns the SHA-256 of b.
func HashOf(b []byte) Hash { return sha256.Sum256(b) }

// Equal reports whether h and o are the same hash. It compares four
// 8-byte words in line, where == on the arrays calls the runtime's
// general memory comparison (a hot spot of the announce path).
func (h *Hash) Equal(o *Hash) bool {
	le := binary.LittleEndian
	return le.Uint64(h[0:]) == le.Uint64(o[0:]) && le.Uint64(h[8:]) == le.Uint64(o[8:]) &&
		le.Uint64(h[16:]) == le.Uint64(o[16:]) && le.Uint64(h[24:]) == le.Uint64(o[24:])
}

// IsZero reports whether h is all zero bytes, which is never a valid sender.
func (h Hash) IsZero() bool { return h == Hash{} }

// Base64 returns the I2P Base64 form (44 characters with padding).
func (h Hash) Base64() string { return EncodeBase64(h[:]) }

// B32 returns the Base32 address, "<52 chars>.b32.i2p".
func (h Hash) B32() string { return EncodeBase32(h[:]) + B32Suffix }

// String returns the Base32 address.
func (h Hash) String() string { return h.B32() }

// ParseHashBase64 parses the I2P Base64 form of a hash.
func ParseHashBase64(s string) (Hash, error) {
	var h Hash
	b, err := DecodeBase64(s)
	if err != nil {
		return h, err
	}
	if len(b) != HashLen {
		return h, fmt.Errorf("i2p: hash is %d bytes, want %d", len(b), HashLen)
	}
	copy(h[:], b)
	return h, nil
}

// ParseB32 parses a Base32 address, with or without the ".b32.i2p" suffix.
func ParseB32(s string) (Hash, error) {
	var h Hash
	s = strings.TrimSuffix(strings.ToLower(s), B32Suffix)
	if len(s) != 52 {
		return h, fmt.Errorf("i2p: b32 address has %d characters, want 52", len(s))
	}
	b, err := DecodeBase32(s)
	if err != nil {
		return h, err
	}
	copy(h[:], b)
	return h, nil
}

// Bytes returns the hash as a slice.
func (h Hash) Bytes() []byte { return h[:] }
