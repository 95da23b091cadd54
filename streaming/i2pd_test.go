package streaming_test

// The i2pd interop tests run our streaming Listener, on an I2CP session
// of a real i2pd 2.45.1 offline (internal/i2pdtest), under an http.Server
// with keep-alives off, and reach it the ways clients do: SAM STREAM
// CONNECT with libtorrent's exact announce (an Ed25519 and a DSA-SHA1
// client), an i2pd client tunnel, and i2pd's HTTP proxy (the request in
// the SYN, to port 80). Our Dialer also talks to an i2pd HTTP server
// tunnel, which answers with an empty SYN reply and then data. All cases
// share one router and run in parallel; each logs how long it took.
//
// What running them taught (i2pd's side read with
// GO_OPENTRACKER_I2PD_LOGLEVEL=debug):
//   - i2pd server tunnels default to i2cp.leaseSetEncType=4, and with only
//     an X25519 key i2pd publishes a LeaseSet2 even with
//     i2cp.leaseSetType=1; 2.45.1 cannot look that up, so our Dialer's
//     SYNs went out and nothing ever came back. Tunnels here set
//     i2cp.leaseSetEncType=0 (i2pdtest.OfflineTunnel); client tunnels,
//     the proxy and SAM default to "0,4" and publish the legacy LeaseSet.
//   - Through the HTTP proxy (request in the SYN, toPort 80) an exchange
//     is one round trip: our SYN·CLOSE·SIG·FROM·DELAY·MTU reply (0xeb)
//     carries the response, i2pd answers with its CLOSE and forgets the
//     stream at once, so our ACK of that CLOSE meets "Unknown stream"
//     (harmless; i2pd also logs "Unexpected stream status=5"). The 429 of
//     a rate limit rides the same way and reaches the proxy's client.
//   - SAM and the client tunnel send an empty SYN (flags 0x04a9 from
//     2.45.1, no target hash) and the request after it; the DSA-SHA1
//     client of a SESSION CREATE without SIGNATURE_TYPE verifies.
//   - An i2pd server tunnel sends its empty SYN reply at once, then the
//     response and its CLOSE; it never acknowledges a CLOSE that comes
//     after its own, so our Dialer's CLOSE goes out three times
//     (closeResendsAfterPeerClose) and the stream ends two RTOs later.
//   - SAM SESSION CREATE answers after about 20 s (2.45.1 checks tunnel
//     readiness on a timer) and STREAM CONNECT answers OK at once, so the
//     SAM sessions are made first, beside the other cases. Once every
//     destination is ready an exchange takes tens of milliseconds.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/i2pdtest"
	"github.com/go-i2p/go-opentracker/streaming"
)

// peerKey carries a stream's remote Addr into the handler's context.
type peerKey struct{}

// announceReply is the small tracker's bencoded answer: the announcing
// peer as the stream's verified b32, and whether the ip parameter named
// that same Destination.
func announceReply(peer string, ipIsPeer bool) string {
	ok := 0
	if ipIsPeer {
		ok = 1
	}
	return fmt.Sprintf("d8:intervali1800e5:ip_oki%de4:peer%d:%se", ok, len(peer), peer)
}

func announce(w http.ResponseWriter, r *http.Request) {
	a, _ := r.Context().Value(peerKey{}).(streaming.Addr)
	ip := r.URL.Query().Get("ip")
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, announceReply(r.RemoteAddr, !a.Destination.IsZero() && ip == a.Destination.Base64()+".i2p"))
}

// interopConfig shortens the first retransmission: the first packets
// between fresh destinations wait on a LeaseSet lookup and may be lost.
func interopConfig() streaming.Config {
	return streaming.Config{InitialRTO: 2 * time.Second, MaxResends: 10}
}

