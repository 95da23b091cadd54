package loadgen

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// BEP 15 actions.
const (
	ActionConnect  uint32 = 0
	ActionAnnounce uint32 = 1
	ActionScrape   uint32 = 2
	ActionError    uint32 = 3
)

// Reply is a parsed BEP 15 response. Byte fields alias the input.
type Reply struct {
	Action        uint32
	TransactionID uint32

	ConnectionID uint64 // connect
	Lifetime     uint16 // connect: proposal 160's lifetime in seconds; 0 when absent

	Interval, Leechers, Seeders uint32 // announce
	Peers                       []byte // announce: n × peer length bytes

	Entries []byte // scrape: n × 12 bytes (seeders, completed, leechers)

	Message []byte // error
}

// NumPeers is the number of peers in an announce reply of peerLen-byte
// entries (6: IPv4 and port; 18: IPv6; 32: I2P hashes).
func (r *Reply) NumPeers(peerLen int) int {
	if peerLen <= 0 {
		return 0
	}
	return len(r.Peers) / peerLen
}

// ErrReply wraps every reply parse error.
var ErrReply = errors.New("bad BEP 15 reply")

// ParseReply parses a BEP 15 response. peerLen, when positive, is the size
// of one peer in an announce reply, and the peer list must be a whole
// number of them.
func ParseReply(b []byte, peerLen int, r *Reply) error {
	if len(b) < 8 {
		return fmt.Errorf("%w: %d bytes, need 8", ErrReply, len(b))
	}
	*r = Reply{Action: binary.BigEndian.Uint32(b), TransactionID: binary.BigEndian.Uint32(b[4:])}
	switch r.Action {
	case ActionConnect:
		if len(b) < 16 {
			return fmt.Errorf("%w: connect reply of %d bytes, need 16", ErrReply, len(b))
		}
		r.ConnectionID = binary.BigEndian.Uint64(b[8:])
		if len(b) >= 18 {
			r.Lifetime = binary.BigEndian.Uint16(b[16:])
		}
	case ActionAnnounce:
		if len(b) < 20 {
			return fmt.Errorf("%w: announce reply of %d bytes, need 20", ErrReply, len(b))
		}
		r.Interval = binary.BigEndian.Uint32(b[8:])
		r.Leechers = binary.BigEndian.Uint32(b[12:])
		r.Seeders = binary.BigEndian.Uint32(b[16:])
		r.Peers = b[20:]
		if peerLen > 0 && len(r.Peers)%peerLen != 0 {
			return fmt.Errorf("%w: %d bytes of peers is not a multiple of %d", ErrReply, len(r.Peers), peerLen)
		}
	case ActionScrape:
		r.Entries = b[8:]
		if len(r.Entries)%12 != 0 {
			return fmt.Errorf("%w: %d bytes of scrape entries is not a multiple of 12", ErrReply, len(r.Entries))
		}
	case ActionError:
		r.Message = b[8:]
	default:
		return fmt.Errorf("%w: unknown action %d", ErrReply, r.Action)
	}
	return nil
}
