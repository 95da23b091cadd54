package datagram

import (
	"fmt"

	"github.com/go-i2p/go-opentracker/i2p"
)

// Datagram3MinSize is a Datagram3 with no options and no payload.
const Datagram3MinSize = i2p.HashLen + 2

// Datagram3 is a parsed protocol-20 datagram. Its From hash is only a
// claim: nothing authenticates it.
type Datagram3 struct {
	From       i2p.Hash
	RawOptions []byte // the serialized Mapping, nil when absent
	Payload    []byte // aliases the parsed bytes
}

// Options decodes the options Mapping (nil when absent).
func (d *Datagram3) Options() (i2p.Mapping, error) { return parseOptions(d.RawOptions) }

// ParseDatagram3 parses b into d without allocating; d's slices alias b.
func ParseDatagram3(b []byte, d *Datagram3) error {
	if len(b) < Datagram3MinSize {
		return fmt.Errorf("%w: Datagram3 of %d bytes, need %d", ErrTooSmall, len(b), Datagram3MinSize)
	}
	if len(b) > MaxSize {
		return fmt.Errorf("%w: Datagram3 of %d bytes, max %d", ErrTooLarge, len(b), MaxSize)
	}
	f := b[i2p.HashLen+1]
	if err := checkFlags(f, version3, flagOptions); err != nil {
		return err
	}
	opts, payload, err := splitOptions(b[Datagram3MinSize:], f&flagOptions != 0)
	if err != nil {
		return err
	}
	copy(d.From[:], b)
	d.RawOptions = opts
	d.Payload = payload
	return nil
}

// AppendDatagram3 appends a Datagram3 from the sender hash with optional
// options and the payload.
func AppendDatagram3(dst []byte, from i2p.Hash, opts i2p.Mapping, payload []byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, from[:]...)
	f := byte(version3)
	if len(opts) > 0 {
		f |= flagOptions
	}
	dst = append(dst, 0, f)
	dst, err := appendOptions(dst, opts)
	if err != nil {
		return dst[:start], err
	}
	dst = append(dst, payload...)
	if n := len(dst) - start; n > MaxSize {
		return dst[:start], fmt.Errorf("%w: Datagram3 of %d bytes, max %d", ErrTooLarge, n, MaxSize)
	}
	return dst, nil
}
