package i2p

import (
	"encoding/base32"
	"encoding/base64"
	"fmt"
)

// I2P Base64 is standard Base64 with '-' and '~' in place of '+' and '/'.
const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~"

var (
	b64 = base64.NewEncoding(base64Alphabet)
	b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
)

// EncodeBase64 returns the padded I2P Base64 form of b.
func EncodeBase64(b []byte) string { return b64.EncodeToString(b) }

// AppendBase64 appends the padded I2P Base64 form of b to dst.
func AppendBase64(dst, b []byte) []byte { return b64.AppendEncode(dst, b) }

// Base64Len is the length of the padded I2P Base64 form of n bytes.
func Base64Len(n int) int { return b64.EncodedLen(n) }

// DecodeBase64 decodes padded I2P Base64.
func DecodeBase64(s string) ([]byte, error) {
	out, err := b64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("i2p: invalid base64: %w", err)
	}
	return out, nil
}

// EncodeBase32 returns the lower-case, unpadded Base32 form of b.
func EncodeBase32(b []byte) string { return b32.EncodeToString(b) }

// DecodeBase32 decodes lower-case (or upper-case), unpadded Base32.
func DecodeBase32(s string) ([]byte, error) {
	buf := []byte(s)
	for i, c := range buf {
		if c >= 'A' && c <= 'Z' {
			buf[i] = c + ('a' - 'A')
		}
	}
	out, err := b32.DecodeString(string(buf))
	if err != nil {
		return nil, fmt.Errorf("i2p: invalid base32: %w", err)
	}
	return out, nil
}
