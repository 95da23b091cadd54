package console

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// statsGet answers one /stats target from h.
func statsGet(h http.Handler, target string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newReq(http.MethodGet, target, nil))
	return rec.Code, rec.Body.String()
}

// TestStatsModes: each mode answers in opentracker's format, from the
// source's numbers.
func TestStatsModes(t *testing.T) {
	f := newFake()
	f.status.Counters = Counters{UDPConnects: 10, UDPAnnounces: 100, UDPScrapes: 3, HTTPAnnounces: 50, HTTPScrapes: 5}
	f.swarms = []SwarmRow{{InfoHash: "ab01", Seeds: 1, Leechers: 9}, {InfoHash: "cd02", Seeds: 4, Leechers: 1}, {InfoHash: "ef03"}}
	start := f.status.Started
	h := StatsHandler(f, func() time.Time { return start.Add(2 * time.Hour) })
	up := "7200 seconds (2 hours)"
	cases := map[string]string{
		"":                "42\n10\nopentracker serving 3 torrents\nopentracker",
		"?mode=peer":      "42\n10\nopentracker serving 3 torrents\nopentracker",
		"?mode=torr":      "3\n0\nopentracker serving 3 torrents\nopentracker",
		"?mode=conn":      "168\n160\n" + up + "\nopentracker connections, 0 conns/s :: 0 success/s.",
		"?mode=udp4":      "113\n110\n" + up + "\nopentracker udp4 stats, 0 conns/s :: 0 success/s.",
		"?mode=udp":       "113\n110\n" + up + "\nopentracker udp4 stats, 0 conns/s :: 0 success/s.",
		"?mode=tcp4":      "55\n50\n" + up + "\nopentracker tcp4 stats, 0 conns/s :: 0 success/s.",
		"?mode=tcp":       "55\n50\n" + up + "\nopentracker tcp4 stats, 0 conns/s :: 0 success/s.",
		"?mode=scrp":      "5\n3\n" + up + "\nopentracker scrape stats, 0 scrape/s (tcp and udp)",
		"?mode=completed": "7\n0\n" + up + "\nopentracker, 3 completed/h.",
		"?mode=version":   "go-opentracker 0.1.0\n",
		"?mode=top10":     "Top 10 torrents by peers:\n\t10\tAB01\n\t5\tCD02\nTop 10 torrents by seeds:\n\t4\tCD02\n\t1\tAB01\n",
		"?mode=top100":    "Top 100 torrents by peers:\n\t10\tAB01\n\t5\tCD02\nTop 100 torrents by seeds:\n\t4\tCD02\n\t1\tAB01\n",
		"?mode=counters": "uptime_seconds 7200\nswarms 3\npeers 42\nseeds 10\nleechers 32\ncompleted 7\n" +
			"udp_connects 10\nudp_announces 100\nudp_scrapes 3\nhttp_announces 50\nhttp_scrapes 5\nudp_bad_connection_id 5\n",
	}
	for target, want := range cases {
		if code, body := statsGet(h, "/stats"+target); code != 200 || body != want {
			t.Errorf("%q: %d %q, want %q", target, code, body, want)
		}
	}
	for mode, code := range map[string]int{"": 400, "bogus": 400, "busy": 500, "fscr": 500, "tpbs": 500, "s24s": 500} {
		if got, _ := statsGet(h, "/stats?mode="+mode); got != code {
			t.Errorf("mode %q: %d, want %d", mode, got, code)
		}
	}
	f.mu.Lock()
	f.status.FullScrape, f.status.Counters.FullScrapes, f.status.Counters.FullScrapeBytes = true, 2, 14400
	f.mu.Unlock()
	if code, body := statsGet(h, "/stats?mode=fscr"); code != 200 || body != "2000\n14400\n"+up+"\nopentracker full scrape stats, 0 conns/s :: 2 bytes/s." {
		t.Errorf("fscr: %d %q", code, body)
	}
	f.mu.Lock()
	f.status.Woodpeckers = []Woodpecker{{Peer: "x.b32.i2p", Total: 9, Refused: map[string]uint64{"announce": 7, "scrape": 2}, Last: start}}
	f.mu.Unlock()
	want := fmt.Sprintf("x.b32.i2p total 9 connect 0 announce 7 scrape 2 http 0 last %d\n", start.Unix())
	if _, body := statsGet(h, "/stats?mode=woodpeckers"); body != want {
		t.Errorf("woodpeckers: %q, want %q", body, want)
	}
	c, err := New(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, newReq(http.MethodGet, "/", nil))
	if body := rec.Body.String(); !strings.Contains(body, "x.b32.i2p") || !strings.Contains(body, "announce 7") {
		t.Error("the page does not list the woodpecker")
	}
}

