package i2cp_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"errors"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/i2p"
)

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pair starts two sessions on r with cfg and returns them with bob's inbox
// (protocol 18, port 6969).
func pair(t *testing.T, r *i2cptest.Router, cfg i2cp.Config) (a, b *i2cp.Session, bob *i2p.PrivateKeys, in *inbox) {
	t.Helper()
	alice := newKeys(t)
	bob = newKeys(t)
	cfg.Addr = r.Addr()
	a = startSession(t, alice, cfg)
	b = startSession(t, bob, cfg)
	in = newInbox()
	b.Handle(18, 6969, in.handle)
	waitPublished(t, r, a)
	waitPublished(t, r, b)
	return a, b, bob, in
}

// TestRouterGoesSilent: a router that stops answering (a hung process, a
// half-open TCP link) is noticed through the keepalive and the session
// reconnects.
func TestRouterGoesSilent(t *testing.T) {
	r := newRouter(t)
	a, _, bob, in := pair(t, r, i2cp.Config{KeepAlive: 50 * time.Millisecond})
	deliver(t, a, bob.Destination, in, "before")
	r.SetMute(true)
	eventually(t, "the silent router noticed", func() bool { return a.Stats().RouterSilent > 0 })
	r.SetMute(false)
	deliver(t, a, bob.Destination, in, "after")
}

// TestKeepAliveKeepsQuietLink: an idle session on a router that answers
// GetDate stays up over many keepalive periods.
func TestKeepAliveKeepsQuietLink(t *testing.T) {
	r := newRouter(t)
	s := startSession(t, newKeys(t), i2cp.Config{Addr: r.Addr(), KeepAlive: 20 * time.Millisecond})
	waitPublished(t, r, s)
	time.Sleep(300 * time.Millisecond) // 15 keepalive periods
	if st := s.Stats(); st.RouterSilent != 0 || st.Reconnects != 0 {
		t.Fatalf("quiet link dropped: %+v", st)
	}
}

