package bencode

import (
	"fmt"
	"slices"
)

// The tests write values back with Append to check that what Decode
// accepts is canonical.

// Append appends v: an int, int64, string or []byte, or a []any or
// map[string]any of those (dictionary keys sorted, as BEP 3 wants) — any
// value Decode returns.
func Append(dst []byte, v any) ([]byte, error) {
	return appendValue(dst, v, 0)
}

func appendValue(dst []byte, v any, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return dst, fmt.Errorf("%w: nested deeper than %d", ErrInvalid, MaxDepth)
	}
	var err error
	switch v := v.(type) {
	case int:
		return AppendInt(dst, int64(v)), nil
	case int64:
		return AppendInt(dst, v), nil
	case string:
		return AppendString(dst, v), nil
	case []byte:
		return AppendString(dst, string(v)), nil
	case []any:
		dst = append(dst, 'l')
		for _, item := range v {
			if dst, err = appendValue(dst, item, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, 'e'), nil
	case map[string]any:
		dst = append(dst, 'd')
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			dst = AppendString(dst, k)
			if dst, err = appendValue(dst, v[k], depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, 'e'), nil
	}
	return dst, fmt.Errorf("%w: cannot encode a %T", ErrInvalid, v)
}