// session runs an I2CP session with a legacy LeaseSet on the router and
// attaches a Manager to it.
func session(t *testing.T, r *i2pdtest.Router, keys *i2p.PrivateKeys) *streaming.Manager {
	t.Helper()
	s, err := i2cp.NewSession(keys, i2cp.Config{Addr: r.I2CP, LegacyLeaseSet: true, KeepAlive: 5 * time.Second,
		Options: i2pdtest.SessionOptions()})
	if err != nil {
		t.Fatal(err)
	}
	return streaming.RunAttached(t, s, keys, interopConfig(), 30*time.Second)
}

func newKeys(t *testing.T) *i2p.PrivateKeys {
	t.Helper()
	k, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// retry runs try until it succeeds or ctx ends, a second apart, and
// fails the test with the last error.
func retry(t *testing.T, ctx context.Context, what string, try func(context.Context) error) {
	t.Helper()
	begin := time.Now()
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := try(actx)
		cancel()
		if err == nil {
			t.Logf("%s: done in %v, attempt %d", what, time.Since(begin).Round(time.Millisecond), attempt)
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v (last attempt %d)", what, err, attempt)
		case <-time.After(time.Second):
		}
	}
}

// libtorrentAnnounce is the request libtorrent 2.0.11 writes through
// SAM (STREAMING.md §5.2): one line, ip not escaped, Connection: close.
func libtorrentAnnounce(host string, self i2p.Destination) string {
	return "GET /a?info_hash=%12%34%56%78%9A%BC%DE%F0%12%34%56%78%9A%BC%DE%F0%12%34%56%78" +
		"&peer_id=-LT20B0-%2A%7Eabcdefghij&port=1&uploaded=0&downloaded=0&left=0&corrupt=0&key=CBE7F048" +
		"&event=started&numwant=200&compact=1&no_peer_id=1&supportcrypto=1&redundant=0" +
		"&ip=" + self.Base64() + ".i2p HTTP/1.1\r\n" +
		"Host: " + host + "\r\n" +
		"User-Agent: libtorrent/2.0.11.0\r\n" +
		"Accept-Encoding: gzip\r\n" +
		"Connection: close\r\n\r\n"
}

// announceQuery is the query an HTTP client through a tunnel or the
// proxy sends.
func announceQuery(self i2p.Destination) string {
	return "info_hash=%12%34%56%78%9A%BC%DE%F0%12%34%56%78%9A%BC%DE%F0%12%34%56%78&peer_id=-LT20B0-abcdefghijkl" +
		"&port=1&uploaded=0&downloaded=0&left=0&event=started&numwant=200&compact=1&no_peer_id=1" +
		"&ip=" + url.QueryEscape(self.Base64()+".i2p")
}

// checkReply reads an HTTP response and compares its body with want.
func checkReply(resp *http.Response, want string) error {
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading the body: %w", err)
	}
	if resp.StatusCode != http.StatusOK || string(body) != want {
		return fmt.Errorf("reply %s %q, want 200 %q", resp.Status, body, want)
	}
	return nil
}

