package i2cp

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sync"
)

// An I2CP payload is a gzip stream whose header is repurposed: bytes 4-5
// (MTIME) carry the from-port, bytes 6-7 the to-port, byte 8 (XFL) is 2
// and byte 9 (OS) the protocol number. FLG must be 0: the Java reader
// does not handle optional header fields the standard way.

// MaxPayload caps a decompressed payload (the Java reader refuses more
// than about 40 KB; datagrams stay far below).
const MaxPayload = 64 << 10

const gzipHeaderLen = 10

// Envelope errors.
var (
	ErrNotGzip         = errors.New("i2cp: payload is not gzip")
	ErrPayloadTooLarge = errors.New("i2cp: payload too large")
	ErrBadChecksum     = errors.New("i2cp: payload checksum mismatch")
)

// Header is what the gzip envelope says about a payload.
type Header struct {
	Protocol         uint8
	FromPort, ToPort uint16
}

// AppendGzip wraps payload in the envelope as stored (uncompressed)
// deflate blocks: byte-exact with the Java client's output for small
// payloads, and the cheapest choice for datagrams, whose signatures and
// hashes do not compress.
func AppendGzip(dst []byte, h Header, payload []byte) []byte {
	dst = append(dst, 0x1f, 0x8b, 8, 0)
	dst = binary.BigEndian.AppendUint16(dst, h.FromPort)
	dst = binary.BigEndian.AppendUint16(dst, h.ToPort)
	dst = append(dst, 2, h.Protocol)
	rest := payload
	for {
		n := min(len(rest), 0xffff)
		final := byte(0)
		if n == len(rest) {
			final = 1
		}
		dst = append(dst, final)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(n))
		dst = binary.LittleEndian.AppendUint16(dst, ^uint16(n))
		dst = append(dst, rest[:n]...)
		rest = rest[n:]
		if final == 1 {
			break
		}
	}
	dst = binary.LittleEndian.AppendUint32(dst, crc32.ChecksumIEEE(payload))
	return binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
}

// GzipLen is the size AppendGzip produces for an n-byte payload.
func GzipLen(n int) int {
	blocks := max(1, (n+0xfffe)/0xffff)
	return gzipHeaderLen + 5*blocks + n + 8
}

// ParseGzip opens an envelope. A single stored block — what the Java
// client and this package send — is returned without copying (data
// aliases b); anything else is inflated into scratch (grown as needed, at
// most MaxPayload). The CRC-32 and length trailer are checked.
func ParseGzip(b []byte, scratch *[]byte) (Header, []byte, error) {
	if len(b) < gzipHeaderLen+8 || b[0] != 0x1f || b[1] != 0x8b || b[2] != 8 {
		return Header{}, nil, ErrNotGzip
	}
	h := Header{
		FromPort: binary.BigEndian.Uint16(b[4:]),
		ToPort:   binary.BigEndian.Uint16(b[6:]),
		Protocol: b[9],
	}
	body := b[gzipHeaderLen:]
	if b[3] != 0 {
		var err error
		if body, err = skipOptionalFields(b[3], body); err != nil {
			return h, nil, err
		}
	}
	if len(body) < 8 {
		return h, nil, fmt.Errorf("%w: truncated", ErrNotGzip)
	}
	trailer := body[len(body)-8:]
	wantCRC := binary.LittleEndian.Uint32(trailer)
	wantLen := binary.LittleEndian.Uint32(trailer[4:])
	if wantLen > MaxPayload {
		return h, nil, fmt.Errorf("%w: %d bytes", ErrPayloadTooLarge, wantLen)
	}
	var data []byte
	// Fast path: one final stored block that spans the whole deflate data.
	if len(body) >= 5+8 && body[0] == 1 {
		n := int(binary.LittleEndian.Uint16(body[1:]))
		nn := binary.LittleEndian.Uint16(body[3:])
		if ^uint16(n) == nn && 5+n+8 == len(body) {
			data = body[5 : 5+n]
		}
	}
	if data == nil {
		var err error
		if data, err = inflate(body[:len(body)-8], scratch); err != nil {
			return h, nil, err
		}
	}
	if uint32(len(data)) != wantLen || crc32.ChecksumIEEE(data) != wantCRC {
		return h, nil, ErrBadChecksum
	}
	return h, data, nil
}

// inflaters keeps flate decompressors (about 40 KB each) for reuse: the
// compressed path is rare (Java compresses payloads over 66 bytes that
// shrink), so a handful suffice.
var inflaters sync.Pool

// inflate decompresses deflate data that must end exactly where the
// trailer begins, into scratch (grown as needed, at most MaxPayload).
func inflate(deflated []byte, scratch *[]byte) ([]byte, error) {
	src := bytes.NewReader(deflated) // an io.ByteReader: flate reads no further than it needs
	fr, _ := inflaters.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReader(src)
	} else if err := fr.(flate.Resetter).Reset(src, nil); err != nil {
		return nil, fmt.Errorf("%w: inflate: %w", ErrNotGzip, err)
	}
	defer inflaters.Put(fr)
	buf := bytes.NewBuffer((*scratch)[:0])
	n, err := io.Copy(buf, io.LimitReader(fr, MaxPayload+1))
	if err != nil {
		return nil, fmt.Errorf("%w: inflate: %w", ErrNotGzip, err)
	}
	if n > MaxPayload {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrPayloadTooLarge, MaxPayload)
	}
	if src.Len() != 0 {
		return nil, fmt.Errorf("%w: %d stray bytes before the trailer", ErrNotGzip, src.Len())
	}
	*scratch = buf.Bytes()
	return *scratch, nil
}

// skipOptionalFields steps over RFC 1952 optional header fields, for
// senders that set FLG.
func skipOptionalFields(flg byte, b []byte) ([]byte, error) {
	const fhcrc, fextra, fname, fcomment = 2, 4, 8, 16
	if flg&0xe0 != 0 {
		return nil, fmt.Errorf("%w: reserved flags 0x%02x", ErrNotGzip, flg)
	}
	if flg&fextra != 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("%w: FEXTRA truncated", ErrNotGzip)
		}
		n := int(binary.LittleEndian.Uint16(b))
		if len(b) < 2+n {
			return nil, fmt.Errorf("%w: FEXTRA truncated", ErrNotGzip)
		}
		b = b[2+n:]
	}
	for _, f := range []byte{fname, fcomment} {
		if flg&f != 0 {
			i := bytes.IndexByte(b, 0)
			if i < 0 {
				return nil, fmt.Errorf("%w: unterminated header string", ErrNotGzip)
			}
			b = b[i+1:]
		}
	}
	if flg&fhcrc != 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("%w: FHCRC truncated", ErrNotGzip)
		}
		b = b[2:]
	}
	return b, nil
}