// TestGoodbye: a session that is stopped destroys its session at the
// router instead of just dropping the connection.
func TestGoodbye(t *testing.T) {
	r := newRouter(t)
	s, err := i2cp.NewSession(newKeys(t), i2cp.Config{Addr: r.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	waitPublished(t, r, s)
	cancel()
	<-done
	eventually(t, "DestroySession at the router", func() bool { return r.Stats().Destroyed == 1 })
	if st := s.State(); st.Phase != i2cp.PhaseStopped {
		t.Fatalf("state %+v", st)
	}
}

// TestSendTooLarge: a payload that would exceed the router's frame limit
// is refused before it reaches the router (i2pd drops the connection).
func TestSendTooLarge(t *testing.T) {
	r := newRouter(t)
	a, _, bob, in := pair(t, r, i2cp.Config{})
	err := a.Send(bob.Destination, 18, 1, 6969, make([]byte, 65200))
	if !errors.Is(err, i2cp.ErrPayloadTooLarge) || a.Stats().DroppedTooLarge != 1 {
		t.Fatalf("65200-byte payload: %v", err)
	}
	big := bytes.Repeat([]byte{7}, 60000)
	if err := a.Send(bob.Destination, 18, 1, 6969, big); err != nil {
		t.Fatalf("60000-byte payload: %v", err)
	}
	if m := in.next(t); !bytes.Equal(m.Payload, big) {
		t.Fatal("60000-byte payload changed")
	}
	if a.Stats().Reconnects != 0 {
		t.Fatal("link dropped")
	}
}

// TestUnixSocketAndDial: a router on a Unix socket ("unix:/path"), and a
// caller-given dial function (how an in-process router hosts us).
func TestUnixSocketAndDial(t *testing.T) {
	r, err := i2cptest.NewRouter("unix:"+filepath.Join(t.TempDir(), "i2cp.sock"), i2cptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	bob := newKeys(t)
	b := startSession(t, bob, i2cp.Config{Addr: r.Addr()})
	in := newInbox()
	b.Handle(18, 6969, in.handle)
	path := r.Addr()[len("unix:"):]
	var dials atomic.Int32
	a := startSession(t, newKeys(t), i2cp.Config{Dial: func(ctx context.Context) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}})
	waitPublished(t, r, a)
	waitPublished(t, r, b)
	deliver(t, a, bob.Destination, in, "over a unix socket")
	if dials.Load() == 0 {
		t.Fatal("dial func unused")
	}
	r.Stop()
	if err := r.Restart(); err != nil {
		t.Fatal(err)
	}
	deliver(t, a, bob.Destination, in, "after the socket came back")
}

// TestOlderLeaseSetRequest: the router asks with RequestLeaseSet (21); the
// session answers in both LeaseSet forms.
func TestOlderLeaseSetRequest(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		r, err := i2cptest.NewRouter("127.0.0.1:0", i2cptest.Options{LegacyLeaseSetRequest: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		a, _, bob, in := pair(t, r, i2cp.Config{LegacyLeaseSet: legacy})
		deliver(t, a, bob.Destination, in, "answered RequestLeaseSet")
	}
}

// TestLookupByName resolves a registered host name; an unknown one fails;
// many lookups run at once.
func TestLookupByName(t *testing.T) {
	r := newRouter(t)
	s := startSession(t, newKeys(t), i2cp.Config{Addr: r.Addr()})
	waitPublished(t, r, s)
	other := newKeys(t).Destination
	r.RegisterName("tracker.i2p", other)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := make(chan error, 50)
	for range 50 {
		go func() {
			d, err := s.LookupName(ctx, "tracker.i2p")
			if err == nil && d.Hash() != other.Hash() {
				err = errors.New("wrong destination")
			}
			errs <- err
		}()
	}
	for range 50 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.LookupName(ctx, "nobody.i2p"); !errors.Is(err, i2cp.ErrLookupFailed) {
		t.Fatalf("unknown name: %v", err)
	}
	if st := s.Stats(); st.Lookups != 51 || st.LookupFailures != 1 {
		t.Fatalf("lookup counters %+v", st)
	}
}

// offlineKeys makes an identity whose long-term key signed a delegation to
// a transient key until expires, as an offline-signed eepPriv.dat holds.
func offlineKeys(t *testing.T, expires time.Time) *i2p.PrivateKeys {
	t.Helper()
	long := newKeys(t)
	transient, err := i2p.GenerateSigningKey(i2p.SigEd25519, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	o, err := i2p.NewOfflineSignature(long.SigningKey, transient, expires)
	if err != nil {
		t.Fatal(err)
	}
	return &i2p.PrivateKeys{Destination: long.Destination, EncryptionKey: long.EncryptionKey,
		SigningKey: i2p.SigningKey{Type: long.SigningKey.Type, Private: make([]byte, len(long.SigningKey.Private))},
		Offline:    &o, TransientKey: transient}
}

// TestOfflineKeys: an offline-signed identity creates its session (the
// SessionConfig carries the offline signature and is signed by the
// transient key) and publishes a LeaseSet2 with the offline block, both
// verified by the simulator; the older LeaseSet cannot carry one.
func TestOfflineKeys(t *testing.T) {
	r := newRouter(t)
	keys := offlineKeys(t, time.Now().Add(24*time.Hour))
	b := startSession(t, keys, i2cp.Config{Addr: r.Addr()})
	in := newInbox()
	b.Handle(18, 6969, in.handle)
	a := startSession(t, newKeys(t), i2cp.Config{Addr: r.Addr()})
	waitPublished(t, r, a)
	waitPublished(t, r, b)
	deliver(t, a, keys.Destination, in, "to an offline-signed destination")

	if _, err := i2cp.NewSession(keys, i2cp.Config{LegacyLeaseSet: true}); err == nil {
		t.Fatal("offline keys accepted for the older LeaseSet")
	}
	if _, err := i2cp.NewSession(offlineKeys(t, time.Now().Add(-time.Hour)), i2cp.Config{}); err == nil {
		t.Fatal("expired offline signature accepted")
	}
}

// TestCompressedPayloadReachesHandler: a payload compressed as the Java
// client sends everything over 66 bytes arrives decompressed, with its
// protocol and ports, through a real connection.
func TestCompressedPayloadReachesHandler(t *testing.T) {
	r := newRouter(t)
	keys := newKeys(t)
	s := startSession(t, keys, i2cp.Config{Addr: r.Addr()})
	in := newInbox()
	s.Handle(20, 6969, in.handle)
	waitPublished(t, r, s)
	payload := bytes.Repeat([]byte("announce "), 30)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, 3)
	zw.Write(payload)
	zw.Close()
	env := buf.Bytes()
	env[4], env[5], env[6], env[7], env[8], env[9] = 0x30, 0x39, 0x1b, 0x39, 2, 20 // 12345 → 6969, protocol 20
	if len(env) >= len(payload) {
		t.Fatal("test payload did not compress")
	}
	if err := r.Inject(keys.Destination.Hash(), env); err != nil {
		t.Fatal(err)
	}
	m := in.next(t)
	if !bytes.Equal(m.Payload, payload) || m.FromPort != 12345 || m.ToPort != 6969 || m.Protocol != 20 {
		t.Fatalf("got %d bytes, proto %d, ports %d→%d", len(m.Payload), m.Protocol, m.FromPort, m.ToPort)
	}
}

// TestStopWithStuckRouter: an in-process router (net.Pipe through Dial)
// that creates the session and then reads nothing more; Run still returns
// promptly once its context ends, though the writer is blocked.
func TestStopWithStuckRouter(t *testing.T) {
	keys := newKeys(t)
	routerDone, release := make(chan struct{}), make(chan struct{})
	dial := func(context.Context) (net.Conn, error) {
		client, router := net.Pipe()
		go func() {
			defer close(routerDone)
			br := bufio.NewReader(router)
			if _, err := br.ReadByte(); err != nil {
				return
			}
			for {
				typ, _, err := i2cp.ReadFrame(br, nil)
				if err != nil {
					return
				}
				switch typ {
				case i2cp.TypeGetDate:
					router.Write(i2cp.AppendSetDate(nil, i2cp.SetDate{Date: time.Now(), Version: i2cp.ProtocolVersion}))
				case i2cp.TypeCreateSession:
					router.Write(i2cp.AppendSessionStatus(nil, 1, i2cp.StatusCreated))
					<-release // stuck: reads nothing more until the test ends
					router.Close()
					return
				}
			}
		}()
		return client, nil
	}
	s, err := i2cp.NewSession(keys, i2cp.Config{Dial: dial})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	eventually(t, "session up", func() bool { return s.State().Phase == i2cp.PhaseSessionUp })
	for range 100 {
		s.Send(keys.Destination, 18, 1, 2, make([]byte, 1000))
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return with the router stuck")
	}
	close(release)
	<-routerDone
}

// TestHandlerPanicRecovered: a handler that panics loses its message,
// is counted, and the reader goes on delivering to the others.
func TestHandlerPanicRecovered(t *testing.T) {
	r := newRouter(t)
	a, b, bob, in := pair(t, r, i2cp.Config{})
	b.Handle(18, 7000, func(*i2cp.Message) { panic("handler bug") })
	for range 3 {
		if err := a.Send(bob.Destination, 18, 1, 7000, []byte("boom")); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "three panics counted", func() bool { return b.Stats().HandlerPanics == 3 })
	deliver(t, a, bob.Destination, in, "after")
	if st := b.Stats(); st.Reconnects != 0 {
		t.Fatalf("the session reconnected %d times", st.Reconnects)
	}
}
