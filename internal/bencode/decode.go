package bencode

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// MaxDepth bounds how deeply lists and dictionaries nest.
const MaxDepth = 16

// ErrInvalid is what every reading error wraps.
var ErrInvalid = errors.New("bencode: invalid")

// The longest integer ("i-9223372036854775808e") and string length
// prefix ("4294967295:") the readers look at before giving up.
const (
	maxIntLen    = 22
	maxLengthLen = 11
)

// Decode reads the one value b holds, strictly: int64, string, []any or
// map[string]any, with canonical integers and lengths, dictionary keys
// sorted and unique, and no bytes after the value.
func Decode(b []byte) (any, error) {
	v, rest, err := decode(b, 0)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the value", ErrInvalid, len(rest))
	}
	return v, nil
}

func decode(b []byte, depth int) (any, []byte, error) {
	if len(b) == 0 {
		return nil, nil, fmt.Errorf("%w: truncated", ErrInvalid)
	}
	if depth > MaxDepth {
		return nil, nil, fmt.Errorf("%w: nested deeper than %d", ErrInvalid, MaxDepth)
	}
	switch c := b[0]; {
	case c == 'i':
		return Int(b)
	case c >= '0' && c <= '9':
		s, rest, err := String(b)
		return string(s), rest, err
	case c == 'l':
		list := []any{}
		rest, err := walk(b, 'l', func(item []byte) ([]byte, error) {
			v, rest, err := decode(item, depth+1)
			list = append(list, v)
			return rest, err
		})
		return list, rest, err
	case c == 'd':
		return decodeDict(b, depth)
	}
	return nil, nil, fmt.Errorf("%w: unexpected byte %q", ErrInvalid, b[0])
}

func decodeDict(b []byte, depth int) (any, []byte, error) {
	dict := map[string]any{}
	var last []byte
	rest, err := walk(b, 'd', func(entry []byte) ([]byte, error) {
		key, rest, err := String(entry)
		if err != nil {
			return nil, fmt.Errorf("dictionary key: %w", err)
		}
		if len(dict) > 0 && bytes.Compare(key, last) <= 0 {
			return nil, fmt.Errorf("%w: key %q after %q: unsorted or repeated", ErrInvalid, key, last)
		}
		v, rest, err := decode(rest, depth+1)
		dict[string(key)], last = v, key
		return rest, err
	})
	return dict, rest, err
}

// walk reads a list or dictionary (kind 'l' or 'd') at the start of b,
// calling each for every item or entry: each consumes it and returns
// what follows. walk returns what follows the container.
func walk(b []byte, kind byte, each func(b []byte) ([]byte, error)) ([]byte, error) {
	if len(b) == 0 || b[0] != kind {
		return nil, fmt.Errorf("%w: not a %s", ErrInvalid, kindName(kind))
	}
	for b = b[1:]; len(b) > 0 && b[0] != 'e'; {
		var err error
		if b, err = each(b); err != nil {
			return nil, err
		}
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: %s not closed", ErrInvalid, kindName(kind))
	}
	return b[1:], nil
}

func kindName(kind byte) string {
	if kind == 'd' {
		return "dictionary"
	}
	return "list"
}

// Int reads the integer at the start of b and returns what follows it.
// It must be canonical: no leading zeros, no "-0", no sign but '-'.
func Int(b []byte) (n int64, rest []byte, err error) {
	if len(b) == 0 || b[0] != 'i' {
		return 0, nil, fmt.Errorf("%w: not an integer", ErrInvalid)
	}
	end := bytes.IndexByte(b[:min(len(b), maxIntLen)], 'e')
	if end < 0 {
		return 0, nil, fmt.Errorf("%w: integer not closed within %d bytes", ErrInvalid, maxIntLen)
	}
	s := b[1:end]
	digits := bytes.TrimPrefix(s, []byte("-"))
	if !canonical(digits) || (len(digits) < len(s) && digits[0] == '0') {
		return 0, nil, fmt.Errorf("%w: integer %q", ErrInvalid, s)
	}
	n, err = strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: integer %q out of range", ErrInvalid, s)
	}
	return n, b[end+1:], nil
}

// String reads the byte string at the start of b ("len:bytes") and
// returns it (a slice of b) and what follows it.
func String(b []byte) (s, rest []byte, err error) {
	colon := bytes.IndexByte(b[:min(len(b), maxLengthLen)], ':')
	if colon < 0 {
		return nil, nil, fmt.Errorf("%w: not a string", ErrInvalid)
	}
	digits := b[:colon]
	if !canonical(digits) {
		return nil, nil, fmt.Errorf("%w: string length %q", ErrInvalid, digits)
	}
	n, err := strconv.Atoi(string(digits))
	if err != nil || n > len(b)-colon-1 {
		return nil, nil, fmt.Errorf("%w: string of %s bytes in %d", ErrInvalid, digits, len(b)-colon-1)
	}
	return b[colon+1 : colon+1+n], b[colon+1+n:], nil
}

// canonical reports whether d is a decimal number without a leading zero
// (but "0").
func canonical(d []byte) bool {
	if len(d) == 0 || (d[0] == '0' && len(d) > 1) {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// skip checks the value at the start of b, as deep as depth already,
// and returns what follows it. Dictionary keys may come in any order.
func skip(b []byte, depth int) ([]byte, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: truncated", ErrInvalid)
	}
	if depth > MaxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrInvalid, MaxDepth)
	}
	switch c := b[0]; {
	case c == 'i':
		_, rest, err := Int(b)
		return rest, err
	case c >= '0' && c <= '9':
		_, rest, err := String(b)
		return rest, err
	case c == 'l':
		return walk(b, 'l', func(item []byte) ([]byte, error) { return skip(item, depth+1) })
	case c == 'd':
		return walk(b, 'd', func(entry []byte) ([]byte, error) {
			_, rest, err := String(entry)
			if err != nil {
				return nil, fmt.Errorf("dictionary key: %w", err)
			}
			return skip(rest, depth+1)
		})
	}
	return nil, fmt.Errorf("%w: unexpected byte %q", ErrInvalid, b[0])
}

// Dict walks the dictionary at the start of b, calling fn with each key
// and the bytes of its value (checked as Skip checks them), and returns
// what follows the dictionary. Keys may come in any order; an error from
// fn stops the walk and is returned.
func Dict(b []byte, fn func(key, value []byte) error) (rest []byte, err error) {
	return walk(b, 'd', func(entry []byte) ([]byte, error) {
		key, v, err := String(entry)
		if err != nil {
			return nil, fmt.Errorf("dictionary key: %w", err)
		}
		rest, err := skip(v, 1)
		if err != nil {
			return nil, err
		}
		return rest, fn(key, v[:len(v)-len(rest)])
	})
}

// List walks the list at the start of b, calling fn with the bytes of
// each item (checked as Skip checks them), and returns what follows the
// list; an error from fn stops the walk and is returned.
func List(b []byte, fn func(item []byte) error) (rest []byte, err error) {
	return walk(b, 'l', func(item []byte) ([]byte, error) {
		rest, err := skip(item, 1)
		if err != nil {
			return nil, err
		}
		return rest, fn(item[:len(item)-len(rest)])
	})
}
