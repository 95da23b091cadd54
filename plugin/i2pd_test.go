package plugin

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A minimal offline i2pd 2.45.1 for the plugin's reach test, started
// from ../i2cp/testdata/i2pd-offline.conf with free ports and SAM on.
// (A shared harness, internal/i2pdtest, is on its way; until it lands
// this copy is the plugin's own.)

type i2pdRouter struct {
	i2cp, samTCP, samUDP string
	logPath              string
	cmd                  *exec.Cmd
}

func freeTCP(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startI2pd(t *testing.T) *i2pdRouter {
	t.Helper()
	bin, err := exec.LookPath("i2pd")
	if err != nil {
		if bin = "/usr/sbin/i2pd"; func() bool { _, err := os.Stat(bin); return err != nil }() {
			t.Skip("i2pd not installed")
		}
	}
	tmpl, err := os.ReadFile("../i2cp/testdata/i2pd-offline.conf")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// 2.45.1 takes SAM's datagrams on the UDP port below its TCP port.
	sam := freeTCP(t)
	r := &i2pdRouter{i2cp: fmt.Sprintf("127.0.0.1:%d", freeTCP(t)), samTCP: fmt.Sprintf("127.0.0.1:%d", sam),
		samUDP: fmt.Sprintf("127.0.0.1:%d", sam-1), logPath: filepath.Join(dir, "i2pd.log")}
	port := func(a string) string { return a[strings.LastIndexByte(a, ':')+1:] }
	conf := strings.ReplaceAll(string(tmpl), "@DIR@", dir)
	conf = strings.Replace(conf, "port = 17901", fmt.Sprintf("port = %d", freeTCP(t)), 1)
	conf = strings.Replace(conf, "port = 7654", "port = "+port(r.i2cp), 1)
	conf = strings.Replace(conf, "port = 7656", "port = "+port(r.samTCP), 1)
	for _, d := range []string{"data", "tunnels.d"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "tunnels.conf"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "i2pd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(bin, "--conf="+filepath.Join(dir, "i2pd.conf"), "--datadir="+filepath.Join(dir, "data"))
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := os.Create(filepath.Join(dir, "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	r.cmd.Stdout, r.cmd.Stderr = out, out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { r.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second): // 2.45.1 can hang on SIGTERM with sessions open
			_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "stdout.log"))
			t.Logf("i2pd output:\n%s\nlog:\n%s", b, r.logTail())
		}
	})
	waitFor(t, 30*time.Second, "i2pd's I2CP port", func() bool {
		c, err := net.DialTimeout("tcp", r.i2cp, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return r
}

func (r *i2pdRouter) logTail() string {
	b, _ := os.ReadFile(r.logPath)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

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
	router := startI2pd(t)
	logs := &records{}
	cfg := DefaultConfig()
	cfg.TunnelLength, cfg.TunnelQuantity = 0, 1
	h := &i2pdHost{dir: t.TempDir(), addr: router.i2cp, mux: http.NewServeMux()}
	p, err := New(h, Options{Logger: slog.New(logs), I2CPAddr: router.i2cp, Config: &cfg})
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
		t.Fatalf("not reachable: %v: %s: %s (%+v)\n%s", err, state, detail, p.ReachStats(), router.logTail())
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
func samRawArrives(t *testing.T, router *i2pdRouter, p *Plugin, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	c, err := net.DialTimeout("tcp", router.samTCP, 5*time.Second)
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
	u, err := net.Dial("udp", router.samUDP)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	dg := []byte("3.0 reachtest " + p.Identity().Destination.Base64() + "\nhello from SAM")
	before := p.ReachStats().Stray
	sent, begin := 0, time.Now()
	for p.ReachStats().Stray == before {
		if time.Now().After(deadline) {
			t.Fatalf("no SAM RAW datagram arrived in %s (%d sent)\n%s", d, sent, router.logTail())
		}
		if _, err := u.Write(dg); err != nil {
			t.Fatal(err)
		}
		sent++
		time.Sleep(2 * time.Second)
	}
	t.Logf("a SAM RAW datagram arrived %s after the SAM session was made (%d sent)", time.Since(begin).Round(time.Millisecond), sent)
}
