package udptracker

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/go-i2p/go-opentracker/tracker"
)

// ProtocolID is the magic constant that opens every BEP 15 connect request.
const ProtocolID uint64 = 0x41727101980

// Actions of BEP 15.
const (
	ActionConnect  uint32 = 0
	ActionAnnounce uint32 = 1
	ActionScrape   uint32 = 2
	ActionError    uint32 = 3
)

// Request sizes and limits.
const (
	headerLen          = 16 // connection id, action, transaction id
	ConnectRequestLen  = 16
	AnnounceRequestLen = 98
)

// Reasons a request is malformed; wrapped by every parse error.
var (
	ErrShort         = errors.New("bep15: request too short")
	ErrBadProtocolID = errors.New("bep15: bad protocol id")
	ErrBadEvent      = errors.New("bep15: bad event")
	ErrTooManyHashes = errors.New("bep15: too many scrape hashes")
	ErrNoHashes      = errors.New("bep15: scrape without info hashes")
)

// Header is the part every request shares. For a connect request the
// first field is the protocol id instead of a connection id.
type Header struct {
	ConnectionID  uint64
	Action        uint32
	TransactionID uint32
}

// ParseHeader reads the 16-byte header of any request.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < headerLen {
		return Header{}, fmt.Errorf("%w: %d bytes, need %d", ErrShort, len(b), headerLen)
	}
	return Header{
		ConnectionID:  binary.BigEndian.Uint64(b),
		Action:        binary.BigEndian.Uint32(b[8:]),
		TransactionID: binary.BigEndian.Uint32(b[12:]),
	}, nil
}

// CheckConnect validates a connect request's header.
func CheckConnect(h Header) error {
	if h.ConnectionID != ProtocolID {
		return fmt.Errorf("%w: 0x%x", ErrBadProtocolID, h.ConnectionID)
	}
	return nil
}

// Announce is a parsed announce request. The IP and key fields are read
// but a tracker on I2P ignores them; Port is informational only.
type Announce struct {
	Header
	InfoHash   [20]byte
	PeerID     [20]byte
	Downloaded uint64
	Left       uint64
	Uploaded   uint64
	Event      tracker.Event
	IP         uint32
	Key        uint32
	NumWant    int32 // negative means the tracker's default
	Port       uint16
	// URLData is the concatenated BEP 41 URLData options (path and query
	// of the announce URL), at most MaxURLData bytes; it aliases the
	// request bytes, or the Announce when several options were joined.
	URLData []byte
	// BadOptions reports BEP 41 options that were cut short: one that
	// overruns the request, or URL data past MaxURLData. Options are read
	// up to it; the announce itself stands.
	BadOptions bool
	// Bid is the bid option (docs/bids.md), if any.
	Bid BidOption
	// urlBuf holds URLData when more than one option had to be joined.
	urlBuf [MaxURLData]byte
}

// MaxURLData bounds the URL data the tracker keeps from one announce:
// a path and query of up to 255 bytes, what one URLData option carries.
const MaxURLData = 255

// ParseAnnounce parses an announce request (header included) into a.
// Malformed BEP 41 options never fail it: see BadOptions.
func ParseAnnounce(b []byte, a *Announce) error {
	if len(b) < AnnounceRequestLen {
		return fmt.Errorf("%w: announce of %d bytes, need %d", ErrShort, len(b), AnnounceRequestLen)
	}
	h, _ := ParseHeader(b)
	a.Header = h
	copy(a.InfoHash[:], b[16:36])
	copy(a.PeerID[:], b[36:56])
	a.Downloaded = binary.BigEndian.Uint64(b[56:])
	a.Left = binary.BigEndian.Uint64(b[64:])
	a.Uploaded = binary.BigEndian.Uint64(b[72:])
	a.Event = tracker.Event(binary.BigEndian.Uint32(b[80:]))
	a.IP = binary.BigEndian.Uint32(b[84:])
	a.Key = binary.BigEndian.Uint32(b[88:])
	a.NumWant = int32(binary.BigEndian.Uint32(b[92:]))
	a.Port = binary.BigEndian.Uint16(b[96:])
	if !a.Event.Valid() {
		return fmt.Errorf("%w: %d", ErrBadEvent, a.Event)
	}
	url, ok := parseOptions(b[AnnounceRequestLen:], a.urlBuf[:0])
	bid, bidOK := findBidOption(b[AnnounceRequestLen:])
	a.URLData, a.BadOptions, a.Bid = url, !ok || !bidOK, bid
	return nil
}

// BEP 41 option types.
const (
	optEnd     = 0x0
	optNOP     = 0x1
	optURLData = 0x2
)

// parseOptions walks BEP 41 options. URLData options are concatenated into
// buf (a single one is returned without copying); NOPs and unknown options
// with a length byte are skipped; bytes after EndOfOptions are ignored.
// Reading stops at the first option that overruns b (its length byte is
// missing or larger than what is left) or that would take the URL data
// past cap(buf): ok is false then, and the URL data of the complete options
// before it is returned.
func parseOptions(b []byte, buf []byte) (url []byte, ok bool) {
	var single []byte
	count := 0
	for len(b) > 0 {
		typ := b[0]
		switch typ {
		case optEnd:
			return joinURL(single, buf, count), true
		case optNOP:
			b = b[1:]
			continue
		}
		if len(b) < 2 || len(b) < 2+int(b[1]) {
			return joinURL(single, buf, count), false
		}
		n := int(b[1])
		if typ == optURLData {
			data := b[2 : 2+n]
			if count == 0 {
				single = data
			} else {
				if count == 1 {
					buf = append(buf[:0], single...)
				}
				if len(buf)+len(data) > cap(buf) {
					return buf, false
				}
				buf = append(buf, data...)
			}
			count++
		}
		b = b[2+n:]
	}
	return joinURL(single, buf, count), true
}

