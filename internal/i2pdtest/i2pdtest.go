// Package i2pdtest runs a real i2pd offline for integration tests.
//
// Start launches Debian's i2pd (2.45.1) as its own only floodfill, from
// testdata/i2pd-offline.conf (a copy of shared/i2pd/i2pd-offline.conf)
// with free loopback ports for NTCP2, I2CP, SAM and, if asked, the HTTP
// proxy, and optional tunnels.conf content. Tests skip when i2pd is not
// installed, unless GO_OPENTRACKER_REQUIRE_I2PD is set: then they fail.
//
// What running it taught (see the config file's header too): only
// zero-hop tunnels become ready offline; 2.45.1 cannot look LeaseSet2s up
// locally, so every destination that must be reached publishes the older
// LeaseSet (I2CP: i2cp.Config.LegacyLeaseSet; SAM and tunnels:
// i2cp.leaseSetType=1); the router asks for a LeaseSet 5-12 s after a
// session is created, and the first message between two fresh
// destinations waits on a lookup, so first sends must be retried; SIGTERM
// can hang with sessions open, so Stop sends SIGKILL after a grace period.
package i2pdtest

import (
	_ "embed"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

//go:embed testdata/i2pd-offline.conf
var offlineConf string

// RequireEnv names the variable that turns a missing i2pd from a skip
// into a failure.
const RequireEnv = "GO_OPENTRACKER_REQUIRE_I2PD"

// LogLevelEnv names the variable that sets i2pd's loglevel (debug, say)
// for tests that leave Options.LogLevel empty.
const LogLevelEnv = "GO_OPENTRACKER_I2PD_LOGLEVEL"

// OfflineTunnel holds the lines every tunnels.conf section needs on this
// router: an Ed25519 key, zero-hop tunnels and a legacy LeaseSet with an
// ElGamal key. The encryption type matters for server tunnels, which
// default to X25519 only: with that i2pd publishes a LeaseSet2 whatever
// i2cp.leaseSetType says, and 2.45.1 cannot look it up.
const OfflineTunnel = `signaturetype = 7
inbound.length = 0
outbound.length = 0
inbound.quantity = 1
outbound.quantity = 1
i2cp.leaseSetType = 1
i2cp.leaseSetEncType = 0
`

// SessionOptions returns the I2CP session options a client of this
// router needs: zero-hop tunnels, one each way.
func SessionOptions() i2p.Mapping {
	return i2p.Mapping{
		{Key: "inbound.length", Value: "0"}, {Key: "outbound.length", Value: "0"},
		{Key: "inbound.quantity", Value: "1"}, {Key: "outbound.quantity", Value: "1"},
	}
}

// Options shape the router.
type Options struct {
	// Tunnels is the content of tunnels.conf: client and server tunnels.
	// Relative key file names are in DataDir.
	Tunnels string
	// HTTPProxy enables the HTTP proxy, with zero-hop tunnels, a legacy
	// LeaseSet and its keys in DataDir/httpproxy.dat.
	HTTPProxy bool
	// LogLevel is i2pd's loglevel: if empty, the LogLevelEnv variable's
	// value, else warn.
	LogLevel string
}

// Router is a running i2pd.
type Router struct {
	I2CP      string // host:port of I2CP
	SAM       string // host:port of SAM
	SAMUDP    string // host:port where 2.45.1 takes SAM datagrams: SAM's port - 1
	HTTPProxy string // host:port of the HTTP proxy, if enabled
	Dir       string // the config directory
	DataDir   string // i2pd's datadir: key files of tunnels
	LogPath   string

	t   testing.TB
	bin string
	cmd *exec.Cmd
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Binary returns the path of i2pd, or skips (fails with RequireEnv set).
func Binary(t testing.TB) string {
	t.Helper()
	if bin, err := exec.LookPath("i2pd"); err == nil {
		return bin
	}
	const bin = "/usr/sbin/i2pd"
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("i2pd is not installed (apt-get install i2pd) and %s is set", RequireEnv)
	}
	t.Skip("i2pd not installed")
	return ""
}

// Start runs i2pd until the test ends and waits for its I2CP and SAM
// ports. On failure the test's log gets the tail of i2pd's log.
func Start(t testing.TB, opt Options) *Router {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	r := &Router{t: t, bin: bin, Dir: dir, DataDir: filepath.Join(dir, "data"), LogPath: filepath.Join(dir, "i2pd.log"),
		I2CP: loopback(FreePort(t))}
	sam := FreePort(t)
	r.SAM, r.SAMUDP = loopback(sam), loopback(sam-1)
	conf := r.config(t, opt)
	for _, d := range []string{r.DataDir, filepath.Join(dir, "tunnels.d")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "tunnels.conf"), []byte(opt.Tunnels), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "i2pd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Stop()
		if t.Failed() {
			t.Logf("i2pd log (%s):\n%s", r.LogPath, r.LogTail(6000))

		}
	})
	r.Restart()
	return r
}

