package plugin

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/internal/simclient"
	"github.com/go-i2p/go-opentracker/tracker/udptracker"
)

// TestBidsSettingLive: the bids setting turns bids on while the tracker
// runs, and /metrics then reports the bid index.
func TestBidsSettingLive(t *testing.T) {
	e := start(t, t.TempDir(), newRouter(t))
	if e.plugin.Tracker().BidsEnabled() {
		t.Fatal("bids on by default")
	}
	// Off, /bids is any other page path.
	c1, b1 := get(t, e.http.URL+"/bids")
	if c2, b2 := get(t, e.http.URL+"/bidz"); c1 != c2 || b1 != b2 {
		t.Fatalf("bids off: /bids answered %d %q, another path %d %q", c1, b1, c2, b2)
	}
	if restart, err := e.plugin.applySetting("bids", "true"); err != nil || restart {
		t.Fatalf("bids: restart %v, err %v", restart, err)
	}
	if !e.plugin.Tracker().BidsEnabled() {
		t.Fatal("the setting did not turn bids on")
	}
	resp, err := http.Get(e.consoleURL + "metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"opentracker_bids 0", `opentracker_bid_events_total{event="refused_too_soon"} 0`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	// End to end over simulated I2CP: alice bids over UDP, bob asks for
	// the highest bidder, and a seeder finds the torrent by bid scrape.
	info := [20]byte{0xb1}
	alice, _ := e.net.NewClient(6880, true)
	bob, _ := e.net.NewClient(6881, true)
	var replies [][]byte
	for _, c := range []struct {
		cl *simclient.Client
		o  udptracker.BidOption
	}{{alice, udptracker.BidOption{Flags: udptracker.BidFlagHasBid, Bid: 4242}}, {bob, udptracker.BidOption{Flags: udptracker.BidFlagTop, NumBid: 1}}} {
		if err := c.cl.Connect(ctx5(t)); err != nil {
			t.Fatal(err)
		}
		a := udptracker.Announce{Header: udptracker.Header{ConnectionID: c.cl.ConnID, TransactionID: c.cl.Tx()}, InfoHash: info, Left: 1, NumWant: -1, Port: 6881}
		r, err := c.cl.Request(ctx5(t), datagram.ProtocolDatagram3, udptracker.AppendBidOption(udptracker.AppendAnnounceRequest(nil, &a), c.o))
		if err != nil {
			t.Fatal(err)
		}
		replies = append(replies, r.Payload)
	}
	hashes, ext := udptracker.SplitAnnounceReply(replies[1][20:])
	bids, ok := udptracker.ParseBidBlock(ext)
	ah := alice.Hash()
	if string(hashes) != string(ah[:]) || !ok || len(bids) != 1 || bids[0].Amount != 4242 {
		t.Fatalf("bob's reply: peers %x, bids %+v (ok %v)", hashes, bids, ok)
	}
	resp, err = http.Get(e.http.URL + "/bids?n=1&info_hash=" + url.QueryEscape(string(info[:])))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "d6:swarmsld3:agei0e3:bidi4242e7:biddersi1e9:info_hash20:" + string(info[:]) + "eee"; string(b) != want {
		t.Fatalf("bid scrape %q, want %q", b, want)
	}
}