func joinURL(single, buf []byte, count int) []byte {
	switch count {
	case 0:
		return nil
	case 1:
		return single
	}
	return buf
}

// Scrape is a parsed scrape request: Hashes holds n × 20 bytes and aliases
// the request.
type Scrape struct {
	Header
	Hashes []byte
}

// Len is the number of info hashes asked about.
func (s *Scrape) Len() int { return len(s.Hashes) / 20 }

// Hash returns the i-th info hash.
func (s *Scrape) Hash(i int) (h [20]byte) {
	copy(h[:], s.Hashes[i*20:])
	return h
}

// ParseScrape parses a scrape request. Trailing bytes that do not make a
// whole hash are ignored; more than tracker.MaxScrapeHashes is an error.
func ParseScrape(b []byte, s *Scrape) error {
	h, err := ParseHeader(b)
	if err != nil {
		return err
	}
	n := (len(b) - headerLen) / 20
	if n == 0 {
		return ErrNoHashes
	}
	if n > tracker.MaxScrapeHashes {
		return fmt.Errorf("%w: %d, max %d", ErrTooManyHashes, n, tracker.MaxScrapeHashes)
	}
	s.Header = h
	s.Hashes = b[headerLen : headerLen+n*20]
	return nil
}

// AppendConnectRequest appends a connect request (for clients and tests).
func AppendConnectRequest(dst []byte, tx uint32) []byte {
	dst = binary.BigEndian.AppendUint64(dst, ProtocolID)
	dst = binary.BigEndian.AppendUint32(dst, ActionConnect)
	return binary.BigEndian.AppendUint32(dst, tx)
}

// AppendAnnounceRequest appends an announce request with optional BEP 41
// URLData (for clients and tests).
func AppendAnnounceRequest(dst []byte, a *Announce) []byte {
	dst = binary.BigEndian.AppendUint64(dst, a.ConnectionID)
	dst = binary.BigEndian.AppendUint32(dst, ActionAnnounce)
	dst = binary.BigEndian.AppendUint32(dst, a.TransactionID)
	dst = append(dst, a.InfoHash[:]...)
	dst = append(dst, a.PeerID[:]...)
	dst = binary.BigEndian.AppendUint64(dst, a.Downloaded)
	dst = binary.BigEndian.AppendUint64(dst, a.Left)
	dst = binary.BigEndian.AppendUint64(dst, a.Uploaded)
	dst = binary.BigEndian.AppendUint32(dst, uint32(a.Event))
	dst = binary.BigEndian.AppendUint32(dst, a.IP)
	dst = binary.BigEndian.AppendUint32(dst, a.Key)
	dst = binary.BigEndian.AppendUint32(dst, uint32(a.NumWant))
	dst = binary.BigEndian.AppendUint16(dst, a.Port)
	for url := a.URLData; len(url) > 0; {
		n := min(len(url), 255)
		dst = append(dst, optURLData, byte(n))
		dst = append(dst, url[:n]...)
		url = url[n:]
	}
	return dst
}

// AppendScrapeRequest appends a scrape request (for clients and tests).
func AppendScrapeRequest(dst []byte, cid uint64, tx uint32, hashes ...[20]byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, cid)
	dst = binary.BigEndian.AppendUint32(dst, ActionScrape)
	dst = binary.BigEndian.AppendUint32(dst, tx)
	for _, h := range hashes {
		dst = append(dst, h[:]...)
	}
	return dst
}

// AppendConnectResponse appends the 18-byte connect response with the
// connection id's lifetime in seconds (proposal 160's addition).
func AppendConnectResponse(dst []byte, tx uint32, cid uint64, lifetime uint16) []byte {
	dst = binary.BigEndian.AppendUint32(dst, ActionConnect)
	dst = binary.BigEndian.AppendUint32(dst, tx)
	dst = binary.BigEndian.AppendUint64(dst, cid)
	return binary.BigEndian.AppendUint16(dst, lifetime)
}

// AppendAnnounceResponseHeader appends the 20-byte announce response
// header; the caller appends the 32-byte peer hashes after it.
func AppendAnnounceResponseHeader(dst []byte, tx, interval, leechers, seeders uint32) []byte {
	dst = binary.BigEndian.AppendUint32(dst, ActionAnnounce)
	dst = binary.BigEndian.AppendUint32(dst, tx)
	dst = binary.BigEndian.AppendUint32(dst, interval)
	dst = binary.BigEndian.AppendUint32(dst, leechers)
	return binary.BigEndian.AppendUint32(dst, seeders)
}

// AppendScrapeResponseHeader appends the 8-byte scrape response header;
// the caller appends one AppendScrapeEntry per hash asked about.
func AppendScrapeResponseHeader(dst []byte, tx uint32) []byte {
	dst = binary.BigEndian.AppendUint32(dst, ActionScrape)
	return binary.BigEndian.AppendUint32(dst, tx)
}

// AppendScrapeEntry appends seeders, completed, leechers for one hash.
func AppendScrapeEntry(dst []byte, seeders, completed, leechers uint32) []byte {
	dst = binary.BigEndian.AppendUint32(dst, seeders)
	dst = binary.BigEndian.AppendUint32(dst, completed)
	return binary.BigEndian.AppendUint32(dst, leechers)
}

// AppendErrorResponse appends an error response with a UTF-8 message.
func AppendErrorResponse(dst []byte, tx uint32, msg string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, ActionError)
	dst = binary.BigEndian.AppendUint32(dst, tx)
	return append(dst, msg...)
}
