package i2pdtest

import (
	"bufio"
	"context"
	"net"
	"os"
	"testing"
	"time"
)

// TestStart: the router opens I2CP, SAM (which answers HELLO) and the
// HTTP proxy on the ports it was given.
func TestStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real router")
	}
	r := Start(t, Options{HTTPProxy: true})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := samHello(ctx, r.SAM, time.Now().Add(10*time.Second))
	if err != nil {
		t.Fatalf("SAM HELLO: %v", err)
	}
	c.Close()
	for _, addr := range []string{r.I2CP, r.HTTPProxy} {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	r.Stop()
	if c, err := net.DialTimeout("tcp", r.I2CP, time.Second); err == nil {
		c.Close()
		t.Fatal("I2CP still open after Stop")
	}
}

// TestSAMReplyParse: a reply that is not RESULT=OK is an error carrying
// the reply.
func TestSAMReplyParse(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	go func() {
		r := bufio.NewReader(b)
		r.ReadString('\n')
		b.Write([]byte("HELLO REPLY RESULT=NOVERSION\n"))
		b.Close()
	}()
	if _, err := samCommand(a, bufio.NewReader(a), time.Now().Add(5*time.Second), "HELLO VERSION MIN=9.0 MAX=9.1"); err == nil {
		t.Fatal("NOVERSION taken for OK")
	}
}

// TestConfigCopy keeps testdata's router config equal to the shared one
// when the shared directory is beside the repository.
func TestConfigCopy(t *testing.T) {
	shared, err := os.ReadFile("../../../shared/i2pd/i2pd-offline.conf")
	if err != nil {
		t.Skip("shared/ not beside the repository")
	}
	if string(shared) != offlineConf {
		t.Fatal("testdata/i2pd-offline.conf differs from shared/i2pd/i2pd-offline.conf: copy it again")
	}
}
