package loadgen

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/go-i2p/go-opentracker/tracker/udptracker"
)

func TestParseReplies(t *testing.T) {
	var r Reply
	b := udptracker.AppendConnectResponse(nil, 77, 0x1122334455667788, 1200)
	if err := ParseReply(b, 6, &r); err != nil || r.Action != ActionConnect || r.TransactionID != 77 || r.ConnectionID != 0x1122334455667788 || r.Lifetime != 1200 {
		t.Fatalf("connect: %+v %v", r, err)
	}
	if err := ParseReply(b[:16], 6, &r); err != nil || r.Lifetime != 0 {
		t.Fatalf("16-byte connect: %+v %v", r, err)
	}
	b = udptracker.AppendAnnounceResponseHeader(nil, 5, 1620, 3, 4)
	b = append(b, make([]byte, 3*32)...)
	if err := ParseReply(b, 32, &r); err != nil || r.Interval != 1620 || r.Leechers != 3 || r.Seeders != 4 || r.NumPeers(32) != 3 {
		t.Fatalf("announce: %+v %v", r, err)
	}
	if err := ParseReply(b[:len(b)-32], 6, &r); !errors.Is(err, ErrReply) {
		t.Errorf("64 bytes of 6-byte peers accepted: %v", err)
	}
	if err := ParseReply(b[:len(b)-1], 32, &r); !errors.Is(err, ErrReply) {
		t.Errorf("95 bytes of 32-byte peers accepted: %v", err)
	}
	b = udptracker.AppendScrapeResponseHeader(nil, 9)
	b = udptracker.AppendScrapeEntry(b, 1, 2, 3)
	if err := ParseReply(b, 6, &r); err != nil || len(r.Entries) != 12 {
		t.Fatalf("scrape: %+v %v", r, err)
	}
	if s, c, l := r.ScrapeEntry(0); s != 1 || c != 2 || l != 3 {
		t.Errorf("scrape entry %d %d %d", s, c, l)
	}
	b = udptracker.AppendErrorResponse(nil, 11, "Connection ID missmatch.")
	if err := ParseReply(b, 6, &r); err != nil || r.Action != ActionError || string(r.Message) != "Connection ID missmatch." {
		t.Fatalf("error: %+v %v", r, err)
	}
	for _, bad := range [][]byte{nil, make([]byte, 7), {0, 0, 0, 0, 0, 0, 0, 1, 9}, {0, 0, 0, 1, 0, 0, 0, 1}, {0, 0, 0, 9, 0, 0, 0, 1}, {0, 0, 0, 2, 0, 0, 0, 1, 5}} {
		if err := ParseReply(bad, 6, &r); !errors.Is(err, ErrReply) {
			t.Errorf("ParseReply(%x) = %v", bad, err)
		}
	}
}

// ScrapeEntry returns the i-th entry of a scrape reply.
func (r *Reply) ScrapeEntry(i int) (seeders, completed, leechers uint32) {
	e := r.Entries[i*12:]
	return binary.BigEndian.Uint32(e), binary.BigEndian.Uint32(e[4:]), binary.BigEndian.Uint32(e[8:])
}
