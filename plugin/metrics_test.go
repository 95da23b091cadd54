package plugin

import (
	"strings"
	"testing"
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
