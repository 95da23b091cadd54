package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPageShowsBids: the top-bids table is there while bids are on and
// absent while they are off.
func TestPageShowsBids(t *testing.T) {
	f := newFake()
	c, err := New(f, Options{PageSize: 25})
	if err != nil {
		t.Fatal(err)
	}
	page := func() string {
		rec := httptest.NewRecorder()
		c.Handler().ServeHTTP(rec, newReq(http.MethodGet, "/", nil))
		return rec.Body.String()
	}
	if strings.Contains(page(), `id="bids"`) {
		t.Fatal("bids shown while off")
	}
	f.mu.Lock()
	f.status.Bids = BidStatus{On: true, Held: 3, Top: []BidRow{{InfoHash: strings.Repeat("ab", 20), Best: 500, Bidders: 3, AgeSeconds: 12}}}
	f.mu.Unlock()
	body := page()
	for _, want := range []string{`id="bids"`, "3 standing bids", "<td>500</td><td>3</td><td>12 s</td>", strings.Repeat("ab", 20)} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
