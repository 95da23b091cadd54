package datagram

import (
	"fmt"

	"github.com/go-i2p/go-opentracker/i2p"
)

// Bits of the second flags byte (the first byte is reserved and ignored).
const (
	flagVersionMask = 0x0f
	flagOptions     = 0x10
	flagOffline     = 0x20
	flagsUnused     = 0xc0

	version2 = 2
	version3 = 3
)

// MaxSize is the largest datagram either format accepts: what fits in an
// I2CP payload after gzip framing, as the reference implementation caps it.
const MaxSize = 61 * 1024

// checkFlags validates the flags' second byte for the given version and
// the bits that version allows.
func checkFlags(f byte, version byte, allowed byte) error {
	if v := f & flagVersionMask; v != version {
		return fmt.Errorf("%w: %d, want %d", ErrBadVersion, v, version)
	}
	if f&^(flagVersionMask|allowed) != 0 {
		return fmt.Errorf("%w: 0x%02x", ErrBadFlags, f)
	}
	return nil
}

// splitOptions cuts the options Mapping off the front of b when present.
func splitOptions(b []byte, present bool) (opts, rest []byte, err error) {
	if !present {
		return nil, b, nil
	}
	n, err := i2p.MappingLen(b)
	if err != nil {
		return nil, b, fmt.Errorf("%w: %w", ErrBadOptions, err)
	}
	return b[:n], b[n:], nil
}

// appendOptions writes opts (sorted) when non-empty and reports whether it
// wrote any.
func appendOptions(dst []byte, opts i2p.Mapping) ([]byte, error) {
	if len(opts) == 0 {
		return dst, nil
	}
	out, err := opts.AppendTo(dst)
	if err != nil {
		return dst, fmt.Errorf("%w: %w", ErrBadOptions, err)
	}
	return out, nil
}

// parseOptions decodes raw options bytes (nil when absent).
func parseOptions(raw []byte) (i2p.Mapping, error) {
	if raw == nil {
		return nil, nil
	}
	m, _, err := i2p.ParseMapping(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOptions, err)
	}
	return m, nil
}
