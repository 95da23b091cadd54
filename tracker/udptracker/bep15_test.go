package udptracker

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/go-i2p/go-opentracker/internal/testvectors"
	"github.com/go-i2p/go-opentracker/tracker"
)

func TestReferencePayloads(t *testing.T) {
	v := testvectors.Must(t)
	connect := testvectors.Hex(v.Payloads.Connect)
	h, err := ParseHeader(connect)
	if err != nil || CheckConnect(h) != nil || h.Action != ActionConnect || h.TransactionID != 0x01020304 {
		t.Fatalf("connect: %+v %v", h, err)
	}
	if got := AppendConnectRequest(nil, 0x01020304); !bytes.Equal(got, connect) {
		t.Fatalf("connect request %x", got)
	}

	raw := testvectors.Hex(v.Payloads.Announce)
	var a Announce
	if err := ParseAnnounce(raw, &a); err != nil {
		t.Fatal(err)
	}
	if a.ConnectionID != 0x1122334455667788 || a.Action != ActionAnnounce || a.TransactionID != 0x0a0b0c0d ||
		hex.EncodeToString(a.InfoHash[:]) != "77f0c5da0e3abe2cf0b11f7c866e30211bedade4" ||
		string(a.PeerID[:]) != "-JV0001-abcdefghijkl" || a.Downloaded != 0 || a.Left != 1048576 ||
		a.Uploaded != 0 || a.Event != tracker.EventStarted || a.IP != 0 || a.Key != 0xdeadbeef || a.NumWant != 50 || a.Port != 6881 {
		t.Fatalf("announce fields: %+v", a)
	}
	if got := AppendAnnounceRequest(nil, &a); !bytes.Equal(got, raw) {
		t.Fatalf("announce request re-encoded differs:\n%x\n%x", got, raw)
	}
}

func TestAnnounceOptions(t *testing.T) {
	base := Announce{Header: Header{ConnectionID: 7, TransactionID: 9}, NumWant: -1}
	x100 := append([]byte{optURLData, 100}, bytes.Repeat([]byte("x"), 100)...)
	cases := []struct {
		name    string
		options []byte
		url     string
		bad     bool // options cut short, the announce kept
	}{
		{"none", nil, "", false},
		{"one URLData", []byte("\x02\x05/a?x="), "/a?x=", false},
		{"two URLData joined", []byte("\x02\x02/a\x02\x04?k=v"), "/a?k=v", false},
		{"NOP and end", []byte("\x01\x01\x02\x01/\x00garbage"), "/", false},
		{"unknown skipped", []byte("\x09\x03abc\x02\x01/"), "/", false},
		{"empty URLData", []byte("\x02\x00"), "", false},
		{"overrun", []byte("\x02\x09/a"), "", true},
		{"no length", []byte("\x02"), "", true},
		{"unknown without length", []byte("\x02\x01/\x07"), "/", true},
		{"unknown overrun after URLData", []byte("\x02\x02/a\x09\xff"), "/a", true},
		{"overrun after two URLData", []byte("\x02\x02/a\x02\x02?k\x02\x05=v"), "/a?k", true},
		// Joined URL data past MaxURLData stops at the option that would
		// overflow; the two before it stay.
		{"over-long URL data", bytes.Repeat(x100, 3), strings.Repeat("x", 200), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := append(AppendAnnounceRequest(nil, &base), c.options...)
			var a Announce
			if err := ParseAnnounce(b, &a); err != nil {
				t.Fatalf("announce refused for its options: %v", err)
			}
			if string(a.URLData) != c.url || a.BadOptions != c.bad {
				t.Fatalf("URLData %q bad=%v, want %q bad=%v", a.URLData, a.BadOptions, c.url, c.bad)
			}
			if a.ConnectionID != 7 || a.TransactionID != 9 || a.NumWant != -1 {
				t.Fatalf("fixed fields changed: %+v", a.Header)
			}
		})
	}
	// A long URL round-trips through several options.
	var a Announce
	long := Announce{URLData: bytes.Repeat([]byte("y"), MaxURLData)}
	if err := ParseAnnounce(AppendAnnounceRequest(nil, &long), &a); err != nil || len(a.URLData) != MaxURLData || a.BadOptions {
		t.Fatalf("long URL: %v %d %v", err, len(a.URLData), a.BadOptions)
	}
	// A reused Announce forgets the previous request's options.
	if err := ParseAnnounce(AppendAnnounceRequest(nil, &base), &a); err != nil || a.URLData != nil || a.BadOptions {
		t.Fatalf("reused: %v %q %v", err, a.URLData, a.BadOptions)
	}
}

