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
	dst = appendGzipHeader(dst, h)
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

// storedMax is the longest payload a Session with Compress always stores,
// as the Java client does: below this, deflate rarely saves the bytes
// its own block header costs.
const storedMax = 66

// mayShrink tells the payloads worth a deflate pass: over storedMax and
// not random-looking.
func mayShrink(payload []byte) bool { return len(payload) > storedMax && worthDeflating(payload) }

// appendDeflated appends the envelope with payload deflated (level 1,
// BestSpeed), or stored, exactly as AppendGzip writes it, when deflate
// did not make it smaller: the result is never longer than GzipLen. The
// header follows the same rules as the stored one (FLG 0, XFL 2, ports in
// MTIME, protocol in OS), so every I2CP reader takes it, as it takes the
// Java client's compressed envelopes. A Session with Config.Compress uses
// it for the payloads mayShrink picks.
func appendDeflated(dst []byte, h Header, payload []byte) []byte {
	start := len(dst)
	dst = appendGzipHeader(dst, h)
	z := deflaters.Get().(*deflater)
	z.out = dst
	z.w.Reset(z)
	// Writes to z cannot fail, so neither can the flate writer's.
	_, _ = z.w.Write(payload)
	_ = z.w.Close()
	dst, z.out = z.out, nil
	deflaters.Put(z)
	dst = binary.LittleEndian.AppendUint32(dst, crc32.ChecksumIEEE(payload))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	if len(dst)-start >= GzipLen(len(payload)) {
		return AppendGzip(dst[:start], h, payload) // did not shrink: stored
	}
	return dst
}

// worthDeflating guesses in one pass whether deflate can shrink p. It
// can when 4-byte runs repeat (deflate codes them as back references)
// or when few byte values occur (its Huffman codes for them are shorter
// than 8 bits). Hashes, keys and signatures show neither, and for them
// deflate's Huffman pass costs far more than the scan, only for the
// datagram to end up stored anyway. A wrong guess costs only
// compression, never correctness.
func worthDeflating(p []byte) bool {
	p = p[:min(len(p), 4096)] // the first 4 KB tell enough
	const hashBits = 10
	var last [1 << hashBits]uint16 // 1 + the latest position of a run's hash
	var seen [256]bool
	distinct, repeated := 0, 0
	for i := 0; i+4 <= len(p); i++ {
		v := binary.LittleEndian.Uint32(p[i:])
		h := (v * 0x9e3779b1) >> (32 - hashBits)
		if j := int(last[h]) - 1; j >= 0 && binary.LittleEndian.Uint32(p[j:]) == v {
			repeated += 4
			if repeated >= len(p)/16 {
				return true
			}
		}
		last[h] = uint16(i + 1)
		if !seen[p[i]] {
			seen[p[i]] = true
			distinct++
		}
	}
	// With at most 128 values in use (half of them in a short payload)
	// Huffman codes save about a bit a byte or more.
	return distinct <= min(128, len(p)/2)
}

// deflater is a pooled flate writer (about 1 MB of state, too much to
// make per message) that appends what it compresses to out.
type deflater struct {
	w   *flate.Writer
	out []byte
}

func (z *deflater) Write(p []byte) (int, error) {
	z.out = append(z.out, p...)
	return len(p), nil
}

var deflaters = sync.Pool{New: func() any {
	z := &deflater{}
	z.w, _ = flate.NewWriter(z, flate.BestSpeed) // a valid level: no error
	return z
}}

// appendGzipHeader appends the envelope's 10-byte header: magic, CM 8
// (deflate), FLG 0, the ports where MTIME goes, XFL 2, the protocol as OS.
func appendGzipHeader(dst []byte, h Header) []byte {
	dst = append(dst, 0x1f, 0x8b, 8, 0)
	dst = binary.BigEndian.AppendUint16(dst, h.FromPort)
	dst = binary.BigEndian.AppendUint16(dst, h.ToPort)
	return append(dst, 2, h.Protocol)
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
