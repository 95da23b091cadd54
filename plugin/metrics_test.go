package plugin

import (
	"io"
	"net"
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
