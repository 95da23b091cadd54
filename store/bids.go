package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker"
)

// prefixBid keys a peer's bid in a swarm: b | info hash | peer hash, the
// value its amount (8 bytes), when it changed and when the peer last
// stated it (4 bytes each, unix seconds). Bid records carry no TTL: the
// tracker removes each one with its peer, and at restore the ones whose
// peer did not come back. Builds that do not know the prefix never read
// it.
const prefixBid = 'b'

const bidValueLen = 16

func bidKey(info tracker.InfoHash, peer i2p.Hash) pkey {
	k := peerKey(info, peer)
	k.b[0] = prefixBid
	return k
}

// BidChanged journals a peer's bid.
func (s *Store) BidChanged(b tracker.BidRecord) {
	v := make([]byte, 0, bidValueLen)
	v = binary.BigEndian.AppendUint64(v, b.Amount)
	v = binary.BigEndian.AppendUint32(v, uint32(b.ChangedAt.Unix()))
	v = binary.BigEndian.AppendUint32(v, uint32(b.SeenAt.Unix()))
	s.record(bidKey(b.Info, b.Peer), op{kind: opPutBid, value: v})
}

// BidRemoved journals the end of a peer's bid.
func (s *Store) BidRemoved(info tracker.InfoHash, peer i2p.Hash) {
	s.record(bidKey(info, peer), op{kind: opDelete})
}

// RestoreBids passes every journaled bid to fn; corrupt records are
// skipped and counted as Restore's are.
func (s *Store) RestoreBids(ctx context.Context, fn func(tracker.BidRecord)) error {
	err := s.view(func(txn *badger.Txn) error {
		return s.scan(ctx, txn, keyRange{prefix: prefixBid, hi: 256}, func(k, v []byte) error {
			b, err := decodeBid(k, v)
			if err != nil {
				return err
			}
			fn(b)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("store: restore bids: %w", err)
	}
	return nil
}

func decodeBid(k, v []byte) (tracker.BidRecord, error) {
	var b tracker.BidRecord
	if len(k) != 53 || len(v) != bidValueLen {
		return b, fmt.Errorf("bid record: key %d bytes, value %d bytes", len(k), len(v))
	}
	copy(b.Info[:], k[1:21])
	copy(b.Peer[:], k[21:53])
	b.Amount = binary.BigEndian.Uint64(v)
	if b.Amount > tracker.MaxBid {
		return b, fmt.Errorf("bid record: amount %d above the maximum", b.Amount)
	}
	b.ChangedAt = time.Unix(int64(binary.BigEndian.Uint32(v[8:])), 0)
	b.SeenAt = time.Unix(int64(binary.BigEndian.Uint32(v[12:])), 0)
	return b, nil
}

var _ tracker.BidPersister = (*Store)(nil)
