package streaming

import (
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/i2p"
)

// attachSession runs an I2CP session on the simulator and attaches a
// Manager to it.
func attachSession(t *testing.T, r *i2cptest.Router) *Manager {
	t.Helper()
	keys, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := i2cp.NewSession(keys, i2cp.Config{Addr: r.Addr(), MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m := RunAttached(t, s, keys, fastConfig(), 10*time.Second)
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := r.WaitPublished(wctx, keys.Destination.Hash()); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestHTTPOverI2CP: net/http serves the Listener of one I2CP session on
// the router simulator (real I2CP over loopback TCP) and an http.Client
// dials it from another; the handler sees the client's Destination.
func TestHTTPOverI2CP(t *testing.T) {
	r, err := i2cptest.NewRouter("127.0.0.1:0", i2cptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	srv, cli := attachSession(t, r), attachSession(t, r)
	l, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "peer="+req.RemoteAddr)
	})}
	hs.SetKeepAlivesEnabled(false)
	go hs.Serve(l)
	defer hs.Close()

	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return Dialer{Manager: cli, Port: 80, Early: true}.Dial(ctx, srv.Destination())
		},
	}}
	for range 3 {
		resp, err := client.Get("http://" + srv.Destination().B32() + "/a")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(body) != "peer="+cli.Destination().B32() {
			t.Fatalf("body %q, %v", body, err)
		}
	}
	waitFor(t, 10*time.Second, "streams to end", func() bool { return srv.Stats().Open == 0 })
	if st := srv.Stats(); st.Accepted != 3 || st.Dropped[DropBadSignature.String()] != 0 {
		t.Fatalf("server stats %+v", st)
	}
}
