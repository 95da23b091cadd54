package plugin

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMetricTypes: every tracker metric named *_total is a counter and
// every counter is named *_total, as Prometheus's naming rules have it:
// a total that can fall (downloads in swarms that expire) is a gauge
// and must not look like a counter to rate().
func TestMetricTypes(t *testing.T) {
	e := start(t, t.TempDir(), newRouter(t))
	code, body := get(t, e.consoleURL+"metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	seen := 0
	for line := range strings.Lines(body) {
		f := strings.Fields(line)
		if len(f) != 4 || f[0] != "#" || f[1] != "TYPE" || !strings.HasPrefix(f[2], "opentracker_") {
			continue
		}
		seen++
		if total, counter := strings.HasSuffix(f[2], "_total"), f[3] == "counter"; total != counter {
			t.Errorf("%s is a %s", f[2], f[3])
		}
	}
	if seen < 5 {
		t.Fatalf("only %d tracker metrics in:\n%s", seen, body)
	}
}

// TestMetricsHTTPConnections: the tracker server's held connections and
// refusals appear on /metrics.
func TestMetricsHTTPConnections(t *testing.T) {
	e := start(t, t.TempDir(), newRouter(t))
	srv := NewTrackerServer(trackerRoutes{e.plugin}, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n") // held: its body never comes
	var body string
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		_, body = get(t, e.consoleURL+"metrics")
		if strings.Contains(body, "\nopentracker_http_connections_open 1\n") {
			break
		}
	}
	for _, want := range []string{"\nopentracker_http_connections_open 1\n", `opentracker_http_connections_refused_total{reason="total"} 0`,
		`opentracker_http_connections_refused_total{reason="peer"} 0`, "\nopentracker_http_accept_errors_total 0\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in /metrics:\n%s", want, body)
		}
	}
}

// TestMetricsConsoleRefusals: the console's own refusals (a foreign
// Host, a foreign Origin, wrong and throttled passwords) are counted on
// /metrics, not only on its page.
func TestMetricsConsoleRefusals(t *testing.T) {
	dir := t.TempDir()
	const password = "s3cret"
	if err := os.WriteFile(filepath.Join(dir, ConfigFileName), []byte("console_password: "+password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, dir, newRouter(t))
	// The wrong passwords come from another loopback address, so the
	// throttle they earn leaves the checks below alone.
	other := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}}
	do := func(client *http.Client, method, host, origin, pass string) int {
		t.Helper()
		req, err := http.NewRequest(method, e.consoleURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if pass != "" {
			req.SetBasicAuth("", pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := do(http.DefaultClient, http.MethodGet, "evil.example:80", "", password); code != http.StatusMisdirectedRequest {
		t.Fatalf("foreign Host: %d", code)
	}
	if code := do(http.DefaultClient, http.MethodPost, "", "http://evil.example", password); code != http.StatusForbidden {
		t.Fatalf("foreign Origin: %d", code)
	}
	throttled := 0
	for range 20 {
		if do(other, http.MethodGet, "", "", "wrong") == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled == 0 {
		t.Fatal("20 wrong passwords, none throttled")
	}
	req, err := http.NewRequest(http.MethodGet, e.consoleURL+"metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("", password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	body := string(b)
	for _, want := range []string{
		`opentracker_problems_total{reason="foreign_host",where="console"} 1`,
		`opentracker_problems_total{reason="foreign_origin",where="console"} 1`,
		fmt.Sprintf(`opentracker_problems_total{reason="wrong_password",where="console"} %d`, 20-throttled),
		fmt.Sprintf(`opentracker_problems_total{reason="password_throttled",where="console"} %d`, throttled),
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("no %q in /metrics:\n%s", want, body)
		}
	}
}
