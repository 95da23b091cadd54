package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/go-i2p/go-opentracker/internal/bencode"
	"github.com/go-i2p/go-opentracker/tracker"
)

// HTTPAnnounce holds the parameters of one HTTP announce.
type HTTPAnnounce struct {
	Path     string // "/announce"
	InfoHash [20]byte
	PeerID   [20]byte
	Port     uint16
	Left     uint64
	Event    tracker.Event
	NumWant  int32 // negative: not sent
	Compact  bool
	// IP is sent as the ip parameter when set: on I2P, the client's
	// Base64 Destination.
	IP string
	// TunnelDest, when set, is sent as X-I2P-DestB64: the client's
	// Destination as an I2P HTTP server tunnel names it.
	TunnelDest string
}

// AppendHTTPAnnounce appends a whole HTTP/1.1 GET request for a: the
// request line with the query, Host, and Connection: keep-alive or close.
func AppendHTTPAnnounce(dst []byte, host string, a *HTTPAnnounce, keepAlive bool) []byte {
	dst = append(dst, "GET "...)
	dst = append(dst, a.Path...)
	dst = append(dst, "?info_hash="...)
	dst = appendEscaped(dst, a.InfoHash[:])
	dst = append(dst, "&peer_id="...)
	dst = appendEscaped(dst, a.PeerID[:])
	dst = append(dst, "&port="...)
	dst = strconv.AppendUint(dst, uint64(a.Port), 10)
	dst = append(dst, "&uploaded=0&downloaded=0&left="...)
	dst = strconv.AppendUint(dst, a.Left, 10)
	if a.Event != tracker.EventNone && a.Event.Valid() {
		dst = append(dst, "&event="...)
		dst = append(dst, a.Event.String()...)
	}
	if a.NumWant >= 0 {
		dst = append(dst, "&numwant="...)
		dst = strconv.AppendInt(dst, int64(a.NumWant), 10)
	}
	if a.Compact {
		dst = append(dst, "&compact=1"...)
	}
	if a.IP != "" {
		dst = append(dst, "&ip="...)
		dst = appendEscaped(dst, []byte(a.IP))
	}
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	if a.TunnelDest != "" {
		dst = append(dst, "\r\nX-I2P-DestB64: "...)
		dst = append(dst, a.TunnelDest...)
	}
	if keepAlive {
		dst = append(dst, "\r\nConnection: keep-alive\r\n\r\n"...)
	} else {
		dst = append(dst, "\r\nConnection: close\r\n\r\n"...)
	}
	return dst
}

// appendEscaped percent-encodes everything but RFC 3986 unreserved bytes.
func appendEscaped(dst, b []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			dst = append(dst, c)
		default:
			dst = append(dst, '%', hex[c>>4], hex[c&15])
		}
	}
	return dst
}

// Bounds of an HTTP reply the tool reads.
const (
	MaxHTTPHead = 16 << 10
	MaxHTTPBody = 1 << 20
)

// ErrHTTP wraps every HTTP reply parse error.
var ErrHTTP = errors.New("bad HTTP reply")

// HTTPHead is the part of a response head the tool needs.
type HTTPHead struct {
	Status        int
	ContentLength int  // -1 when absent: the body runs to the end of the connection
	Close         bool // the server will close the connection
	Len           int  // bytes of the head, blank line included
}

