package httptracker

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
)

// Request is what the tracker reads of an HTTP request: the method, the
// path and raw query, and the headers that say who sent it. The Server
// parses it straight from the socket's bytes; RequestFrom takes it from
// a net/http request.
type Request struct {
	Method   string
	Path     string // as sent; the fast parser leaves escaped paths to net/http
	RawQuery string
	// The identity headers an I2P server tunnel adds (the first value
	// of each, as http.Header.Get gives it).
	DestB64, DestHash, DestB32 string
	// Forwarded: an X-Forwarded-For or X-Forwarded-Server header with a
	// value (any of its values), the mark of an inproxy.
	Forwarded bool
	// Close: the client asked to close the connection after the reply
	// (Connection: close, or HTTP/1.0 without keep-alive).
	Close bool

	http10 bool
}

// RequestFrom takes the tracker's view of a net/http request.
func RequestFrom(r *http.Request) Request {
	return Request{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		DestB64: r.Header.Get("X-I2P-DestB64"), DestHash: r.Header.Get("X-I2P-DestHash"), DestB32: r.Header.Get("X-I2P-DestB32"),
		Forwarded: anyValue(r.Header, "X-Forwarded-For") || anyValue(r.Header, "X-Forwarded-Server"),
		Close:     r.Close, http10: r.ProtoMajor == 1 && r.ProtoMinor == 0,
	}
}

func anyValue(h http.Header, name string) bool {
	for _, v := range h.Values(name) {
		if v != "" {
			return true
		}
	}
	return false
}

// maxHead bounds the request head the fast parser reads; a longer head
// goes to net/http, which answers it (431 past its own limit).
const maxHead = 8 << 10

// The fast parser's verdicts besides success.
var (
	// errIncomplete: the head has not ended yet; read more.
	errIncomplete = errors.New("request head incomplete")
	// errNotPlain: a request the fast parser leaves to net/http — another
	// method or version, a body, an escaped path, a folded or malformed
	// header, a head longer than maxHead. net/http answers it, or refuses
	// it with the right status.
	errNotPlain = errors.New("request is not a plain GET or HEAD")
)

// parseRequest reads the head of one HTTP/1.x request from b, in place
// but for one copy of the head into a string that the Request's fields
// share. It returns the head's length including its blank line. Only the
// requests a tracker sees every second are parsed here — GET or HEAD with
// an origin-form target, HTTP/1.0 or 1.1, CRLF lines, no body; for
// anything else it returns errNotPlain and the caller hands the bytes to
// net/http.
func parseRequest(b []byte, dst *Request) (int, error) {
	end := bytes.Index(b, crlf2)
	if end < 0 {
		if len(b) >= maxHead || !crlfOnly(b) {
			// Too long, or a line ends in a bare LF (net/http may
			// have the whole head already: "\n\r\n" ends it too).
			return 0, errNotPlain
		}
		return 0, errIncomplete
	}
	if end+4 > maxHead {
		return 0, errNotPlain
	}
	head := string(b[:end+2]) // every line, the last included, ends in CRLF
	line, rest, _ := strings.Cut(head, "\r\n")
	method, line, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(line, " ")
	if !ok1 || !ok2 || (method != http.MethodGet && method != http.MethodHead) {
		return 0, errNotPlain
	}
	var http11 bool
	switch proto {
	case "HTTP/1.1":
		http11 = true
	case "HTTP/1.0":
	default:
		return 0, errNotPlain
	}
	path, query, _ := strings.Cut(target, "?")
	if path == "" || path[0] != '/' || strings.ContainsAny(path, "%#") || !visible(target) {
		return 0, errNotPlain
	}
	r := Request{Method: method, Path: path, RawQuery: query}
	var hosts int
	var keepAlive, seenB64, seenHash, seenB32 bool
	for rest != "" {
		var hl string
		hl, rest, _ = strings.Cut(rest, "\r\n")
		name, value, ok := strings.Cut(hl, ":")
		if !ok || !token(name) || !fieldValue(value) {
			return 0, errNotPlain // no colon, a folded line, a bad name or value
		}
		value = strings.Trim(value, " \t")
		switch {
		case strings.EqualFold(name, "Host"):
			if !hostValue(value) {
				return 0, errNotPlain // net/http's server answers 400
			}
			hosts++
		case strings.EqualFold(name, "Connection"):
			for tok := range strings.SplitSeq(value, ",") {
				tok = strings.Trim(tok, " \t")
				r.Close = r.Close || strings.EqualFold(tok, "close")
				keepAlive = keepAlive || strings.EqualFold(tok, "keep-alive")
			}
		case strings.EqualFold(name, "Content-Length"):
			if value != "0" {
				return 0, errNotPlain
			}
		case strings.EqualFold(name, "Transfer-Encoding"), strings.EqualFold(name, "Expect"):
			return 0, errNotPlain
		case strings.EqualFold(name, "X-Forwarded-For"), strings.EqualFold(name, "X-Forwarded-Server"):
			r.Forwarded = r.Forwarded || value != ""
		case strings.EqualFold(name, "X-I2P-DestB64"):
			first(&r.DestB64, &seenB64, value)
		case strings.EqualFold(name, "X-I2P-DestHash"):
			first(&r.DestHash, &seenHash, value)
		case strings.EqualFold(name, "X-I2P-DestB32"):
			first(&r.DestB32, &seenB32, value)
		}
	}
	if hosts > 1 || (http11 && hosts == 0) {
		return 0, errNotPlain // net/http answers 400
	}
	if !http11 {
		r.Close, r.http10 = !keepAlive, true
	}
	*dst = r
	return end + 4, nil
}

var crlf2 = []byte("\r\n\r\n")

// crlfOnly reports whether every LF in b follows a CR and every CR is
// followed by an LF (or ends b, its LF still to come).
func crlfOnly(b []byte) bool {
	for i := bytes.IndexAny(b, "\r\n"); i >= 0; {
		switch {
		case b[i] == '\n':
			return false // an LF with no CR before it
		case i+1 == len(b):
			return true
		case b[i+1] != '\n':
			return false // a CR with no LF after it
		}
		i += 2
		j := bytes.IndexAny(b[i:], "\r\n")
		if j < 0 {
			break
		}
		i += j
	}
	return true
}

// first keeps the first value a header had, empty or not, as
// http.Header.Get does.
func first(dst *string, seen *bool, v string) {
	if !*seen {
		*dst, *seen = v, true
	}
}

// visible reports whether s has only printable ASCII: a request target
// may not carry spaces, controls or raw 8-bit bytes.
func visible(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// hostValue reports whether s has only the bytes net/http's server
// accepts in a Host header.
func hostValue(s string) bool { return alnumOr(s, "!$%&'()*+,-.:;=[]_~") }

// token reports whether s is a non-empty HTTP token (a header name).
func token(s string) bool { return s != "" && alnumOr(s, "!#$%&'*+-.^_`|~") }

// alnumOr reports whether every byte of s is a letter, a digit or one of
// extra.
func alnumOr(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte(extra, c) >= 0:
		default:
			return false
		}
	}
	return true
}

// fieldValue reports whether s may be a header value: no control bytes
// but tab (so no stray CR or LF), no DEL.
func fieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
