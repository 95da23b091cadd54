package httptracker

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-i2p/go-opentracker/tracker"
)

// announceQuery holds the announce parameters the tracker uses; the rest
// (port, key, uploaded, downloaded, corrupt, ...) are tolerated and ignored.
type announceQuery struct {
	infoHash    [20]byte
	peerID      [20]byte
	hasInfoHash bool
	hasPeerID   bool
	ip          string // raw value: a Base64 Destination, maybe with ".i2p"
	left        uint64
	hasLeft     bool
	event       tracker.Event
	numWant     int // -1: the default
	compact     bool
	bids        bidParams // read only when bids are on
}

// scrapeQuery holds the info hashes of a scrape.
type scrapeQuery struct {
	hashes [tracker.MaxScrapeHashes][20]byte
	n      int
}

// forEachParam calls fn for every key=value pair of a raw query string,
// decoding neither; it stops at the first error fn returns.
func forEachParam(raw string, fn func(key, value string) error) error {
	for raw != "" {
		var pair string
		if i := strings.IndexByte(raw, '&'); i >= 0 {
			pair, raw = raw[:i], raw[i+1:]
		} else {
			pair, raw = raw, ""
		}
		if pair == "" {
			continue
		}
		key, value := pair, ""
		if i := strings.IndexByte(pair, '='); i >= 0 {
			key, value = pair[:i], pair[i+1:]
		}
		if err := fn(key, value); err != nil {
			return err
		}
	}
	return nil
}

// unescapeInto percent-decodes s (and '+' as space) into dst, returning
// the number of bytes written; it fails if the result does not fit.
func unescapeInto(dst []byte, s string) (int, error) {
	n := 0
	for i := 0; i < len(s); i++ {
		if n >= len(dst) {
			return n + 1, nil // too long: the caller checks the length
		}
		switch c := s[i]; c {
		case '%':
			if i+2 >= len(s) {
				return 0, errBadEscape
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return 0, errBadEscape
			}
			dst[n] = hi<<4 | lo
			i += 2
		case '+':
			dst[n] = ' '
		default:
			dst[n] = c
		}
		n++
	}
	return n, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decode20 percent-decodes a 20-byte binary parameter.
func decode20(dst *[20]byte, s string, bad error) error {
	n, err := unescapeInto(dst[:], s)
	if err != nil {
		return fmt.Errorf("%w: %w", bad, err)
	}
	if n != 20 {
		return bad
	}
	return nil
}

// parseAnnounceQuery fills q from a raw query string.
func parseAnnounceQuery(raw string, q *announceQuery) error {
	*q = announceQuery{numWant: -1}
	return forEachParam(raw, func(key, value string) error {
		switch key {
		case "info_hash":
			q.hasInfoHash = true
			return decode20(&q.infoHash, value, errBadInfoHash)
		case "peer_id":
			q.hasPeerID = true
			return decode20(&q.peerID, value, errBadPeerID)
		case "ip":
			var buf [maxIPLen]byte
			n, err := unescapeInto(buf[:], value)
			if err != nil {
				return fmt.Errorf("ip: %w", err)
			}
			if n > len(buf) {
				return errIPTooLong // refused whole: a prefix may parse
			}
			q.ip = string(buf[:n])
		case "left":
			v, err := strconv.ParseUint(value, 10, 64)
			if err != nil {
				return fmt.Errorf("left: %w", errBadNumber)
			}
			q.left, q.hasLeft = v, true
		case "numwant":
			v, err := strconv.Atoi(value)
			if err != nil {
				return fmt.Errorf("numwant: %w", errBadNumber)
			}
			q.numWant = v
		case "compact":
			q.compact = value == "1"
		case "bid", "bids", "numbid":
			q.bids.set(key, value)
		case "event":
			ev, err := tracker.ParseEvent(value)
			if err != nil {
				return err
			}
			q.event = ev
		}
		return nil
	})
}

// parseScrapeQuery collects every info_hash of a raw query string.
func parseScrapeQuery(raw string, q *scrapeQuery) error {
	q.n = 0
	return forEachParam(raw, func(key, value string) error {
		if key != "info_hash" {
			return nil
		}
		if q.n == tracker.MaxScrapeHashes {
			return errTooMany
		}
		if err := decode20(&q.hashes[q.n], value, errBadInfoHash); err != nil {
			return err
		}
		q.n++
		return nil
	})
}
