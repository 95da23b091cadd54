package i2cp_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2p"
)

// The integration test runs a real i2pd (Debian's 2.45.1) offline, as its
// own only floodfill, started from testdata/i2pd-offline.conf (a copy of
// shared/i2pd/i2pd-offline.conf; TestI2pdConfigCopy keeps them equal) with
// free ports. What we learned running it (see that file's header too):
//   - only zero-hop tunnels become ready offline;
//   - 2.45.1 cannot look up LeaseSet2s locally, so the sessions that
//     receive publish the older LeaseSet (LegacyLeaseSet) with an ElGamal
//     key; a session with the default LeaseSet2 is accepted, published and
//     can send;
//   - the router asks for the LeaseSet 5-12 s after the session is created,
//     and the first message between two fresh sessions waits on a lookup
//     the router answers itself, so the first sends are retried;
//   - SIGTERM can hang while sessions are open: stop with SIGKILL after a
//     grace period;
//   - it answers GetDate at any time with SetDate, so a short keepalive
//     (1 s here) keeps the link up and proves the liveness check does not
//     misfire on a real router.

const i2pdConfig = "testdata/i2pd-offline.conf"

type i2pd struct {
	t       *testing.T
	dir     string
	i2cp    string
	cmd     *exec.Cmd
	bin     string
	logPath string
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startI2pd(t *testing.T) *i2pd {
	t.Helper()
	bin, err := exec.LookPath("i2pd")
	if err != nil {
		bin = "/usr/sbin/i2pd"
		if _, err := os.Stat(bin); err != nil {
			if os.Getenv("GO_OPENTRACKER_REQUIRE_I2PD") != "" {
				t.Fatal("i2pd is not installed (apt-get install i2pd)")
			}
			t.Skip("i2pd not installed")
		}
	}
	tmpl, err := os.ReadFile(i2pdConfig)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := &i2pd{t: t, dir: dir, i2cp: fmt.Sprintf("127.0.0.1:%d", freePort(t)), logPath: filepath.Join(dir, "i2pd.log")}
	conf := strings.ReplaceAll(string(tmpl), "@DIR@", dir)
	conf = strings.Replace(conf, "port = 17901", fmt.Sprintf("port = %d", freePort(t)), 1)
	conf = strings.Replace(conf, "port = 7654", fmt.Sprintf("port = %s", strings.Split(p.i2cp, ":")[1]), 1)
	// We speak I2CP only; SAM stays off so no fixed port can collide.
	conf = strings.Replace(conf, "[sam]\nenabled = true", "[sam]\nenabled = false", 1)
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "tunnels.d"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tunnels.conf"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "i2pd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	p.bin = bin
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *i2pd) start() {
	p.t.Helper()
	p.cmd = exec.Command(p.bin, "--conf="+filepath.Join(p.dir, "i2pd.conf"), "--datadir="+filepath.Join(p.dir, "data"))
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, _ := os.Create(filepath.Join(p.dir, "stdout.log"))
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.i2cp, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(p.logPath)
			p.t.Fatalf("i2pd did not open I2CP on %s: %v\n%s", p.i2cp, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *i2pd) stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	p.cmd = nil
}

// TestI2pdInterop: two of our sessions exchange raw, Datagram2 and
// Datagram3 payloads through a real i2pd, and come back after i2pd
// restarts.
func TestI2pdInterop(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test with a real router")
	}
	router := startI2pd(t)
	cfg := func() i2cp.Config {
		return i2cp.Config{Addr: router.i2cp, LegacyLeaseSet: true, Options: offlineOptions(), KeepAlive: time.Second}
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
			log, _ := os.ReadFile(router.logPath)
			t.Fatalf("protocol %d through i2pd: %v (b %+v)\n%s", proto, err, b.State(), tail(log))
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
	router.stop()
	deadline := time.Now().Add(10 * time.Second)
	for a.State().Phase != i2cp.PhaseDisconnected && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	router.start()
	exchange(a, datagram.ProtocolRaw, []byte("after the router restarted"))
	if b.Stats().Reconnects == 0 {
		t.Fatal("no reconnect counted")
	}
}

func offlineOptions() i2p.Mapping {
	return i2p.Mapping{
		{Key: "inbound.length", Value: "0"}, {Key: "outbound.length", Value: "0"},
		{Key: "inbound.quantity", Value: "1"}, {Key: "outbound.quantity", Value: "1"},
	}
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// TestI2pdConfigCopy keeps testdata's router config equal to the shared
// one when the shared directory is beside the repository.
func TestI2pdConfigCopy(t *testing.T) {
	shared, err := os.ReadFile("../../shared/i2pd/i2pd-offline.conf")
	if err != nil {
		t.Skip("shared/ not beside the repository")
	}
	ours, err := os.ReadFile(i2pdConfig)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours, shared) {
		t.Fatal("testdata/i2pd-offline.conf differs from shared/i2pd/i2pd-offline.conf: copy it again")
	}
}
