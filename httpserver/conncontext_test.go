package httpserver

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// connKey is the context key the test's ConnContext sets.
type connKey struct{}

// connTagged answers with the value ConnContext put in its context, on
// the fast path and through net/http alike.
type connTagged struct{}

func (connTagged) Respond(dst []byte, r *Request) (int, []byte, bool) {
	if r.Path != "/fast" {
		return 0, dst, false
	}
	v, _ := r.Context().Value(connKey{}).(string)
	return http.StatusOK, append(dst, "fast "+v...), true
}

func (connTagged) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v, _ := r.Context().Value(connKey{}).(string)
	io.WriteString(w, "std "+v)
}

// TestServerConnContext: ConnContext's context reaches the Responder's
// Request and net/http's, for a request the fast path takes and for one
// it hands off.
func TestServerConnContext(t *testing.T) {
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "server.sock"))
	if err != nil {
		t.Skipf("no Unix sockets here: %v", err)
	}
	srv := &Server{Handler: connTagged{}, Responder: connTagged{},
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, "tagged")
		}}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() { srv.Close(); <-done }()
	for _, want := range []struct{ path, body string }{{"/fast", "fast tagged"}, {"/std", "std tagged"}} {
		c, err := net.Dial("unix", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET "+want.path+" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
		if _, body := readResponse(t, bufio.NewReader(c), false); body != want.body {
			t.Errorf("%s: %q, want %q", want.path, body, want.body)
		}
		c.Close()
	}
	var r Request
	if _, err := ParseRequest([]byte("GET / HTTP/1.1\r\nHost: t\r\n\r\n"), &r); err != nil || r.Context() != context.Background() {
		t.Errorf("a Request with no connection context: %v, %v", err, r.Context())
	}
}
