package udptracker

import (
	"encoding/binary"

	"github.com/go-i2p/go-opentracker/tracker"
)

// OptBid is the BEP 41 option type of a bid (docs/bids.md): length at
// least 10, then u8 flags, u8 numbid, u64 bid; bytes past the tenth
// are for later versions and skipped.
const OptBid = 0x42

const bidOptionLen = 10

// Flags of the bid option; the other bits are reserved (sent as 0,
// ignored).
const (
	BidFlagHasBid = 1 << 0 // the bid field is a bid
	BidFlagTop    = 1 << 1 // order the first numbid peers by highest bid
)

// BidOption is a parsed bid option.
type BidOption struct {
	Present bool
	Flags   uint8
	NumBid  uint8 // 0: the whole reply
	Bid     uint64
}

// findBidOption walks BEP 41 options for the first bid option. ok is
// false when one is malformed (shorter than bidOptionLen, a bid above
// tracker.MaxBid, or overrunning b): it is ignored then.
func findBidOption(b []byte) (o BidOption, ok bool) {
	for len(b) > 0 {
		switch b[0] {
		case optEnd:
			return o, true
		case optNOP:
			b = b[1:]
			continue
		}
		if len(b) < 2 || len(b) < 2+int(b[1]) {
			return o, false
		}
		data := b[2 : 2+int(b[1])]
		if b[0] == OptBid && !o.Present {
			if len(data) < bidOptionLen || binary.BigEndian.Uint64(data[2:]) > tracker.MaxBid {
				return BidOption{}, false
			}
			o = BidOption{Present: true, Flags: data[0], NumBid: data[1], Bid: binary.BigEndian.Uint64(data[2:])}
		}
		b = b[2+len(data):]
	}
	return o, true
}

// announce fills ba's request fields from the option (the reply's are
// the tracker's to write).
func (o *BidOption) announce(ba *tracker.BidAnnounce) {
	ba.HasBid, ba.Bid, ba.Top, ba.NumBid = o.Flags&BidFlagHasBid != 0, o.Bid, o.Flags&BidFlagTop != 0, int(o.NumBid)
}

// AppendBidOption appends a bid option (for clients and tests).
func AppendBidOption(dst []byte, o BidOption) []byte {
	dst = append(dst, OptBid, bidOptionLen, o.Flags, o.NumBid)
	return binary.BigEndian.AppendUint64(dst, o.Bid)
}

// The reply's extension block follows the peers after an all-zero
// 32-byte hash, which no peer has (the tracker refuses it): records of
// u8 type, u16 length, then that many bytes. ExtBids holds, for each
// peer before the marker in order, u64 bid and u32 age in seconds (age
// tracker.NoBidAge: that peer has no bid, and its bid field is 0).
const (
	ExtBids         = 1
	extBidEntryLen  = 12
	bidBlockLen     = 32 + 3 + MaxPeers*extBidEntryLen
	extRecordHeader = 3
)

// appendBidBlock appends the marker and the bids of the n peers.
func appendBidBlock(dst []byte, ba *tracker.BidAnnounce, n int) []byte {
	dst = append(dst, make([]byte, 32)...)
	dst = append(dst, ExtBids)
	dst = binary.BigEndian.AppendUint16(dst, uint16(n*extBidEntryLen))
	for i := range n {
		dst = binary.BigEndian.AppendUint64(dst, ba.Peers[i].Amount)
		dst = binary.BigEndian.AppendUint32(dst, ba.Peers[i].Age)
	}
	return dst
}

// SplitAnnounceReply splits the peer part of an announce reply (after
// its 20-byte header) at the all-zero marker: the peer hashes before it
// and the extension records after (nil without a marker). Trailing
// bytes short of a whole hash are ignored, as a client must.
func SplitAnnounceReply(peers []byte) (hashes, ext []byte) {
	var zero [32]byte
	for i := 0; i+32 <= len(peers); i += 32 {
		if [32]byte(peers[i:i+32]) == zero {
			return peers[:i], peers[i+32:]
		}
	}
	return peers[:len(peers)/32*32], nil
}

// ParseBidBlock reads the bids record from extension records: one
// (bid, age) pair per peer. ok is false when the records are malformed.
func ParseBidBlock(ext []byte) (bids []tracker.PeerBid, ok bool) {
	for len(ext) > 0 {
		if len(ext) < extRecordHeader {
			return nil, false
		}
		typ, n := ext[0], int(binary.BigEndian.Uint16(ext[1:]))
		ext = ext[extRecordHeader:]
		if len(ext) < n {
			return nil, false
		}
		if typ == ExtBids {
			if n%extBidEntryLen != 0 {
				return nil, false
			}
			for j := 0; j < n; j += extBidEntryLen {
				bids = append(bids, tracker.PeerBid{Amount: binary.BigEndian.Uint64(ext[j:]), Age: binary.BigEndian.Uint32(ext[j+8:])})
			}
		}
		ext = ext[n:]
	}
	return bids, true
}
