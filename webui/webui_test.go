package webui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHelpPage(t *testing.T) {
	info := Info{Name: "go-opentracker", Version: "0.1.0", B32: "abc.b32.i2p", HTTPAnnounce: "http://abc.b32.i2p/a",
		UDPAnnounce: "udp://abc.b32.i2p:6969/", UDPEnabled: true, HTTPEnabled: true, Swarms: 4, Peers: 9, Seeds: 2, Leechers: 7, Completed: 3}
	p, err := New(func() Info { return info }, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	body := rec.Body.String()
	for _, want := range []string{"udp://abc.b32.i2p:6969/", `id="http-url">http://abc.b32.i2p/a<`, `id="peers">9<`, "i2psnark", "BiglyBT",
		"website <code>http://abc.b32.i2p/</code>"} {
		if !strings.Contains(body, want) {
			t.Errorf("help page lacks %q", want)
		}
	}

	// Without the HTTP server tunnel's address the page lists UDP only,
	// in the table and in the client instructions.
	info.HTTPAnnounce = ""
	rec = httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	body = rec.Body.String()
	if strings.Contains(body, "http://") {
		t.Errorf("an HTTP URL is shown without http_address:\n%s", body)
	}
	if !strings.Contains(body, "udp://abc.b32.i2p:6969/") || strings.Contains(body, `id="http-url"`) {
		t.Error("UDP-only page wrong")
	}
	info.UDPEnabled = false
	rec = httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/help", nil))
	if strings.Contains(rec.Body.String(), "udp://") {
		t.Error("disabled UDP URL shown")
	}
	for path, code := range map[string]int{"/webui.css": 200, "/robots.txt": 200, "/nope": 404} {
		rec = httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != code {
			t.Errorf("%s: %d, want %d", path, rec.Code, code)
		}
	}
}
