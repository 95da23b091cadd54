package httptracker

import (
	"crypto/rand"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/bencode"
	"github.com/go-i2p/go-opentracker/tracker"
)

func TestParseAnnounceQuery(t *testing.T) {
	ih := strings.Repeat("\x01", 19) + "\xff"
	pid := "-BI0001-abcdefghijkl"
	raw := "info_hash=" + url.QueryEscape(ih) + "&peer_id=" + url.QueryEscape(pid) +
		"&ip=abc~-%3D.i2p&port=6881&uploaded=0&downloaded=0&left=0&event=completed&numwant=10&compact=1&key=x&&junk"
	var q announceQuery
	if err := parseAnnounceQuery(raw, &q); err != nil {
		t.Fatal(err)
	}
	if string(q.infoHash[:]) != ih || string(q.peerID[:]) != pid || q.ip != "abc~-=.i2p" ||
		!q.hasLeft || q.left != 0 || q.event != tracker.EventCompleted || q.numWant != 10 || !q.compact {
		t.Fatalf("parsed %+v", q)
	}
	if err := parseAnnounceQuery("info_hash=short", &q); !errors.Is(err, errBadInfoHash) {
		t.Fatalf("short info_hash: %v", err)
	}
	if err := parseAnnounceQuery("info_hash="+url.QueryEscape(ih+"x"), &q); !errors.Is(err, errBadInfoHash) {
		t.Fatalf("long info_hash: %v", err)
	}
	if err := parseAnnounceQuery("peer_id=%zz"+strings.Repeat("a", 18), &q); !errors.Is(err, errBadPeerID) {
		t.Fatalf("bad escape: %v", err)
	}
	if err := parseAnnounceQuery("peer_id=abc%4", &q); !errors.Is(err, errBadPeerID) {
		t.Fatalf("truncated escape: %v", err)
	}
	if err := parseAnnounceQuery("event=paused", &q); !errors.Is(err, tracker.ErrBadEvent) {
		t.Fatalf("unknown event: %v", err)
	}
	if err := parseAnnounceQuery("left=-1", &q); !errors.Is(err, errBadNumber) {
		t.Fatalf("negative left: %v", err)
	}
	if err := parseAnnounceQuery("numwant=-1", &q); err != nil || q.numWant != -1 {
		t.Fatalf("numwant -1: %v", err)
	}
}

func TestParseScrapeQuery(t *testing.T) {
	var q scrapeQuery
	raw := "info_hash=" + url.QueryEscape(strings.Repeat("a", 20)) + "&info_hash=" + url.QueryEscape(strings.Repeat("b", 20))
	if err := parseScrapeQuery(raw, &q); err != nil || q.n != 2 || q.hashes[1][0] != 'b' {
		t.Fatalf("scrape: %v %d", err, q.n)
	}
	many := strings.Repeat("info_hash="+strings.Repeat("c", 20)+"&", tracker.MaxScrapeHashes+1)
	if err := parseScrapeQuery(many, &q); !errors.Is(err, errTooMany) {
		t.Fatalf("75 hashes: %v", err)
	}
}

func TestAppendFailure(t *testing.T) {
	for _, reason := range []string{"", "no", "ip is not a valid Base64 I2P Destination"} {
		v, err := bencode.Decode(appendFailure(nil, reason))
		if want := map[string]any{"failure reason": reason}; err != nil || !reflect.DeepEqual(v, want) {
			t.Fatalf("appendFailure(%q) reads as %#v, %v", reason, v, err)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	f.Add("info_hash=%01%02%03%04%05%06%07%08%09%0a%0b%0c%0d%0e%0f%10%11%12%13%14&peer_id=-AB1234-abcdefghijkl&ip=AAAA.i2p&left=5&numwant=50&compact=1&event=started")
	f.Add("info_hash=aaaaaaaaaaaaaaaaaaaa&info_hash=bbbbbbbbbbbbbbbbbbbb")
	f.Add("ip=%&&=&info_hash=%zz")
	if k, err := i2p.NewIdentity(rand.Reader); err == nil {
		f.Add("ip=" + url.QueryEscape(k.Destination.Base64()+".i2p"))
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var a announceQuery
		if parseAnnounceQuery(raw, &a) == nil {
			if len(a.ip) > maxIPLen {
				t.Fatal("ip longer than its buffer")
			}
			if d, err := parseIPDestination(a.ip); err == nil && (d.Len() < i2p.MinDestinationLen || d.Len() > MaxDestinationLen) {
				t.Fatalf("accepted a Destination of %d bytes", d.Len())
			}
		}
		var s scrapeQuery
		if parseScrapeQuery(raw, &s) == nil && s.n > tracker.MaxScrapeHashes {
			t.Fatal("too many hashes")
		}
	})
}

// FuzzParseIPDestination: whatever the ip parameter holds, the parser
// answers without panicking, and what it accepts is a Destination a client
// can have (387..395 bytes) that reads back the same from its own Base64.
func FuzzParseIPDestination(f *testing.F) {
	k, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	b64 := k.Destination.Base64()
	for _, seed := range []string{b64, b64 + ".i2p", b64[:100], b64 + "AAAA", b64[:len(b64)-4] + "~~~~", "", ".i2p", "1.2.3.4"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, ip string) {
		d, err := parseIPDestination(ip)
		if err != nil {
			return
		}
		if n := d.Len(); n < i2p.MinDestinationLen || n > MaxDestinationLen {
			t.Fatalf("accepted a %d-byte Destination", n)
		}
		back, err := i2p.ParseDestinationBase64(d.Base64())
		if err != nil || !back.Equal(d) {
			t.Fatalf("the accepted Destination does not read back from its Base64: %v", err)
		}
	})
}