func loopback(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

func port(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

// config fills the template in: directories, ports, sections enabled.
func (r *Router) config(t testing.TB, opt Options) string {
	t.Helper()
	conf := strings.ReplaceAll(offlineConf, "@DIR@", r.Dir)
	replace := func(old, new string) {
		if !strings.Contains(conf, old) {
			t.Fatalf("i2pd config template has no %q", old)
		}
		conf = strings.Replace(conf, old, new, 1)
	}
	replace("port = 17901", "port = "+port(loopback(FreePort(t))))
	replace("[sam]\nenabled = true\naddress = 127.0.0.1\nport = 7656", "[sam]\nenabled = true\naddress = 127.0.0.1\nport = "+port(r.SAM))
	replace("[i2cp]\nenabled = true\naddress = 127.0.0.1\nport = 7654", "[i2cp]\nenabled = true\naddress = 127.0.0.1\nport = "+port(r.I2CP))
	if opt.LogLevel == "" {
		opt.LogLevel = os.Getenv(LogLevelEnv)
	}
	if opt.LogLevel != "" {
		replace("loglevel = warn", "loglevel = "+opt.LogLevel)
	}
	if opt.HTTPProxy {
		r.HTTPProxy = loopback(FreePort(t))
		replace("[httpproxy]\nenabled = false", "[httpproxy]\nenabled = true\naddress = 127.0.0.1\nport = "+port(r.HTTPProxy)+
			"\nkeys = httpproxy.dat\naddresshelper = false\ninbound.length = 0\noutbound.length = 0\n"+
			"inbound.quantity = 1\noutbound.quantity = 1\ni2cp.leaseSetType = 1")
	}
	return conf
}

// Restart starts i2pd again after Stop (Start has started it once).
func (r *Router) Restart() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--conf="+filepath.Join(r.Dir, "i2pd.conf"), "--datadir="+r.DataDir)
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := os.OpenFile(filepath.Join(r.Dir, "stdout.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		r.t.Fatal(err)
	}
	defer out.Close()
	r.cmd.Stdout, r.cmd.Stderr = out, out
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start i2pd: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range []string{r.I2CP, r.SAM, r.HTTPProxy} {
		for addr != "" {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				r.t.Fatalf("i2pd did not open %s: %v\n%s", addr, err, r.LogTail(4000))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// Stop ends i2pd: SIGTERM, then SIGKILL to its process group after 3 s.
func (r *Router) Stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	r.cmd = nil
}

// LogTail returns the last n bytes of i2pd's log.
func (r *Router) LogTail(n int) string {
	b, _ := os.ReadFile(r.LogPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// KeyDestination waits up to d for i2pd to write a key file (a tunnel's
// keys, relative to DataDir) and returns the Destination it holds: i2pd
// writes the Destination first.
func (r *Router) KeyDestination(name string, d time.Duration) (i2p.Destination, error) {
	deadline := time.Now().Add(d)
	for {
		b, err := os.ReadFile(filepath.Join(r.DataDir, name))
		if err == nil {
			dest, _, err := i2p.ParseDestination(b)
			if err != nil {
				return i2p.Destination{}, fmt.Errorf("i2pdtest: key file %s: %w", name, err)
			}
			return dest, nil
		}
		if time.Now().After(deadline) {
			return i2p.Destination{}, fmt.Errorf("i2pdtest: no key file %s: %w", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
