package plugin

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// configDir is a data directory holding the config file testdata/config/name.
func configDir(t *testing.T, name string) (dir string, src []byte) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "config", name))
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConfigFileName), src, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, src
}

// saveSetting loads dir's config, changes it with set, saves it and
// returns the file as written, checking that it loads as saved.
func saveSetting(t *testing.T, dir string, set func(*Config)) []byte {
	t.Helper()
	cfg, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	set(&cfg)
	if err := SaveConfig(dir, cfg); err != nil {
		t.Fatalf("save: %v", err)
	}
	out, err := os.ReadFile(filepath.Join(dir, ConfigFileName))
	if err != nil {
		t.Fatal(err)
	}
	if back, err := LoadConfig(dir); err != nil || back != cfg {
		t.Fatalf("saved file loads as %+v, %v; saved %+v\n%s", back, err, cfg, out)
	}
	return out
}

// consoleSet is a change as the console's setting key makes it.
func consoleSet(t *testing.T, key, value string) func(*Config) {
	s, ok := findSetting(key)
	if !ok {
		t.Fatalf("no console setting %s", key)
	}
	return func(c *Config) {
		if err := s.set(c, value); err != nil {
			t.Fatalf("%s = %s: %v", key, value, err)
		}
	}
}

// lineDiff lists the lines where a and b differ, by number (1-based),
// with both texts; a line only one has shows "" for the other.
func lineDiff(a, b []byte) []string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	var out []string
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, strings.Join([]string{x, y}, " => "))
		}
	}
	return out
}

// TestSaveConfigChangesOneLine: a setting the operator's file names is
// changed in its line, which keeps its comment; every other line
// (comments, blank lines, the odd order, the keys left alone) stays.
func TestSaveConfigChangesOneLine(t *testing.T) {
	for _, c := range []struct {
		file, key, value, want string
	}{
		{"commented.yaml", "interval", "900", "interval: 900 # an hour"},
		{"commented.yaml", "max_peers", "12", "max_peers: 12      # fewer peers, smaller replies"},
		{"commented.yaml", "udp", "false", "udp: false"},
		{"commented.yaml", "http_address", "Other.i2p", "http_address: other.i2p  # the old server tunnel"},
		// Back to the default: the line stays, with the default value.
		{"commented.yaml", "interval", "1620", "interval: 1620 # an hour"},
		{"indented.yaml", "full_scrape", "true", "  full_scrape: true"},
		{"crlf.yaml", "max_peers", "7", "max_peers: 7 # crlf\r"},
	} {
		dir, src := configDir(t, c.file)
		out := saveSetting(t, dir, consoleSet(t, c.key, c.value))
		diff := lineDiff(src, out)
		if len(diff) != 1 || !strings.HasSuffix(diff[0], " => "+c.want) {
			t.Errorf("%s, %s = %s: changed lines %q, want only %q\n%s", c.file, c.key, c.value, diff, c.want, out)
		}
	}
}

// TestSaveConfigQuotes: a string that plain YAML would read otherwise is
// written quoted, and a quoted value is replaced whole.
func TestSaveConfigQuotes(t *testing.T) {
	dir, src := configDir(t, "quoted.yaml")
	out := saveSetting(t, dir, func(c *Config) { c.I2CPUsername = "true" })
	if diff := lineDiff(src, out); len(diff) != 1 || !strings.HasSuffix(diff[0], ` => i2cp_username: "true" # quoted`) {
		t.Errorf("changed lines %q\n%s", diff, out)
	}
	cfg, err := LoadConfig(dir)
	if err != nil || cfg.ConsolePassword != "it's" || cfg.I2CPUsername != "true" {
		t.Fatalf("%+v, %v", cfg, err)
	}
}

// TestSaveConfigAppends: a setting the file does not name is added at
// its end, alone: no other default is written.
func TestSaveConfigAppends(t *testing.T) {
	dir, src := configDir(t, "commented.yaml")
	out := saveSetting(t, dir, consoleSet(t, "full_scrape", "true"))
	if want := string(src) + "full_scrape: true\n"; string(out) != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	for _, name := range []string{"comments-only.yaml", "start-only.yaml"} {
		dir, src = configDir(t, name)
		out = saveSetting(t, dir, func(c *Config) { c.TunnelLength = 0 })
		if want := string(src) + "tunnel_length: 0\n"; string(out) != want {
			t.Fatalf("%s: got\n%s\nwant\n%s", name, out, want)
		}
	}
}

// TestSaveConfigNewFile: with no file, the one written holds the header
// and the settings that differ from the defaults, no others.
func TestSaveConfigNewFile(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.TunnelLength, cfg.Bids = 0, true
	if err := SaveConfig(dir, cfg); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(filepath.Join(dir, ConfigFileName))
	if err != nil {
		t.Fatal(err)
	}
	if want := configHeader + "bids: true\ntunnel_length: 0\n"; string(out) != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	if back, err := LoadConfig(dir); err != nil || back != cfg {
		t.Fatalf("reads back as %+v, %v", back, err)
	}
}

// TestSaveConfigOtherForms: a flow mapping, and a block scalar are changed through the node tree: the settings read
// back as saved and the comments stay.
func TestSaveConfigOtherForms(t *testing.T) {
	for _, c := range []struct {
		file string
		set  func(*Config)
		keep string
	}{
		{"flow.yaml", func(c *Config) { c.MaxPeers = 9 }, "udp: false"},
		{"block.yaml", func(c *Config) { c.ConsolePassword = "other" }, "# a password written as a block"},
		{"block.yaml", func(c *Config) { c.Interval = 600 }, "s3cret"},
	} {
		dir, _ := configDir(t, c.file)
		out := saveSetting(t, dir, c.set)
		if !strings.Contains(string(out), c.keep) {
			t.Errorf("%s: %q lost:\n%s", c.file, c.keep, out)
		}
	}
}

// TestSaveConfigRefuses: a file that does not parse, is not a mapping,
// holds a bad value, or whose edit would not read back is refused with
// an error naming the file, and left as it was.
func TestSaveConfigRefuses(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"broken.yaml", "not valid YAML"},
		{"notmap.yaml", "want key: value lines"},
		{"badvalue.yaml", "udp: maybe: must be true or false"},
		{"twodocs.yaml", "line 2: a second document"},
	} {
		dir, src := configDir(t, c.file)
		cfg := DefaultConfig()
		cfg.Interval, cfg.MaxPeers = 700, 21
		err := SaveConfig(dir, cfg)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), ConfigFileName) {
			t.Errorf("%s: %v, want an ErrConfig saying %q", c.file, err, c.want)
		}
		if out, _ := os.ReadFile(filepath.Join(dir, ConfigFileName)); !bytes.Equal(out, src) {
			t.Errorf("%s: changed to\n%s", c.file, out)
		}
	}
}

// TestApplySettingKeepsFile: a setting saved from the console changes
// that line only, and what the operator wrote into the file while the
// tracker ran stays.
func TestApplySettingKeepsFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ConfigFileName)
	if err := os.WriteFile(path, []byte("# mine\nmax_peers: 40\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, dir, newRouter(t))
	edited := []byte("# mine\nmax_peers: 40\n\n# the operator's note\nmax_swarms: 5000 # set by hand\n")
	if err := os.WriteFile(path, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := e.plugin.applySetting("interval", "900"); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := string(edited) + "interval: 900\n"; string(out) != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
}
