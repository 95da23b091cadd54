package httptracker

import "github.com/go-i2p/go-opentracker/internal/bencode"

// appendFailure appends a whole failure reply: a dictionary with the one
// key "failure reason".
func appendFailure(dst []byte, reason string) []byte {
	dst = append(dst, "d14:failure reason"...)
	dst = bencode.AppendString(dst, reason)
	return append(dst, 'e')
}
