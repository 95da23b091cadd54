package httptracker

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestFailureDebugLine: at debug, a request that fails its parse is one
// line with its kind, reason and error; above debug nothing is written
// and nothing allocated for it.
func TestFailureDebugLine(t *testing.T) {
	get := func(target string) string { return "GET " + target + " HTTP/1.1\r\nHost: t\r\n\r\n" }
	cases := []struct{ name, raw, want string }{
		{"bad info_hash", get("/announce?info_hash=short&peer_id=-XX0001-abcdefghijkl"), "kind=announce reason=malformed"},
		{"bad escape", get("/announce?info_hash=%zz"), "kind=announce reason=malformed"},
		{"no ip", get("/announce?info_hash=iiiiiiiiiiiiiiiiiiii&peer_id=-XX0001-abcdefghijkl"), "kind=announce reason=" + FailNoIP.String()},
		{"full scrape off", get("/scrape"), "kind=scrape reason=" + FailFullScrape.String()},
	}
	var out bytes.Buffer
	h := New(Config{Logger: slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))}, newSwarms())
	for _, c := range cases {
		out.Reset()
		if status, body, _ := h.Respond(nil, parsed(t, c.raw)); status != 200 || !bytes.HasPrefix(body, []byte("d14:failure reason")) {
			t.Fatalf("%s: %d %q", c.name, status, body)
		}
		line := out.String()
		if strings.Count(line, "\n") != 1 || !strings.Contains(line, `msg="http request failed" transport=http `+c.want+" err=") {
			t.Fatalf("%s: debug line %q", c.name, line)
		}
	}
	// The failure's own work above debug allocates nothing (the
	// handler's pools may, under the race detector).
	info := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h = New(Config{Logger: info}, newSwarms())
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { h.fail(buf[:0], "announce", errNoIP) }); n != 0 {
		t.Errorf("a failure's debug line at info: %v allocations", n)
	}
}
