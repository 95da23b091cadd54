package httptracker

import (
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker"
)

func bidHandler(on bool) (*Handler, *tracker.Tracker) {
	at := time.Unix(1_800_000_000, 0)
	tr := tracker.New(tracker.Config{Now: func() time.Time { return at }, Bids: tracker.BidConfig{On: on}}, nil)
	return New(Config{}, tr), tr
}

func get(h http.Handler, target string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Code, rec.Body.String()
}

func TestBidAnnounceHTTP(t *testing.T) {
	h, _ := bidHandler(true)
	alice, bob, carol := newDest(t), newDest(t), newDest(t)
	ih := strings.Repeat("i", 20)
	for _, c := range []struct {
		d   i2p.Destination
		bid string
	}{{alice, "&bid=500"}, {bob, "&bid=100"}} {
		if code, body := get(h, "/a?info_hash="+ih+"&peer_id=-XX0001-abcdefghijkl&left=5&compact=1&ip="+c.d.Base64()+c.bid); code != 200 || strings.Contains(body, "failure") {
			t.Fatalf("%d %q", code, body)
		}
	}
	q := "/a?info_hash=" + ih + "&peer_id=-XX0001-abcdefghijkl&left=5&ip=" + carol.Base64() + "&bids=top&numbid=2"
	_, body := get(h, q+"&compact=1")
	ah, bh := alice.Hash(), bob.Hash()
	ages := string(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 0), 0))
	amounts := string(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, 500), 100))
	want := "d8:bid ages8:" + ages + "4:bids16:" + amounts + "8:completei0e10:incompletei3e8:intervali1620e5:peers64:" + string(ah[:]) + string(bh[:]) + "e"
	if body != want {
		t.Fatalf("compact bid reply\n%q\nwant\n%q", body, want)
	}
	_, body = get(h, q)
	if !strings.HasPrefix(body, "d8:completei0e10:incompletei3e8:intervali1620e5:peersld3:bidi500e7:bid agei0e2:ip") ||
		!strings.Contains(body, "d3:bidi100e7:bid agei0e2:ip") {
		t.Fatalf("non-compact bid reply %q", body)
	}
	// Bob changes his bid within the minute: refused, and 100 stands.
	get(h, "/a?info_hash="+ih+"&peer_id=-XX0001-abcdefghijkl&left=5&ip="+bob.Base64()+"&bid=900")
	_, body = get(h, "/bids?n=5")
	want = "d6:swarmsld3:agei0e3:bidi500e7:biddersi2e9:info_hash20:" + ih + "eee"
	if body != want {
		t.Fatalf("bid scrape %q, want %q", body, want)
	}
	if _, body = get(h, "/bids?info_hash="+strings.Repeat("x", 20)); body != "d6:swarmslee" {
		t.Fatalf("bid scrape of a swarm without bids %q", body)
	}
	if _, body = get(h, q+"&bid=-1"); !strings.Contains(body, "failure reason") {
		t.Fatalf("a negative bid was taken: %q", body)
	}
}

// TestBidsInvisibleToOldClients: without bid parameters, or with bids
// off, replies are byte for byte what they are without the feature.
func TestBidsInvisibleToOldClients(t *testing.T) {
	alice, bob := newDest(t), newDest(t)
	ih := strings.Repeat("j", 20)
	base := "/a?info_hash=" + ih + "&peer_id=-XX0001-abcdefghijkl&left=5"
	var replies []string
	for _, c := range []struct {
		on     bool
		params string
	}{{false, ""}, {true, ""}, {false, "&bid=7&bids=top&numbid=1"}, {false, "&bid=oops&bids=what"}} {
		h, _ := bidHandler(c.on)
		get(h, base+"&ip="+alice.Base64())
		for _, compact := range []string{"&compact=1", ""} {
			_, body := get(h, base+"&ip="+bob.Base64()+compact+c.params)
			replies = append(replies, body)
		}
		if code, _ := get(h, "/bids"); code != http.StatusNotFound && !c.on {
			t.Fatalf("bids off: /bids answered %d", code)
		}
	}
	for i := 2; i < len(replies); i++ {
		if replies[i] != replies[i%2] {
			t.Fatalf("reply %d differs:\n%q\n%q", i, replies[i], replies[i%2])
		}
	}
}

// FuzzBidParams feeds bid parameters to parseAnnounceQuery and the
// bid parser: either an error, or a bid within the ceiling.
func FuzzBidParams(f *testing.F) {
	for _, seed := range []string{"bid=500", "bid=0&bids=top&numbid=3", "bid=9223372036854775807", "bid=9223372036854775808",
		"bid=-1", "bids=bottom", "numbid=-2", "bid=%35", "bid=&bids=&numbid=", "bid=1e3&bid=2"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var q announceQuery
		if parseAnnounceQuery(raw, &q) != nil {
			return
		}
		var ba tracker.BidAnnounce
		if err := q.bids.parse(&ba); err != nil {
			return
		}
		if ba.Bid > tracker.MaxBid || ba.NumBid < 0 || (!ba.HasBid && ba.Bid != 0) {
			t.Fatalf("%q parsed as %+v", raw, ba)
		}
	})
}

// BenchmarkAnnounceBidsHTTP is BenchmarkAnnounceCompact's announce (a
// 61-peer swarm, half of it bidding) through the handler: with bids off
// and no bid parameters, then with bids on, a restated bid, and the
// highest bidders first.
func BenchmarkAnnounceBidsHTTP(b *testing.B) {
	for _, c := range []struct {
		name   string
		on     bool
		params string
	}{{"off", false, ""}, {"on-bid", true, "&bid=5"}, {"on-bid-top", true, "&bid=5&bids=top"}} {
		b.Run(c.name, func(b *testing.B) {
			h, tr := bidHandler(true)
			t := &testing.T{}
			var first string
			for i := range 60 {
				d := newDest(t)
				if i == 0 {
					first = d.Base64()
				}
				bid := ""
				if i%2 == 0 {
					bid = "&bid=" + strconv.Itoa(i)
				}
				get(h, "/a?info_hash="+strings.Repeat("i", 20)+"&peer_id=-XX0001-abcdefghijkl&left=5&ip="+d.Base64()+bid)
			}
			tr.SetBids(c.on)
			req := httptest.NewRequest(http.MethodGet, "/a?info_hash="+strings.Repeat("i", 20)+"&peer_id=-XX0001-abcdefghijkl&compact=1&left=5&ip="+first+c.params, nil)
			rec := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				rec.Body.Reset()
				h.ServeHTTP(rec, req)
			}
		})
	}
}
