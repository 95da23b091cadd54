package plugin

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/internal/i2pdtest"
)

// i2pdHost is a Host whose router is a real i2pd.
type i2pdHost struct {
	dir, addr string
	mux       *http.ServeMux
}

func (h *i2pdHost) DialI2CP(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", h.addr)
}
func (h *i2pdHost) DataDir() string              { return h.dir }
func (h *i2pdHost) MountTracker(hd http.Handler) { h.mux.Handle("/", hd) }
func (h *i2pdHost) MountConsole(hd http.Handler) { h.mux.Handle("/console/", hd) }

// TestI2pdReachesOnItsOwn: beside Debian's i2pd 2.45.1, offline, with
// default settings but the zero-hop tunnels an offline router needs, the
// tracker publishes a LeaseSet2, finds it unreached, republishes the
// older LeaseSet by itself and ends reachable; a SAM RAW datagram from a
// client of the same i2pd then arrives.
func TestI2pdReachesOnItsOwn(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test with a real router")
	}
	router := i2pdtest.Start(t, i2pdtest.Options{})
	logs := &records{}
	cfg := DefaultConfig()
	cfg.TunnelLength, cfg.TunnelQuantity = 0, 1
	h := &i2pdHost{dir: t.TempDir(), addr: router.I2CP, mux: http.NewServeMux()}
	p, err := New(h, Options{Logger: slog.New(logs), I2CPAddr: router.I2CP, Config: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer p.Stop(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 75*time.Second)
	defer cancel()
	if err := p.WaitReachable(ctx); err != nil {
		state, detail := p.RouterState()
		t.Fatalf("not reachable: %v: %s: %s (%+v)\n%s", err, state, detail, p.ReachStats(), router.LogTail(3000))
	}
	t.Logf("reachable %s after start (%+v)", time.Since(start).Round(time.Millisecond), p.ReachStats())
	if rs := p.ReachStats(); rs.Fallbacks != 1 || !p.Session().LegacyLeaseSet() {
		t.Fatalf("reached on i2pd 2.45.1 without the fallback: %+v", rs)
	}
	if _, detail := p.RouterState(); !strings.Contains(detail, "republished the older LeaseSet") {
		t.Fatalf("the console does not say what auto did: %q", detail)
	}
	samRawArrives(t, router, p, 45*time.Second)
}

// samRawArrives sends SAM RAW datagrams from a fresh SAM session of
// router to the tracker until one arrives (counted as a raw datagram
// that is no probe) or d passes.
func samRawArrives(t *testing.T, router *i2pdtest.Router, p *Plugin, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	c, err := net.DialTimeout("tcp", router.SAM, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(deadline)
	br := bufio.NewReader(c)
	ask := func(line string) string {
		t.Helper()
		if _, err := fmt.Fprintf(c, "%s\n", line); err != nil {
			t.Fatal(err)
		}
		reply, err := br.ReadString('\n')
		if err != nil || !strings.Contains(reply, "RESULT=OK") {
			t.Fatalf("SAM %q: %q %v", line, reply, err)
		}
		return reply
	}
	ask("HELLO VERSION MIN=3.0 MAX=3.1")
	ask("SESSION CREATE STYLE=RAW ID=reachtest DESTINATION=TRANSIENT inbound.length=0 outbound.length=0 inbound.quantity=1 outbound.quantity=1")
	u, err := net.Dial("udp", router.SAMUDP)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	dg := []byte("3.0 reachtest " + p.Identity().Destination.Base64() + "\nhello from SAM")
	before := p.ReachStats().Stray
	sent, begin := 0, time.Now()
	for p.ReachStats().Stray == before {
		if time.Now().After(deadline) {
			t.Fatalf("no SAM RAW datagram arrived in %s (%d sent)\n%s", d, sent, router.LogTail(3000))
		}
		if _, err := u.Write(dg); err != nil {
			t.Fatal(err)
		}
		sent++
		time.Sleep(2 * time.Second)
	}
	t.Logf("a SAM RAW datagram arrived %s after the SAM session was made (%d sent)", time.Since(begin).Round(time.Millisecond), sent)
}
