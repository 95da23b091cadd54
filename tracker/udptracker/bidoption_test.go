package udptracker

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/tracker"
)

func (h *harness) bidAnnounce(c *client, info [20]byte, o *BidOption) []byte {
	a := Announce{Header: Header{ConnectionID: c.cid, TransactionID: 5}, InfoHash: info, Left: 1, NumWant: -1, Port: 6881}
	msg := AppendAnnounceRequest(nil, &a)
	if o != nil {
		msg = AppendBidOption(msg, *o)
	}
	h.srv.HandleMessage(datagram.ProtocolDatagram3, c.port, DefaultPort, h.dg3(c, msg))
	return h.session.take(h.t).payload
}

func TestBidAnnounceUDP(t *testing.T) {
	h := newHarness(t)
	h.swarms.SetBids(true)
	alice, bob, carol := h.newClient(6880), h.newClient(6881), h.newClient(6882)
	for _, c := range []*client{alice, bob, carol} {
		h.connect(c)
	}
	info := [20]byte{9}
	h.bidAnnounce(alice, info, &BidOption{Flags: BidFlagHasBid, Bid: 300})
	h.bidAnnounce(bob, info, nil)
	// An old client's reply: the peer, and nothing after it.
	if r := h.bidAnnounce(carol, info, nil); len(r) != 20+2*32 {
		t.Fatalf("old client's reply of %d bytes", len(r))
	}
	r := h.bidAnnounce(carol, info, &BidOption{Flags: BidFlagTop, NumBid: 1})
	hashes, ext := SplitAnnounceReply(r[20:])
	ah := alice.keys.Destination.Hash()
	if len(hashes) != 64 || !bytes.Equal(hashes[:32], ah[:]) || ext == nil {
		t.Fatalf("peers %x, ext %x", hashes, ext)
	}
	bids, ok := ParseBidBlock(ext)
	if !ok || len(bids) != 2 || bids[0] != (tracker.PeerBid{Amount: 300, Age: 0}) || bids[1].Age != tracker.NoBidAge {
		t.Fatalf("bids %+v (ok %v)", bids, ok)
	}
	want := append(make([]byte, 32), ExtBids, 0, 24)
	want = binary.BigEndian.AppendUint64(want, 300)
	want = binary.BigEndian.AppendUint32(want, 0)
	want = binary.BigEndian.AppendUint64(want, 0)
	want = binary.BigEndian.AppendUint32(want, tracker.NoBidAge)
	if !bytes.Equal(r[20+64:], want) {
		t.Fatalf("extension block %x, want %x", r[20+64:], want)
	}
	// Off: the option is ignored and the reply is the old one.
	h.swarms.SetBids(false)
	if r := h.bidAnnounce(carol, info, &BidOption{Flags: BidFlagTop | BidFlagHasBid, Bid: 5}); len(r) != 20+2*32 {
		t.Fatalf("bids off: reply of %d bytes", len(r))
	}
}

func TestFindBidOption(t *testing.T) {
	ok10 := AppendBidOption(nil, BidOption{Flags: 3, NumBid: 7, Bid: 1 << 40})
	for _, c := range []struct {
		in   string
		want BidOption
		ok   bool
	}{
		{"", BidOption{}, true},
		{string(ok10), BidOption{Present: true, Flags: 3, NumBid: 7, Bid: 1 << 40}, true},
		{"\x02\x02/a\x01" + string(ok10) + "\x00junk", BidOption{Present: true, Flags: 3, NumBid: 7, Bid: 1 << 40}, true},
		{"\x42\x0b\x01\x00\x00\x00\x00\x00\x00\x00\x00\x05\xff", BidOption{Present: true, Flags: 1, Bid: 5}, true}, // a longer option
		{"\x42\x09\x01\x00\x00\x00\x00\x00\x00\x00\x05", BidOption{}, false},                                       // too short
		{"\x42\x0a\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00", BidOption{}, false},                                   // above MaxBid
		{"\x42\x0a\x01", BidOption{}, false},                                                                       // overruns
	} {
		got, ok := findBidOption([]byte(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("%x: %+v %v, want %+v %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func FuzzFindBidOption(f *testing.F) {
	f.Add(AppendBidOption(nil, BidOption{Flags: 3, NumBid: 7, Bid: 1 << 40}))
	f.Add([]byte("\x02\x02/a\x42\x0a\x01\x00\x00\x00\x00\x00\x00\x00\x00\x05"))
	f.Add([]byte("\x42\x0b\x01\x00\x00\x00\x00\x00\x00\x00\x00\x05\xff\x00"))
	f.Add([]byte("\x42\x09\x01\x00"))
	f.Add([]byte("\x01\x01\x42"))
	f.Fuzz(func(t *testing.T, b []byte) {
		// A bid option stands even when a later option is malformed,
		// as the URL data before a malformed option does.
		o, _ := findBidOption(b)
		if o.Present && o.Bid > tracker.MaxBid {
			t.Fatalf("bid option %+v accepted from %x", o, b)
		}
		if o.Present {
			if again, _ := findBidOption(AppendBidOption(nil, o)); again != o {
				t.Fatalf("round trip %+v → %+v", o, again)
			}
		}
	})
}

func FuzzParseBidBlock(f *testing.F) {
	var ba tracker.BidAnnounce
	ba.Peers[0] = tracker.PeerBid{Amount: 7, Age: 3}
	block := appendBidBlock(nil, &ba, 2)
	f.Add(block[32:])
	f.Add([]byte("\x01\x00\x0c\x00"))
	f.Add([]byte("\x07\x00\x01x\x01\x00\x00"))
	f.Fuzz(func(t *testing.T, ext []byte) {
		bids, ok := ParseBidBlock(ext)
		if ok && len(bids)*extBidEntryLen > len(ext) {
			t.Fatalf("%d bids from %d bytes", len(bids), len(ext))
		}
	})
}
