package i2p

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Since 0.9.57 routers fill the unused key space of a new Destination —
// the 256-byte public-key field and the signing-key field's padding, up
// to 352 bytes for Ed25519 — with one random 32-byte pattern repeated
// (proposal 161), so the 391 bytes of a typical Destination hold about 71
// bytes of information. The compact form stores such a Destination in 74
// bytes, for the store's journal; any other Destination costs one byte
// more than its own length.

// Compact forms (the first byte).
const (
	compactPlain  = 0 // the Destination follows as is
	compactRepeat = 1 // uint16 n, the 32-byte pattern, then bytes n and on
)

const padPeriod = 32

// AppendCompact appends the compact form of d to dst.
func (d Destination) AppendCompact(dst []byte) []byte {
	raw := d.raw
	n := padPeriod
	for n < keysLen && n < len(raw) && raw[n] == raw[n-padPeriod] {
		n++
	}
	if n < 2*padPeriod { // no repetition worth the three bytes
		dst = append(slices.Grow(dst, 1+len(raw)), compactPlain)
		return append(dst, raw...)
	}
	// Grown once to the exact size: a journal appends to nil.
	dst = append(slices.Grow(dst, 3+padPeriod+len(raw)-n), compactRepeat)
	dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	dst = append(dst, raw[:padPeriod]...)
	return append(dst, raw[n:]...)
}

// ParseCompactDestination parses the compact form of a Destination. It
// expands it and parses the result as ParseDestination does; nothing may
// follow it.
func ParseCompactDestination(b []byte) (Destination, error) {
	raw, err := AppendExpanded(nil, b)
	if err != nil {
		return Destination{}, err
	}
	d, rest, err := ParseDestination(raw)
	if err != nil {
		return Destination{}, fmt.Errorf("compact destination: %w", err)
	}
	if len(rest) != 0 {
		return Destination{}, fmt.Errorf("compact destination: %d trailing bytes", len(rest))
	}
	return d, nil
}

// AppendExpanded appends the serialized Destination whose compact form is
// b to dst, without parsing it: for a compact form this program made from
// a parsed Destination (ParseCompactDestination checks the rest).
func AppendExpanded(dst, b []byte) ([]byte, error) {
	if len(b) == 0 {
		return dst, fmt.Errorf("compact destination: %w", ErrShortDestination)
	}
	switch b[0] {
	case compactPlain:
		return append(dst, b[1:]...), nil
	case compactRepeat:
		if len(b) < 3+padPeriod {
			return dst, fmt.Errorf("compact destination: %d bytes: %w", len(b), ErrShortDestination)
		}
		n := int(binary.BigEndian.Uint16(b[1:]))
		if n < 2*padPeriod || n > keysLen {
			return dst, fmt.Errorf("compact destination: repeated prefix of %d bytes (want %d..%d)", n, 2*padPeriod, keysLen)
		}
		pattern, rest := b[3:3+padPeriod], b[3+padPeriod:]
		if len(rest) > MaxDestinationLen {
			return dst, fmt.Errorf("compact destination: %d bytes after the prefix", len(rest))
		}
		start := len(dst)
		dst = slices.Grow(dst, n+len(rest))[:start+n]
		fill := dst[start:]
		done := copy(fill, pattern)
		for done < n { // doubling copies: 32, 64, 128, 256 bytes
			done += copy(fill[done:], fill[:done])
		}
		return append(dst, rest...), nil
	default:
		return dst, fmt.Errorf("compact destination: unknown form %d", b[0])
	}
}
