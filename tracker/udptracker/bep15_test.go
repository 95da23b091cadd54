package udptracker

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

func TestReferencePayloads(t *testing.T) {
	v, err := testvectors.Load()
	if err != nil {
		t.Fatal(err)
	}
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
		a.Uploaded != 0 || a.Event != EventStarted || a.IP != 0 || a.Key != 0xdeadbeef || a.NumWant != 50 || a.Port != 6881 {
		t.Fatalf("announce fields: %+v", a)
	}
	if got := AppendAnnounceRequest(nil, &a); !bytes.Equal(got, raw) {
		t.Fatalf("announce request re-encoded differs:\n%x\n%x", got, raw)
	}
}

func TestAnnounceOptions(t *testing.T) {
	base := Announce{Header: Header{ConnectionID: 7, TransactionID: 9}, NumWant: -1}
	cases := []struct {
		name    string
		options []byte
		url     string
		err     error
	}{
		{"none", nil, "", nil},
		{"one URLData", []byte("\x02\x05/a?x="), "/a?x=", nil},
		{"two URLData joined", []byte("\x02\x02/a\x02\x04?k=v"), "/a?k=v", nil},
		{"NOP and end", []byte("\x01\x01\x02\x01/\x00garbage"), "/", nil},
		{"unknown skipped", []byte("\x09\x03abc\x02\x01/"), "/", nil},
		{"overrun", []byte("\x02\x09/a"), "", ErrBadOptions},
		{"no length", []byte("\x02"), "", ErrBadOptions},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := append(AppendAnnounceRequest(nil, &base), c.options...)
			var a Announce
			err := ParseAnnounce(b, &a)
			if !errors.Is(err, c.err) {
				t.Fatalf("error %v, want %v", err, c.err)
			}
			if err == nil && string(a.URLData) != c.url {
				t.Fatalf("URLData %q, want %q", a.URLData, c.url)
			}
		})
	}
	// Many URLData options joined past 255 bytes are refused, not overflowed.
	var opts []byte
	for range 3 {
		opts = append(opts, optURLData, 100)
		opts = append(opts, bytes.Repeat([]byte("x"), 100)...)
	}
	var a Announce
	if err := ParseAnnounce(append(AppendAnnounceRequest(nil, &base), opts...), &a); !errors.Is(err, ErrBadOptions) {
		t.Fatalf("300 bytes of URLData: %v", err)
	}
	// A long URL round-trips through several options.
	long := Announce{URLData: bytes.Repeat([]byte("y"), 250)}
	if err := ParseAnnounce(AppendAnnounceRequest(nil, &long), &a); err != nil || len(a.URLData) != 250 {
		t.Fatalf("long URL: %v %d", err, len(a.URLData))
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
	many := make([][20]byte, MaxScrapeHashes+1)
	if err := ParseScrape(AppendScrapeRequest(nil, 1, 2, many...), &s); !errors.Is(err, ErrTooManyHashes) {
		t.Fatalf("75 hashes: %v", err)
	}
	if err := ParseScrape(AppendScrapeRequest(nil, 1, 2, many[:MaxScrapeHashes]...), &s); err != nil || s.Len() != MaxScrapeHashes {
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
	v, err := testvectors.Load()
	if err != nil {
		f.Fatal(err)
	}
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
			if s.Len() < 1 || s.Len() > MaxScrapeHashes {
				t.Fatalf("scrape of %d hashes", s.Len())
			}
			_ = s.Hash(s.Len() - 1)
		}
	})
}

func FuzzParseOptions(f *testing.F) {
	f.Add([]byte("\x02\x05/a?x="))
	f.Add([]byte("\x02\x02/a\x02\x04?k=v\x00"))
	f.Add([]byte("\x01\x09\x03abc\x02\x01/"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var buf [255]byte
		url, err := parseOptions(b, buf[:0])
		if err == nil && len(url) > len(b) {
			t.Fatal("URLData longer than the options")
		}
	})
}
