package i2cp_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/internal/i2pdtest"
)

// The integration test runs a real i2pd offline through internal/i2pdtest
// (its package comment lists what running 2.45.1 offline taught). Beside
// that, this test relies on i2pd answering GetDate at any time with
// SetDate, so a short keepalive (1 s here) keeps the link up and proves
// the liveness check does not misfire on a real router.

// TestI2pdInterop: two of our sessions exchange raw, Datagram2 and
// Datagram3 payloads through a real i2pd, and come back after i2pd
// restarts.
func TestI2pdInterop(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test with a real router")
	}
	router := i2pdtest.Start(t, i2pdtest.Options{})
	cfg := func() i2cp.Config {
		return i2cp.Config{Addr: router.I2CP, LegacyLeaseSet: true, Options: i2pdtest.SessionOptions(), KeepAlive: time.Second}
	}
	alice, bob, carol := newKeys(t), newKeys(t), newKeys(t)
	a := startSession(t, alice, cfg())
	b := startSession(t, bob, cfg())
	// Carol publishes the default form, a LeaseSet2 (CreateLeaseSet2 with
	// an X25519 key): 2.45.1 accepts and publishes it, and she can send;
	// nobody sends to her, since the router cannot look a LeaseSet2 up.
	ls2 := cfg()
	ls2.LegacyLeaseSet = false
	c := startSession(t, carol, ls2)
	in := newInbox()
	for _, proto := range []uint8{datagram.ProtocolRaw, datagram.ProtocolDatagram2, datagram.ProtocolDatagram3} {
		b.Handle(proto, 6969, in.handle)
	}

	exchange := func(from *i2cp.Session, proto uint8, payload []byte) {
		t.Helper()
		m := i2cp.Message{Protocol: proto, FromPort: 7000, ToPort: 6969, Payload: payload}
		sends, err := sendUntilDelivered(from, bob.Destination, in, m, 2*time.Second, 60*time.Second)
		if err != nil {
			t.Fatalf("protocol %d through i2pd: %v (b %+v)", proto, err, b.State())
		}
		t.Logf("protocol %d delivered through i2pd after %d sends", proto, sends)
	}
	dg2, err := datagram.AppendDatagram2(nil, alice, bob.Destination.Hash(), nil, []byte("connect"))
	if err != nil {
		t.Fatal(err)
	}
	dg3, _ := datagram.AppendDatagram3(nil, alice.Destination.Hash(), nil, []byte("announce"))
	exchange(a, datagram.ProtocolRaw, []byte("raw through i2pd"))
	exchange(a, datagram.ProtocolDatagram2, dg2)
	exchange(a, datagram.ProtocolDatagram3, dg3)
	exchange(c, datagram.ProtocolRaw, []byte("from a LeaseSet2 session"))
	if st := c.State(); st.Phase != i2cp.PhasePublished {
		t.Fatalf("the LeaseSet2 session is %+v", st)
	}
	var d datagram.Datagram2
	if err := datagram.ParseDatagram2(dg2, bob.Destination.Hash(), time.Now(), &d); err != nil {
		t.Fatal(err)
	}

	// Lookup by hash through the router.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	got, err := a.Lookup(ctx, bob.Destination.Hash())
	cancel()
	if err != nil || got.Hash() != bob.Destination.Hash() {
		t.Fatalf("lookup through i2pd: %v", err)
	}

	// Quiet for several keepalive periods: the link stays up.
	time.Sleep(4 * time.Second)
	if st := b.Stats(); st.RouterSilent != 0 || st.Reconnects != 0 {
		t.Fatalf("link dropped while quiet: %+v", st)
	}

	// The router goes away and comes back: same identities, same handlers.
	router.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for a.State().Phase != i2cp.PhaseDisconnected && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	router.Restart()
	exchange(a, datagram.ProtocolRaw, []byte("after the router restarted"))
	if b.Stats().Reconnects == 0 {
		t.Fatal("no reconnect counted")
	}
}
