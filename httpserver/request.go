package httpserver

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"net/http"
	"strings"
)

// Request is the head of a plain GET or HEAD request as the Server
// parsed it from the socket's bytes. It is valid only while the
// Responder's call lasts: its strings share one copy of the head.
type Request struct {
	Method   string
	Path     string // as sent; escaped paths are left to net/http
	RawQuery string
	// Close: the client asked to close the connection after the reply
	// (Connection: close, or HTTP/1.0 without keep-alive).
	Close bool

	http10 bool
	header string          // the header lines, each ending in CRLF, checked by ParseRequest
	ctx    context.Context // the connection's (Server.ConnContext), or nil
}

// Context is the context of the request's connection: what
// Server.ConnContext made of it, or context.Background.
func (r *Request) Context() context.Context {
	if r.ctx == nil {
		return context.Background()
	}
	return r.ctx
}

// Headers yields every header line's name and value (spaces and tabs
// trimmed) in the order sent; a name may come more than once. Host is
// among them.
func (r *Request) Headers() iter.Seq2[string, string] {
	return func(yield func(name, value string) bool) {
		for rest := r.header; rest != ""; {
			var line string
			line, rest, _ = strings.Cut(rest, "\r\n")
			name, value, _ := strings.Cut(line, ":")
			if !yield(name, strings.Trim(value, " \t")) {
				return
			}
		}
	}
}

// maxHead bounds the request head the fast parser reads; a longer head
// goes to net/http, which answers it (431 past its own limit).
const maxHead = 8 << 10

// The fast parser's verdicts besides success.
var (
	// ErrIncomplete: the head has not ended yet; read more.
	ErrIncomplete = errors.New("request head incomplete")
	// ErrNotPlain: a request the fast parser leaves to net/http — another
	// method or version, a body, an escaped path, a folded or malformed
	// header, a head longer than maxHead. net/http answers it, or refuses
	// it with the right status.
	ErrNotPlain = errors.New("request is not a plain GET or HEAD")
)

// ParseRequest reads the head of one HTTP/1.x request from b, in place
// but for one copy of the head into a string that the Request's fields
// share. It returns the head's length including its blank line. Only
// plain requests are parsed — GET or HEAD with an origin-form target,
// HTTP/1.0 or 1.1, CRLF lines, no body; for anything else it returns
// ErrNotPlain (the Server hands the bytes to net/http), and for a head
// not yet ended ErrIncomplete.
func ParseRequest(b []byte, dst *Request) (int, error) {
	end := bytes.Index(b, crlf2)
	if end < 0 {
		if len(b) >= maxHead || !crlfOnly(b) {
			// Too long, or a line ends in a bare LF (net/http may
			// have the whole head already: "\n\r\n" ends it too).
			return 0, ErrNotPlain
		}
		return 0, ErrIncomplete
	}
	if end+4 > maxHead {
		return 0, ErrNotPlain
	}
	head := string(b[:end+2]) // every line, the last included, ends in CRLF
	line, rest, _ := strings.Cut(head, "\r\n")
	r, http11, ok := requestLine(line)
	if !ok {
		return 0, ErrNotPlain
	}
	r.header = rest
	var hs headerSummary
	for rest != "" {
		var hl string
		hl, rest, _ = strings.Cut(rest, "\r\n")
		if !hs.add(hl) {
			return 0, ErrNotPlain
		}
	}
	if hs.hosts > 1 || (http11 && hs.hosts == 0) {
		return 0, ErrNotPlain // net/http answers 400
	}
	r.Close = hs.close
	if !http11 {
		r.Close, r.http10 = !hs.keepAlive, true
	}
	r.ctx = dst.ctx // the connection's, kept
	*dst = r
	return end + 4, nil
}

// requestLine reads "GET /path?query HTTP/1.1"; ok is false for any
// other method or version, or a target that is not a plain path.
func requestLine(line string) (r Request, http11, ok bool) {
	method, line, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(line, " ")
	if !ok1 || !ok2 || (method != http.MethodGet && method != http.MethodHead) {
		return r, false, false
	}
	switch proto {
	case "HTTP/1.1":
		http11 = true
	case "HTTP/1.0":
	default:
		return r, false, false
	}
	path, query, _ := strings.Cut(target, "?")
	if path == "" || path[0] != '/' || strings.ContainsAny(path, "%#") || !visible(target) {
		return r, false, false
	}
	return Request{Method: method, Path: path, RawQuery: query}, http11, true
}

// headerSummary is what the server itself reads of the header lines.
type headerSummary struct {
	hosts, lengths   int
	close, keepAlive bool // Connection tokens
}

// add reads one header line; it is false for a line that sends the
// request to net/http: no colon, a folded line, a bad name or value, a
// bad Host, a body, a second Content-Length.
func (hs *headerSummary) add(line string) bool {
	name, value, ok := strings.Cut(line, ":")
	if !ok || !token(name) || !fieldValue(value) {
		return false
	}
	value = strings.Trim(value, " \t")
	switch {
	case strings.EqualFold(name, "Host"):
		hs.hosts++
		return hostValue(value) // else net/http's server answers 400
	case strings.EqualFold(name, "Connection"):
		for tok := range strings.SplitSeq(value, ",") {
			tok = strings.Trim(tok, " \t")
			hs.close = hs.close || strings.EqualFold(tok, "close")
			hs.keepAlive = hs.keepAlive || strings.EqualFold(tok, "keep-alive")
		}
	case strings.EqualFold(name, "Content-Length"):
		// net/http folds repeated equal lengths into one header; a
		// second one is rare enough to leave to it.
		hs.lengths++
		return value == "0" && hs.lengths == 1
	case strings.EqualFold(name, "Transfer-Encoding"), strings.EqualFold(name, "Expect"):
		return false
	}
	return true
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
