package plugin

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestConfigErrors: each problem of a file is one line that names the
// key, the value and what it must be, not a YAML decoder's message; a
// misspelt key gets the nearest one.
func TestConfigErrors(t *testing.T) {
	cases := []struct {
		file string
		want []string // the problems, in order, each a part of its line
	}{
		{"tracker_port: 70000\n", []string{"tracker_port: 70000: must be 1..65535 (line 1)"}},
		{"tracker_port: -1\n", []string{"tracker_port: -1: must be 1..65535"}},
		{"interval: 5\n", []string{"interval: 5: must be 60..86400"}},
		{"udp_connects_per_minute: -1\n", []string{"udp_connects_per_minute: -1: must be 0..1000000 (line 1)"}},
		{"destination_cache: 10\n", []string{"destination_cache: 10: must be 1000..100000000"}},
		{"interval: soon\n", []string{"interval: soon: must be a whole number 60..86400"}},
		{"interval: 1.5\n", []string{"interval: 1.5: must be a whole number 60..86400"}},
		{"intervall: 900\n", []string{"intervall: unknown key (line 1); did you mean interval?"}},
		{"trackerport: 1\n", []string{"did you mean tracker_port?"}},
		{"Full_Scrape: true\n", []string{"did you mean full_scrape?"}},
		{"colour: blue\n", []string{"colour: unknown key (line 1)"}},
		{"udp: maybe\n", []string{"udp: maybe: must be true or false"}},
		{"legacy_leaseset: maybe\n", []string{`legacy_leaseset: "maybe": must be auto, true or false (line 1)`}},
		{"max_peers: [1, 2]\n", []string{"max_peers: a list: must be a whole number 0..50"}},
		{"http_address: {a: b}\n", []string{"http_address: a map: must be one value"}},
		{"interval: 900\ninterval: 600\n", []string{"interval: set twice (lines 1 and 2)"}},
		{"peer_expiry: 10\n", []string{"peer_expiry: 10: must be 1620..345600"}},
		{"http_address: http://x.i2p/\n", []string{`http_address: "http://x.i2p/": want the HTTP server tunnel's host name`}},
		{"interval: [\n", []string{"not valid YAML: line 1"}},
		{"- interval\n", []string{"line 1: want key: value lines"}},
		{"interval: 900\n---\nmax_peers: 20\n", []string{"line 2: a second document (after ---)"}},
		{"# a comment\ntracker_port: 70000\nmax_swarms: 0\nintervall: 900\nudp: maybe\n", []string{
			"tracker_port: 70000: must be 1..65535 (line 2)",
			"max_swarms: 0: must be 1..100000000 (line 3)",
			"intervall: unknown key (line 4); did you mean interval?",
			"udp: maybe: must be true or false (line 5)",
		}},
	}
	for _, c := range cases {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ConfigFileName), []byte(c.file), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(dir)
		var ce *ConfigError
		if !errors.As(err, &ce) || !errors.Is(err, ErrConfig) {
			t.Errorf("%q: %v, want a ConfigError", c.file, err)
			continue
		}
		if len(ce.Problems) != len(c.want) {
			t.Errorf("%q: problems %q, want %d", c.file, ce.Problems, len(c.want))
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(ce.Problems[i], w) || strings.Contains(ce.Problems[i], "unmarshal") {
				t.Errorf("%q: problem %d is %q, want %q", c.file, i, ce.Problems[i], w)
			}
		}
		if lines := strings.Split(err.Error(), "\n"); len(lines) != len(c.want) {
			t.Errorf("%q: the error is %d lines, want %d:\n%v", c.file, len(lines), len(c.want), err)
		}
	}
}

// TestConfigValuesKeptOrDefault: good keys are read beside bad ones, and
// a bad value leaves the default, never a wrapped-around number.
func TestConfigValuesKeptOrDefault(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConfigFileName), []byte("tracker_port: 70000\ninterval: 900\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(dir)
	if err == nil || cfg.TrackerPort != 6969 || cfg.Interval != 900 {
		t.Fatalf("%+v %v", cfg, err)
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"interval", "intervall", 1}, {"kitten", "sitting", 3}, {"flaw", "lawn", 2}} {
		if d := editDistance(c.a, c.b); d != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, d, c.d)
		}
	}
}

// TestConsoleRangesAreTheFiles: every number the console edits has its
// range in the table the file is checked against, and both refuse the
// same values.
func TestConsoleRangesAreTheFiles(t *testing.T) {
	for _, s := range settings {
		if s.kind != "number" {
			continue
		}
		lo, hi, ok := intRange(s.key)
		if !ok || s.min != int64(lo) || s.max != int64(hi) {
			t.Errorf("%s: console %d..%d, file %d..%d (ranged %v)", s.key, s.min, s.max, lo, hi, ok)
			continue
		}
		for _, c := range []struct {
			v    int
			good bool
		}{{lo, true}, {hi, true}, {lo - 1, false}, {hi + 1, false}} {
			cfg := DefaultConfig()
			consoleErr := s.set(&cfg, strconv.Itoa(c.v))
			fileCfg := DefaultConfig()
			fileProblems := decodeConfig([]byte(s.key+": "+strconv.Itoa(c.v)+"\n"), &fileCfg)
			if (consoleErr == nil) != c.good || (len(fileProblems) == 0) != c.good {
				t.Errorf("%s = %d: console %v, file %v; want accepted %v", s.key, c.v, consoleErr, fileProblems, c.good)
			}
		}
	}
}

// TestStrictDestinationsDefaultOn: strict_destinations is on without a
// file, with a file that leaves it out and on the console, and a saved
// false stays false.
func TestStrictDestinationsDefaultOn(t *testing.T) {
	dir := t.TempDir()
	if cfg, err := LoadConfig(dir); err != nil || !cfg.StrictDests {
		t.Fatalf("no file: strict %v, %v", cfg.StrictDests, err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFileName), []byte("interval: 1620\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(dir)
	if err != nil || !cfg.StrictDests {
		t.Fatalf("file without the key: strict %v, %v", cfg.StrictDests, err)
	}
	s, _ := findSetting("strict_destinations")
	if got := s.get(&cfg); got != "true" {
		t.Fatalf("console shows %q", got)
	}
	if err := s.set(&cfg, "false"); err != nil {
		t.Fatal(err)
	}
	if err := SaveConfig(dir, cfg); err != nil {
		t.Fatal(err)
	}
	if cfg, err := LoadConfig(dir); err != nil || cfg.StrictDests {
		t.Fatalf("saved false: strict %v, %v", cfg.StrictDests, err)
	}
}
