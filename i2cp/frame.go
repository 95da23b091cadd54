package i2cp

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MaxFrameBody bounds one message body. Routers cap theirs near 64 KiB
// (i2pd: 65535); a little more leaves room for the largest datagram plus
// its headers.
const MaxFrameBody = 1 << 17

// ErrFrameTooLarge is returned for a frame whose length exceeds MaxFrameBody.
var ErrFrameTooLarge = errors.New("i2cp: frame too large")

// ReadFrame reads one message: u32 body length, u8 type, body. The body
// is read into buf when it fits (else a new slice) and is valid until the
// next call that reuses buf.
func ReadFrame(r *bufio.Reader, buf []byte) (typ byte, body []byte, err error) {
	// Peek, not a read into an array: the array would escape to the
	// heap through the io.Reader, once a frame.
	hdr, err := r.Peek(frameHeaderLen)
	if len(hdr) < frameHeaderLen {
		if len(hdr) > 0 && err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	n, typ := binary.BigEndian.Uint32(hdr), hdr[4]
	_, _ = r.Discard(frameHeaderLen)
	if n > MaxFrameBody {
		return 0, nil, fmt.Errorf("%w: %d bytes (type %d)", ErrFrameTooLarge, n, typ)
	}
	if int(n) <= cap(buf) {
		body = buf[:n]
	} else {
		body = make([]byte, n)
	}
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, fmt.Errorf("i2cp: frame body (type %d, %d bytes): %w", typ, n, noEOF(err))
	}
	return typ, body, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// AppendFrameHeader appends a frame header; the caller appends exactly
// bodyLen bytes after it.
func AppendFrameHeader(dst []byte, typ byte, bodyLen int) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(bodyLen))
	return append(dst, typ)
}

// beginFrame starts a frame whose length is patched by endFrame.
func beginFrame(dst []byte, typ byte) ([]byte, int) {
	at := len(dst)
	return append(dst, 0, 0, 0, 0, typ), at
}

func endFrame(dst []byte, at int) []byte {
	binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-5))
	return dst
}
