package i2p

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// MaxMappingLen is the largest Mapping body a u16 length can describe.
const MaxMappingLen = 65535

// Mapping is an I2P Mapping: string pairs, serialized as a u16 byte length
// followed by "key=value;" entries whose key and value are I2P Strings.
// Entries keep their wire order; Bytes writes them sorted by key, as
// signed structures require.
type Mapping []Pair

// Pair is one Mapping entry.
type Pair struct{ Key, Value string }

// Get returns the value of the first entry named key.
func (m Mapping) Get(key string) (string, bool) {
	for _, p := range m {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

func (m Mapping) sort() {
	slices.SortStableFunc(m, func(a, b Pair) int { return strings.Compare(a.Key, b.Key) })
}

// AppendTo appends the serialized Mapping, entries sorted by key.
func (m Mapping) AppendTo(dst []byte) ([]byte, error) {
	sorted := slices.Clone(m)
	sorted.sort()
	lenAt := len(dst)
	dst = append(dst, 0, 0)
	for _, p := range sorted {
		if len(p.Key) > 255 || len(p.Value) > 255 {
			return nil, fmt.Errorf("i2p: mapping entry %q longer than 255 bytes", p.Key)
		}
		dst = append(dst, byte(len(p.Key)))
		dst = append(dst, p.Key...)
		dst = append(dst, '=', byte(len(p.Value)))
		dst = append(dst, p.Value...)
		dst = append(dst, ';')
	}
	n := len(dst) - lenAt - 2
	if n > MaxMappingLen {
		return nil, fmt.Errorf("i2p: mapping of %d bytes exceeds %d", n, MaxMappingLen)
	}
	binary.BigEndian.PutUint16(dst[lenAt:], uint16(n))
	return dst, nil
}

// Bytes returns the serialized Mapping.
func (m Mapping) Bytes() ([]byte, error) { return m.AppendTo(nil) }

// MappingLen returns the total size (length prefix included) of the
// Mapping at the front of b, checking only that it fits.
func MappingLen(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, fmt.Errorf("i2p: mapping truncated: %d bytes, need 2", len(b))
	}
	n := 2 + int(binary.BigEndian.Uint16(b))
	if len(b) < n {
		return 0, fmt.Errorf("i2p: mapping says %d bytes, have %d", n-2, len(b)-2)
	}
	return n, nil
}

// ParseMapping parses a Mapping from the front of b and returns the rest.
func ParseMapping(b []byte) (Mapping, []byte, error) {
	n, err := MappingLen(b)
	if err != nil {
		return nil, b, err
	}
	body := b[2:n]
	var m Mapping
	for len(body) > 0 {
		key, rest, err := parseString(body)
		if err != nil {
			return nil, b, fmt.Errorf("i2p: mapping key: %w", err)
		}
		if len(rest) == 0 || rest[0] != '=' {
			return nil, b, fmt.Errorf("i2p: mapping entry %q lacks '='", key)
		}
		value, rest, err := parseString(rest[1:])
		if err != nil {
			return nil, b, fmt.Errorf("i2p: mapping value of %q: %w", key, err)
		}
		if len(rest) == 0 || rest[0] != ';' {
			return nil, b, fmt.Errorf("i2p: mapping entry %q lacks ';'", key)
		}
		m = append(m, Pair{key, value})
		body = rest[1:]
	}
	return m, b[n:], nil
}

func parseString(b []byte) (string, []byte, error) {
	if len(b) == 0 {
		return "", b, fmt.Errorf("string truncated")
	}
	n := int(b[0])
	if len(b) < 1+n {
		return "", b, fmt.Errorf("string says %d bytes, have %d", n, len(b)-1)
	}
	return string(b[1 : 1+n]), b[1+n:], nil
}