// TestStatsTopSeedsBeyondPeers: the seed list of top10 looks at every
// swarm, not only the ten with most peers.
func TestStatsTopSeedsBeyondPeers(t *testing.T) {
	f := newFake()
	f.swarms = nil
	for i := range 12 {
		f.swarms = append(f.swarms, SwarmRow{InfoHash: fmt.Sprintf("%02x", i), Leechers: uint64(100 - i)})
	}
	f.swarms = append(f.swarms, SwarmRow{InfoHash: "ff", Seeds: 50})
	_, body := statsGet(StatsHandler(f, time.Now), "/stats?mode=top10")
	if !strings.HasSuffix(body, "Top 10 torrents by seeds:\n\t50\tFF\n") {
		t.Errorf("top10: %q", body)
	}
}

// otStats is the part of opentracker's XML the comparison reads.
type otStats struct {
	XMLName   xml.Name `xml:"stats"`
	TrackerID string   `xml:"tracker_id"`
	Version   string   `xml:"version"`
	Uptime    uint64   `xml:"uptime"`
	Torrents  struct {
		Mutex    uint64 `xml:"count_mutex"`
		Iterator uint64 `xml:"count_iterator"`
	} `xml:"torrents"`
	Peers     uint64 `xml:"peers>count"`
	Seeds     uint64 `xml:"seeds>count"`
	Completed uint64 `xml:"completed>count"`
	TCP       struct {
		Accept   uint64 `xml:"accept"`
		Announce uint64 `xml:"announce"`
		Scrape   uint64 `xml:"scrape"`
	} `xml:"connections>tcp"`
	UDP struct {
		Overall   uint64 `xml:"overall"`
		Connect   uint64 `xml:"connect"`
		Announce  uint64 `xml:"announce"`
		Scrape    uint64 `xml:"scrape"`
		Missmatch uint64 `xml:"missmatch"`
	} `xml:"connections>udp"`
	Livesync   uint64 `xml:"connections>livesync>count"`
	HTTPErrors []struct {
		Code  string `xml:"code,attr"`
		Count uint64 `xml:",chardata"`
	} `xml:"debug>http_error>count"`
}

// TestStatsXML: mode=everything is well-formed XML that encoding/xml
// reads into opentracker's elements, with the source's numbers, and a
// version or reason with markup in it stays text.
func TestStatsXML(t *testing.T) {
	f := newFake()
	f.status.Version = "1<&>2"
	f.status.Counters = Counters{UDPConnects: 10, UDPAnnounces: 100, UDPScrapes: 3, HTTPAnnounces: 50, HTTPScrapes: 5}
	f.status.Problems = append(f.status.Problems, Problem{Where: "http", Reason: `bad "x"<`, Count: 2})
	start := f.status.Started
	code, body := statsGet(StatsHandler(f, func() time.Time { return start.Add(90 * time.Second) }), "/stats?mode=everything")
	if code != 200 || !strings.HasPrefix(body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<stats>\n") {
		t.Fatalf("%d %q", code, body)
	}
	d := xml.NewDecoder(strings.NewReader(body))
	for {
		if _, err := d.Token(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("not well-formed: %v\n%s", err, body)
			}
			break
		}
	}
	var s otStats
	if err := xml.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	if s.TrackerID != "0" || strings.TrimSpace(s.Version) != "go-opentracker 1<&>2" || s.Uptime != 90 || s.Torrents.Mutex != 3 || s.Torrents.Iterator != 3 ||
		s.Peers != 42 || s.Seeds != 10 || s.Completed != 7 || s.Livesync != 0 {
		t.Errorf("totals: %+v", s)
	}
	if s.TCP.Accept != 55 || s.TCP.Announce != 50 || s.TCP.Scrape != 5 ||
		s.UDP.Overall != 113 || s.UDP.Connect != 10 || s.UDP.Announce != 100 || s.UDP.Scrape != 3 || s.UDP.Missmatch != 5 {
		t.Errorf("connections: %+v %+v", s.TCP, s.UDP)
	}
	if len(s.HTTPErrors) != 1 || s.HTTPErrors[0].Code != `bad "x"<` || s.HTTPErrors[0].Count != 2 {
		t.Errorf("http errors: %+v", s.HTTPErrors)
	}
}