func TestI2pdInterop(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test with a real router")
	}
	i2pdtest.Binary(t)
	start := time.Now()
	trackerKeys, dialerKeys := newKeys(t), newKeys(t)
	tracker := trackerKeys.Destination

	// The local HTTP server behind i2pd's server tunnel answers with the
	// Destination i2pd says the stream came from.
	local, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ls := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "from="+r.Header.Get("X-I2P-DestB64"))
	})}
	go ls.Serve(local)
	t.Cleanup(func() { ls.Close() })

	clientPort := i2pdtest.FreePort(t)
	tunnels := fmt.Sprintf(`[tracker-client]
type = client
address = 127.0.0.1
port = %d
destination = %s
destinationport = 0
keys = tracker-client.dat
%s
[local-http]
type = http
host = 127.0.0.1
port = %d
keys = local-http.dat
%s`, clientPort, tracker.B32(), i2pdtest.OfflineTunnel, local.Addr().(*net.TCPAddr).Port, i2pdtest.OfflineTunnel)
	router := i2pdtest.Start(t, i2pdtest.Options{Tunnels: tunnels, HTTPProxy: true})

	srv := session(t, router, trackerKeys)
	l, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{ReadHeaderTimeout: 15 * time.Second, Handler: http.HandlerFunc(announce),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, peerKey{}, c.RemoteAddr())
		}}
	hs.SetKeepAlivesEnabled(false)
	go hs.Serve(l)
	t.Cleanup(func() { hs.Close() })
	dialer := session(t, router, dialerKeys)
	t.Logf("router and sessions ready after %v", time.Since(start).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	t.Cleanup(cancel)
	// SAM sessions take some 20 s to be ready: make them first, beside
	// the other cases.
	sams := map[string]chan samResult{}
	for _, sig := range []string{"SIGNATURE_TYPE=7", ""} {
		ch := make(chan samResult, 1)
		sams[sig] = ch
		go func() {
			begin := time.Now()
			sctx, scancel := context.WithTimeout(ctx, 60*time.Second)
			defer scancel()
			s, err := i2pdtest.NewSAMSession(sctx, router.SAM, "lt"+strings.TrimPrefix(sig, "SIGNATURE_TYPE="), sig)
			ch <- samResult{s, err, time.Since(begin)}
		}()
	}
	timed := func(name string, f func(t *testing.T)) {
		t.Run(name, func(t *testing.T) {
			begin := time.Now()
			f(t)
			t.Logf("%s took %v", name, time.Since(begin).Round(time.Millisecond))
		})
	}
	timed("client-tunnel", func(t *testing.T) { clientTunnel(t, ctx, router, tracker, clientPort) })
	timed("http-proxy", func(t *testing.T) { httpProxy(t, ctx, router, tracker) })
	for _, early := range []bool{false, true} {
		timed(fmt.Sprintf("dialer-server-tunnel/early=%v", early), func(t *testing.T) {
			dialServerTunnel(t, ctx, router, dialer, early)
		})
	}
	for _, sig := range []string{"SIGNATURE_TYPE=7", ""} {
		name := "sam/ed25519"
		if sig == "" {
			name = "sam/dsa-sha1"
		}
		timed(name, func(t *testing.T) { samAnnounce(t, ctx, <-sams[sig], tracker, sig == "") })
	}
	timed("http-proxy/429", func(t *testing.T) { proxy429(t, ctx, router, tracker) })
	// Every stream i2pd opened ends cleanly: its CLOSE and ours are
	// acknowledged, nothing waits for the inactivity timeout.
	end := time.Now().Add(15 * time.Second)
	for srv.Stats().Open > 0 && time.Now().Before(end) {
		time.Sleep(50 * time.Millisecond)
	}
	st := srv.Stats()
	t.Logf("tracker stats %+v", st)
	if st.Open != 0 || st.Timeouts != 0 || st.ResetsReceived != 0 {
		t.Errorf("the tracker's streams did not end cleanly: %+v", st)
	}
	if d := st.Dropped; d[streaming.DropBadSignature.String()] != 0 || d[streaming.DropMalformed.String()] != 0 ||
		d[streaming.DropUnsignedSYN.String()] != 0 {
		t.Errorf("the tracker refused packets from i2pd: %+v", st)
	}
	t.Logf("dialer stats %+v", dialer.Stats())
}

type samResult struct {
	s     *i2pdtest.SAMSession
	err   error
	ready time.Duration
}

// samAnnounce: a SAM STREAM session sends libtorrent's announce and reads
// the whole reply.
func samAnnounce(t *testing.T, ctx context.Context, r samResult, tracker i2p.Destination, dsa bool) {
	if r.err != nil {
		t.Fatalf("SAM session: %v", r.err)
	}
	s := r.s
	defer s.Close()
	t.Logf("SAM session %s (%v) ready after %v", s.ID, s.Destination.SigType(), r.ready.Round(time.Millisecond))
	if dsa != (s.Destination.SigType() == i2p.SigDSASHA1) {
		t.Fatalf("SAM session %s made a %v Destination", s.ID, s.Destination.SigType())
	}
	want := announceReply(s.Destination.B32(), true)
	retry(t, ctx, "SAM announce", func(ctx context.Context) error {
		c, err := s.Connect(ctx, tracker.Base64())
		if err != nil {
			return err
		}
		defer c.Close()
		dl, _ := ctx.Deadline()
		c.SetDeadline(dl)
		if _, err := io.WriteString(c, libtorrentAnnounce(tracker.B32(), s.Destination)); err != nil {
			return err
		}
		raw, err := io.ReadAll(c)
		if err != nil {
			return fmt.Errorf("reading the reply: %w (%q so far)", err, raw)
		}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
		if err != nil {
			return fmt.Errorf("reply %q: %w", raw, err)
		}
		return checkReply(resp, want)
	})
}

