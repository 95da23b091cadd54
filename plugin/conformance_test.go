package plugin

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/simclient"
	"github.com/go-i2p/go-opentracker/tracker/udptracker"
)

// TestUDPConformance runs every proposal-160 rule end to end: real
// Datagram2/3 from distinct identities, through the router simulator over
// TCP, into the running plugin. Rules that answer are checked by their
// reply; rules that drop are checked by the counter of their reason and
// by the absence of a reply.
func TestUDPConformance(t *testing.T) {
	e := start(t, t.TempDir(), newRouter(t))
	tracker := e.plugin.Identity().Destination
	alice, _ := e.net.NewClient(6880, true)
	if err := alice.Connect(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	dg2 := func(c *simclient.Client, to i2p.Hash, payload []byte) []byte {
		b, err := datagram.AppendDatagram2(nil, c.Keys, to, nil, payload)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	dg3 := func(from i2p.Hash, payload []byte) []byte {
		b, _ := datagram.AppendDatagram3(nil, from, nil, payload)
		return b
	}
	announce := func(cid uint64, tx uint32) []byte {
		return udptracker.AppendAnnounceRequest(nil, &udptracker.Announce{Header: udptracker.Header{ConnectionID: cid, TransactionID: tx}, NumWant: -1})
	}

	answered := []struct {
		name     string
		protocol uint8
		payload  []byte
		action   uint32
		message  string
	}{
		{"connect as Datagram2", datagram.ProtocolDatagram2, dg2(alice, tracker.Hash(), udptracker.AppendConnectRequest(nil, alice.Tx())), udptracker.ActionConnect, ""},
		{"announce as Datagram3", datagram.ProtocolDatagram3, dg3(alice.Hash(), announce(alice.ConnID, alice.Tx())), udptracker.ActionAnnounce, ""},
		{"scrape as Datagram3", datagram.ProtocolDatagram3, dg3(alice.Hash(), udptracker.AppendScrapeRequest(nil, alice.ConnID, alice.Tx(), [20]byte{1})), udptracker.ActionScrape, ""},
		{"connect as Datagram3", datagram.ProtocolDatagram3, dg3(alice.Hash(), udptracker.AppendConnectRequest(nil, alice.Tx())), udptracker.ActionError, "Datagram2"},
		{"announce as Datagram2", datagram.ProtocolDatagram2, dg2(alice, tracker.Hash(), announce(alice.ConnID, alice.Tx())), udptracker.ActionError, "Datagram3"},
		{"bad connection id", datagram.ProtocolDatagram3, dg3(alice.Hash(), announce(alice.ConnID^1, alice.Tx())), udptracker.ActionError, "connection ID"},
		{"unknown action", datagram.ProtocolDatagram3, dg3(alice.Hash(), func() []byte {
			b := udptracker.AppendScrapeRequest(nil, alice.ConnID, alice.Tx(), [20]byte{1})
			binary.BigEndian.PutUint32(b[8:], 7)
			return b
		}()), udptracker.ActionError, "unknown action"},
	}
	for _, c := range answered {
		t.Run(c.name, func(t *testing.T) {
			r, err := alice.Request(ctx5(t), c.protocol, mustPayload(t, tracker.Hash(), c.protocol, c.payload))
			if err != nil {
				t.Fatal(err)
			}
			if r.FromPort != 6969 || r.ToPort != alice.Port {
				t.Fatalf("reply sent from %d to %d", r.FromPort, r.ToPort)
			}
			if got := binary.BigEndian.Uint32(r.Payload); got != c.action || !strings.Contains(string(r.Payload[8:]), c.message) {
				t.Fatalf("action %d %q, want %d with %q", got, r.Payload[8:], c.action, c.message)
			}
		})
	}

	ghost, _ := e.net.NewClient(6882, false)
	dropped := []struct {
		name             string
		protocol         uint8
		fromPort, toPort uint16
		payload          []byte
		reason           string
	}{
		{"Datagram1 on the tracker port", datagram.ProtocolDatagram1, 6880, 6969, []byte("repliable but replayable"), "datagram1"},
		{"another port", datagram.ProtocolDatagram3, 6880, 6970, dg3(alice.Hash(), announce(alice.ConnID, 1)), ""},
		{"from-port 0", datagram.ProtocolDatagram3, 0, 6969, dg3(alice.Hash(), announce(alice.ConnID, 1)), "from_port_zero"},
		{"all-zero sender", datagram.ProtocolDatagram3, 6880, 6969, dg3(i2p.Hash{}, announce(alice.ConnID, 1)), "zero_sender"},
		{"Datagram2 for another receiver", datagram.ProtocolDatagram2, 6880, 6969, dg2(alice, i2p.HashOf([]byte("x")), udptracker.AppendConnectRequest(nil, 1)), "bad_signature"},
		{"unknown sender that cannot be looked up", datagram.ProtocolDatagram3, 6882, 6969, dg3(ghost.Hash(), announce(0, 1)), "lookup_failed"},
	}
	for _, c := range dropped {
		t.Run(c.name, func(t *testing.T) {
			before := e.plugin.udp.Stats().Snapshot()
			sess := e.plugin.Session().Stats()
			if err := injectRaw(e, c.protocol, c.fromPort, c.toPort, c.payload); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(15 * time.Second)
			for {
				after := e.plugin.udp.Stats().Snapshot()
				if c.reason == "" {
					if e.plugin.Session().Stats().DroppedUnclaimed > sess.DroppedUnclaimed {
						break // no handler on that port: counted by the session
					}
				} else if after.Drops[c.reason] > before.Drops[c.reason] {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not counted as %q: %v", c.reason, after.Drops)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if n := e.net.Unmatched.Load(); n != 0 {
				t.Fatalf("%d unexpected replies", n)
			}
		})
	}
}

// mustPayload strips the datagram framing back off for Request, which
// frames by protocol itself.
func mustPayload(t *testing.T, to i2p.Hash, protocol uint8, dg []byte) []byte {
	t.Helper()
	switch protocol {
	case datagram.ProtocolDatagram3:
		var d datagram.Datagram3
		if err := datagram.ParseDatagram3(dg, &d); err != nil {
			t.Fatal(err)
		}
		return d.Payload
	case datagram.ProtocolDatagram2:
		var d datagram.Datagram2
		if err := datagram.ParseDatagram2(dg, to, time.Now(), &d); err != nil {
			t.Fatal(err)
		}
		return d.Payload
	}
	return dg
}

func injectRaw(e *env, protocol uint8, fromPort, toPort uint16, dg []byte) error {
	return e.host.router.Inject(e.plugin.Identity().Destination.Hash(), envelope(protocol, fromPort, toPort, dg))
}
