package plugin

import (
	"context"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// ownAddressProblem is how the refusal of the tracker's own address in
// http_address begins, after the key and the value.
const ownAddressProblem = "is the tracker's own address"

// TestConfigRefusesOwnAddress: a config file whose http_address is the
// tracker's own address (in any case) is refused with the key, the value
// and why, as the other range errors are; another address is taken.
func TestConfigRefusesOwnAddress(t *testing.T) {
	dir := t.TempDir()
	keys, _, err := loadOrCreateIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	own := keys.Destination.B32()
	for _, v := range []string{own, strings.ToUpper(own)} {
		if err := os.WriteFile(filepath.Join(dir, ConfigFileName), []byte("http_address: "+v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(dir)
		var ce *ConfigError
		if !errors.As(err, &ce) || len(ce.Problems) != 1 || !strings.HasPrefix(ce.Problems[0], `http_address: "`+own+`": `+ownAddressProblem) {
			t.Fatalf("http_address: %s: %v", v, err)
		}
	}
	other := strings.Repeat("q", 52) + ".b32.i2p"
	if err := os.WriteFile(filepath.Join(dir, ConfigFileName), []byte("http_address: "+other+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg, err := LoadConfig(dir); err != nil || cfg.HTTPAddress != other {
		t.Fatalf("another address: %q, %v", cfg.HTTPAddress, err)
	}
}

// TestStartRefusesOwnAddress: a key file brought without its address
// file (from zzzot, say) is checked as well: the start fails with a
// configuration error.
func TestStartRefusesOwnAddress(t *testing.T) {
	dir := t.TempDir()
	keys, _, err := loadOrCreateIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, AddressFileName)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFileName), []byte("http_address: "+keys.Destination.B32()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := New(newTestHost(t, dir, newRouter(t)), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Start(context.Background())
	if err == nil {
		p.Stop(context.Background())
	}
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), ownAddressProblem) {
		t.Fatalf("start: %v", err)
	}
}

// TestConsoleRefusesOwnAddress: the settings form refuses the tracker's
// own address for http_address, says why on the page it returns to, and
// leaves the setting and the file as they were.
func TestConsoleRefusesOwnAddress(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir, newRouter(t))
	before, _ := os.ReadFile(filepath.Join(dir, ConfigFileName))
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar}
	_, page := get(t, e.consoleURL)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no csrf token on the console")
	}
	own := e.plugin.Identity().Destination.B32()
	resp, err := c.PostForm(e.consoleURL+"settings", url.Values{"csrf": {m[1]}, "http_address": {own}})
	if err != nil {
		t.Fatal(err)
	}
	b := new(strings.Builder)
	if _, err := io.Copy(b, resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	flash := regexp.MustCompile(`<p class="flash error"[^>]*>([^<]*)</p>`).FindStringSubmatch(b.String())
	if flash == nil || !strings.Contains(html.UnescapeString(flash[1]), ownAddressProblem) {
		t.Fatalf("page after the form: %q", flash)
	}
	if cfg := e.plugin.Config(); cfg.HTTPAddress != "" {
		t.Fatalf("http_address %q in force", cfg.HTTPAddress)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, ConfigFileName)); string(after) != string(before) {
		t.Fatalf("file changed to %q", after)
	}
}