// clientTunnel: an http.Client through an i2pd client tunnel to the
// tracker.
func clientTunnel(t *testing.T, ctx context.Context, router *i2pdtest.Router, tracker i2p.Destination, port int) {
	self, err := router.KeyDestination("tracker-client.dat", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	want := announceReply(self.B32(), true)
	retry(t, ctx, "client tunnel announce", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://127.0.0.1:%d/a?%s", port, announceQuery(self)), nil)
		if err != nil {
			return err
		}
		req.Host = tracker.B32()
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		return checkReply(resp, want)
	})
}

// proxyClient is an http.Client on i2pd's HTTP proxy, and the proxy's
// Destination.
func proxyClient(t *testing.T, router *i2pdtest.Router) (*http.Client, i2p.Destination) {
	self, err := router.KeyDestination("httpproxy.dat", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	proxy, _ := url.Parse("http://" + router.HTTPProxy)
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, Proxy: http.ProxyURL(proxy)}}, self
}

func proxyAnnounce(ctx context.Context, client *http.Client, tracker, self i2p.Destination) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+tracker.B32()+"/a?"+announceQuery(self), nil)
	if err != nil {
		return nil, err
	}
	return client.Do(req)
}

// httpProxy: an http.Client using i2pd's HTTP proxy, which puts the
// request in the SYN, to port 80.
func httpProxy(t *testing.T, ctx context.Context, router *i2pdtest.Router, tracker i2p.Destination) {
	client, self := proxyClient(t, router)
	want := announceReply(self.B32(), true)
	retry(t, ctx, "HTTP proxy announce", func(ctx context.Context) error {
		resp, err := proxyAnnounce(ctx, client, tracker, self)
		if err != nil {
			return err
		}
		return checkReply(resp, want)
	})
}

// proxy429: announces through the HTTP proxy, one Destination, until the
// per-peer minute limit (Config.MaxConnsPerMinute, 20 by default) answers
// with a 429 that names a Retry-After.
func proxy429(t *testing.T, ctx context.Context, router *i2pdtest.Router, tracker i2p.Destination) {
	const limit = 20
	client, self := proxyClient(t, router)
	for i := range limit + 1 {
		resp, err := proxyAnnounce(ctx, client, tracker, self)
		if err != nil {
			t.Fatalf("announce %d: %v", i, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("announce %d: %v", i, err)
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			if resp.Header.Get("Retry-After") == "" {
				t.Fatalf("429 without Retry-After: %v %q", resp.Header, body)
			}
			t.Logf("429 after %d announces: Retry-After %s, %q", i, resp.Header.Get("Retry-After"), body)
			return
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("announce %d: %s %q", i, resp.Status, body)
		}
	}
	t.Fatalf("no 429 in %d announces from one Destination", limit+1)
}

// dialServerTunnel: an http.Client on our Dialer gets a page from a local
// server behind an i2pd HTTP server tunnel, which names our Destination.
func dialServerTunnel(t *testing.T, ctx context.Context, router *i2pdtest.Router, m *streaming.Manager, early bool) {
	to, err := router.KeyDestination("local-http.dat", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return streaming.Dialer{Manager: m, Port: 80, Early: early}.Dial(ctx, to)
		},
	}}
	want := "from=" + m.Destination().Base64()
	retry(t, ctx, "dial the server tunnel", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, "GET", "http://"+to.B32()+"/page", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		return checkReply(resp, want)
	})
}