// ParseHTTPHead parses a response head at the start of b. It returns
// io.ErrUnexpectedEOF while the head is incomplete.
func ParseHTTPHead(b []byte) (HTTPHead, error) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		if len(b) >= MaxHTTPHead {
			return HTTPHead{}, fmt.Errorf("%w: head longer than %d bytes", ErrHTTP, MaxHTTPHead)
		}
		return HTTPHead{}, io.ErrUnexpectedEOF
	}
	if end+4 > MaxHTTPHead {
		return HTTPHead{}, fmt.Errorf("%w: head longer than %d bytes", ErrHTTP, MaxHTTPHead)
	}
	h := HTTPHead{ContentLength: -1, Len: end + 4}
	lines := b[:end]
	line, rest, _ := bytes.Cut(lines, []byte("\r\n"))
	proto, status, ok := bytes.Cut(line, []byte(" "))
	if !ok || !bytes.HasPrefix(proto, []byte("HTTP/1.")) || len(status) < 3 {
		return HTTPHead{}, fmt.Errorf("%w: status line %q", ErrHTTP, truncate(line))
	}
	code, err := strconv.Atoi(string(status[:3]))
	if err != nil || code < 100 || code > 999 {
		return HTTPHead{}, fmt.Errorf("%w: status line %q", ErrHTTP, truncate(line))
	}
	h.Status = code
	h.Close = bytes.Equal(proto, []byte("HTTP/1.0"))
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return HTTPHead{}, fmt.Errorf("%w: header line %q", ErrHTTP, truncate(line))
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.Atoi(string(value))
			if err != nil || n < 0 || n > MaxHTTPBody {
				return HTTPHead{}, fmt.Errorf("%w: Content-Length %q", ErrHTTP, truncate(value))
			}
			h.ContentLength = n
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				h.Close = true
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			if !bytes.EqualFold(value, []byte("identity")) {
				return HTTPHead{}, fmt.Errorf("%w: Transfer-Encoding %q not supported", ErrHTTP, truncate(value))
			}
		}
	}
	return h, nil
}

func truncate(b []byte) []byte { return b[:min(len(b), 64)] }

// ReadHTTPResponse reads one response from r into buf (reused; grown as
// needed) and returns its head and body, which alias the returned buffer.
// A body without Content-Length runs to EOF.
func ReadHTTPResponse(r io.Reader, buf []byte) (HTTPHead, []byte, []byte, error) {
	buf = buf[:0]
	if cap(buf) < 4096 {
		buf = make([]byte, 0, 4096)
	}
	var h HTTPHead
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf))
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if h.Len == 0 {
			var perr error
			h, perr = ParseHTTPHead(buf)
			switch {
			case perr == nil:
			case errors.Is(perr, io.ErrUnexpectedEOF):
				if err != nil {
					return h, nil, buf, fmt.Errorf("%w: connection ended in the head: %v", ErrHTTP, err)
				}
				continue
			default:
				return h, nil, buf, perr
			}
		}
		body := buf[h.Len:]
		if h.ContentLength >= 0 && len(body) >= h.ContentLength {
			return h, body[:h.ContentLength], buf, nil
		}
		if len(body) > MaxHTTPBody {
			return h, nil, buf, fmt.Errorf("%w: body longer than %d bytes", ErrHTTP, MaxHTTPBody)
		}
		if err == io.EOF && h.ContentLength < 0 {
			h.Close = true
			return h, body, buf, nil
		}
		if err != nil {
			return h, nil, buf, fmt.Errorf("%w: body cut short: %v", ErrHTTP, err)
		}
	}
}

// ParseAnnounceBody reads a bencoded announce reply: a failure reason
// makes it Refused; otherwise Peers counts the compact peer string's
// peerLen-byte entries, or the entries of a peer list. Keys may come in
// any order, as some trackers write them.
func ParseAnnounceBody(b []byte, peerLen int) (Outcome, error) {
	var out Outcome
	_, err := bencode.Dict(b, func(key, value []byte) error {
		switch string(key) {
		case "failure reason":
			out.Refused = true
		case "peers":
			n, err := countPeers(value, peerLen)
			out.Peers = n
			return err
		}
		return nil
	})
	if err != nil {
		return Outcome{}, fmt.Errorf("%w: announce reply: %w", ErrHTTP, err)
	}
	return out, nil
}

// countPeers counts a compact peer string's peerLen-byte entries (none
// when peerLen is 0) or a peer list's entries.
func countPeers(v []byte, peerLen int) (int, error) {
	if v[0] == 'l' {
		n := 0
		_, err := bencode.List(v, func([]byte) error { n++; return nil })
		return n, err
	}
	s, _, err := bencode.String(v)
	if err != nil || peerLen <= 0 {
		return 0, nil // an integer or a dictionary: no peers
	}
	if len(s)%peerLen != 0 {
		return 0, fmt.Errorf("%d bytes of peers is not a multiple of %d", len(s), peerLen)
	}
	return len(s) / peerLen, nil
}
