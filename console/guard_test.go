package console

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// consoleHost is the Host the tests' requests name: the console's
// default address.
const consoleHost = "127.0.0.1:17663"

// newReq is httptest.NewRequest addressed to the console on loopback.
func newReq(method, target string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, target, body)
	r.Host = consoleHost
	return r
}

// TestDNSRebinding: a page on evil.example whose name resolves to
// 127.0.0.1 reaches the console with Host evil.example:17663 and a
// matching Origin. It must not read the page (and with it the CSRF
// token) nor change a setting.
func TestDNSRebinding(t *testing.T) {
	f := newFake()
	c, _ := New(f, Options{})
	const evil = "evil.example:17663"
	get := newReq(http.MethodGet, "/", nil)
	get.Host = evil
	rec := httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, get)
	if rec.Code != http.StatusMisdirectedRequest || strings.Contains(rec.Body.String(), c.csrf) {
		t.Fatalf("GET with a foreign Host: %d, token shown: %v", rec.Code, strings.Contains(rec.Body.String(), c.csrf))
	}
	form := url.Values{"interval": {"900"}, "csrf": {c.csrf}}
	post := newReq(http.MethodPost, "/settings", strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.Host = evil
	post.Header.Set("Origin", "http://"+evil)
	rec = httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, post)
	if rec.Code != http.StatusMisdirectedRequest || f.settings[0].Value != "1620" {
		t.Fatalf("POST with a foreign Host and Origin: %d, interval %s", rec.Code, f.settings[0].Value)
	}
	// The console's own Host with a foreign Origin (a page elsewhere
	// posting to it) is refused too, as is Origin: null.
	for _, origin := range []string{"http://" + evil, "null", "http://127.0.0.1:1"} {
		if rec := postSettings(c, form, origin); rec.Code != http.StatusForbidden || f.settings[0].Value != "1620" {
			t.Fatalf("Origin %s: %d, interval %s", origin, rec.Code, f.settings[0].Value)
		}
	}
	if rec := postSettings(c, form, "http://"+consoleHost); rec.Code != http.StatusSeeOther || f.settings[0].Value != "900" {
		t.Fatalf("own Origin: %d, interval %s", rec.Code, f.settings[0].Value)
	}
	counted := map[string]uint64{}
	for _, p := range c.Problems() {
		counted[p.Reason] = p.Count
	}
	if counted["foreign_host"] != 2 || counted["foreign_origin"] != 3 {
		t.Fatalf("refusals counted %v, want 2 foreign_host and 3 foreign_origin", counted)
	}
}

func TestHostAllowed(t *testing.T) {
	c, _ := New(newFake(), Options{Hosts: []string{"Tracker.LAN"}})
	local := &net.TCPAddr{IP: net.IPv4(192, 168, 1, 5), Port: 17663}
	for host, want := range map[string]bool{
		"127.0.0.1:17663": true, "127.0.0.1": true, "127.8.9.1:80": true, "localhost:17663": true, "LOCALHOST.": true,
		"[::1]:17663": true, "[::ffff:127.0.0.1]:1": true, "tracker.lan:17663": true, "tracker.lan.": true,
		"192.168.1.5:17663": true, // the address the connection arrived on
		"192.168.1.6:17663": false, "evil.example:17663": false, "localhost.evil.example": false, "127.0.0.1.nip.io": false,
		"": false, "[": false, ":17663": false, "sub.localhost": false,
	} {
		r := newReq(http.MethodGet, "/", nil)
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, net.Addr(local)))
		if got := c.hostAllowed(r, host); got != want {
			t.Errorf("host %q: allowed %v, want %v", host, got, want)
		}
	}
	// Without the connection's address (a host that does not say), only
	// loopback and the configured names.
	if c.hostAllowed(newReq(http.MethodGet, "/", nil), "192.168.1.5:17663") {
		t.Error("an address allowed without knowing the listener's")
	}
}

// TestPasswordThrottle: after five wrong passwords an address is refused
// (even with the right one) until a minute has passed; other addresses
// are not; the table of addresses stays bounded.
func TestPasswordThrottle(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c, _ := New(newFake(), Options{Password: "s3cret", Now: func() time.Time { return now }})
	try := func(remote, pass string) int {
		r := newReq(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		r.SetBasicAuth("admin", pass)
		rec := httptest.NewRecorder()
		c.Handler().ServeHTTP(rec, r)
		return rec.Code
	}
	for i := range authMaxFails {
		if code := try("10.0.0.1:5000", fmt.Sprint("guess", i)); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if code := try("10.0.0.1:5001", "s3cret"); code != http.StatusTooManyRequests {
		t.Fatalf("throttled address with the right password: %d", code)
	}
	if code := try("10.0.0.2:5000", "s3cret"); code != http.StatusOK {
		t.Fatalf("another address: %d", code)
	}
	now = now.Add(authWindow)
	if code := try("10.0.0.1:5000", "s3cret"); code != http.StatusOK {
		t.Fatalf("after the window: %d", code)
	}
	// IPv6 clients count by their /64.
	for i := range authMaxFails {
		try(fmt.Sprintf("[2001:db8::%x]:1", i+1), "x")
	}
	if code := try("[2001:db8::ff]:1", "s3cret"); code != http.StatusTooManyRequests {
		t.Fatalf("same /64: %d", code)
	}
	// Many addresses: the table holds authMaxClients, the rest share one
	// entry and are throttled together.
	for i := range authMaxClients + 2*authMaxFails {
		try(fmt.Sprintf("10.1.%d.%d:1", i>>8, i&255), "x")
	}
	c.auth.mu.Lock()
	size := len(c.auth.clients)
	c.auth.mu.Unlock()
	if size > authMaxClients {
		t.Fatalf("table holds %d addresses, bound %d", size, authMaxClients)
	}
	if code := try("10.2.0.1:1", "s3cret"); code != http.StatusTooManyRequests {
		t.Fatalf("an address beyond a full table after many failures: %d", code)
	}
	got := map[string]uint64{}
	for _, p := range c.Problems() {
		got[p.Reason] = p.Count
	}
	// Wrong: five from 10.0.0.1, five from the /64 (which holds one
	// entry), one from each address the rest of the table held, and five
	// in the shared entry before it was throttled.
	wrong := authMaxFails + authMaxFails + (authMaxClients - 1) + authMaxFails
	if got["wrong_password"] != uint64(wrong) || got["password_throttled"] < 3 || got["password_table_full"] == 0 {
		t.Fatalf("counts %v", got)
	}
}

// TestServerLimits: the console's listener refuses an oversized head and
// closes a connection whose head never ends.
func TestServerLimits(t *testing.T) {
	c, _ := New(newFake(), Options{})
	srv := httptest.NewUnstartedServer(c.Handler())
	srv.Config = NewServer(c.Handler(), nil)
	srv.Start()
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 2*maxHeaderBytes))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("oversized head: %s", resp.Status)
	}
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: " + consoleHost + "\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(readHeaderTimeout + 10*time.Second))
	if _, err := io.ReadAll(conn); err != nil {
		t.Fatalf("a never-ending head was not cut off: %v", err)
	}
}