func TestParseErrors(t *testing.T) {
	var a Announce
	if err := ParseAnnounce(make([]byte, 97), &a); !errors.Is(err, ErrShort) {
		t.Fatalf("97-byte announce: %v", err)
	}
	bad := AppendAnnounceRequest(nil, &Announce{Event: 4})
	if err := ParseAnnounce(bad, &a); !errors.Is(err, ErrBadEvent) {
		t.Fatalf("event 4: %v", err)
	}
	if _, err := ParseHeader(make([]byte, 15)); !errors.Is(err, ErrShort) {
		t.Fatalf("short header: %v", err)
	}
	h, _ := ParseHeader(AppendScrapeRequest(nil, 1, 2))
	if err := CheckConnect(h); !errors.Is(err, ErrBadProtocolID) {
		t.Fatalf("protocol id: %v", err)
	}
	var s Scrape
	if err := ParseScrape(AppendScrapeRequest(nil, 1, 2), &s); !errors.Is(err, ErrNoHashes) {
		t.Fatalf("empty scrape: %v", err)
	}
	many := make([][20]byte, tracker.MaxScrapeHashes+1)
	if err := ParseScrape(AppendScrapeRequest(nil, 1, 2, many...), &s); !errors.Is(err, ErrTooManyHashes) {
		t.Fatalf("75 hashes: %v", err)
	}
	if err := ParseScrape(AppendScrapeRequest(nil, 1, 2, many[:tracker.MaxScrapeHashes]...), &s); err != nil || s.Len() != tracker.MaxScrapeHashes {
		t.Fatalf("74 hashes: %v", err)
	}
	one := append(AppendScrapeRequest(nil, 1, 2, [20]byte{1, 2, 3}), 0xff) // a partial hash is ignored
	if err := ParseScrape(one, &s); err != nil || s.Len() != 1 || s.Hash(0) != [20]byte{1, 2, 3} {
		t.Fatalf("scrape with trailing byte: %v", err)
	}
}

func TestResponses(t *testing.T) {
	got := AppendConnectResponse(nil, 0x01020304, 0xaabbccddeeff0011, 1200)
	if hex.EncodeToString(got) != "0000000001020304aabbccddeeff001104b0" {
		t.Fatalf("connect response %x", got)
	}
	got = AppendAnnounceResponseHeader(nil, 5, 1620, 3, 4)
	if hex.EncodeToString(got) != "0000000100000005000006540000000300000004" {
		t.Fatalf("announce response %x", got)
	}
	got = AppendScrapeEntry(AppendScrapeResponseHeader(nil, 6), 1, 2, 3)
	if hex.EncodeToString(got) != "0000000200000006000000010000000200000003" {
		t.Fatalf("scrape response %x", got)
	}
	got = AppendErrorResponse(nil, 7, "bad")
	if hex.EncodeToString(got) != "0000000300000007626164" {
		t.Fatalf("error response %x", got)
	}
}

func FuzzParseRequest(f *testing.F) {
	v := testvectors.Must(f)
	f.Add(testvectors.Hex(v.Payloads.Connect))
	f.Add(testvectors.Hex(v.Payloads.Announce))
	f.Add(append(testvectors.Hex(v.Payloads.Announce), "\x02\x05/a?x=\x01\x00"...))
	f.Add(AppendScrapeRequest(nil, 1, 2, [20]byte{1}, [20]byte{2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			return
		}
		_ = CheckConnect(h)
		var a Announce
		if ParseAnnounce(b, &a) == nil {
			if len(a.URLData) > 255 {
				t.Fatalf("URLData of %d bytes", len(a.URLData))
			}
		}
		var s Scrape
		if ParseScrape(b, &s) == nil {
			if s.Len() < 1 || s.Len() > tracker.MaxScrapeHashes {
				t.Fatalf("scrape of %d hashes", s.Len())
			}
			_ = s.Hash(s.Len() - 1)
		}
	})
}

// FuzzParseOptions: any option bytes parse without a panic, and the URL
// data is bounded and made only of the options' bytes.
func FuzzParseOptions(f *testing.F) {
	f.Add([]byte("\x02\x05/a?x="))
	f.Add([]byte("\x02\x02/a\x02\x04?k=v\x00"))
	f.Add([]byte("\x01\x09\x03abc\x02\x01/"))
	f.Add([]byte("\x02\x09/a"))
	f.Add([]byte("\x02\x02/a\x09\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var buf [MaxURLData]byte
		url, ok := parseOptions(b, buf[:0])
		if len(url) > MaxURLData || len(url) > len(b) {
			t.Fatalf("URLData of %d bytes from %d bytes of options", len(url), len(b))
		}
		if !ok && len(b) == 0 {
			t.Fatal("no options reported as malformed")
		}
		// An announce's options are bad when the URL data or a bid
		// option (docs/bids.md) is cut short.
		_, bidOK := findBidOption(b)
		var a Announce
		req := append(AppendAnnounceRequest(nil, &Announce{}), b...)
		if err := ParseAnnounce(req, &a); err != nil || a.BadOptions != (!ok || !bidOK) || !bytes.Equal(a.URLData, url) {
			t.Fatalf("announce with these options: %v bad=%v (URL data ok %v, bid ok %v) URLData %q, want %q", err, a.BadOptions, ok, bidOK, a.URLData, url)
		}
	})
}
