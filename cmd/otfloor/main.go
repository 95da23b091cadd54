// Command otfloor serves a constant announce reply with the tracker's
// HTTP server (httpserver): the floor of what an HTTP announce over TCP
// costs with no tracker work at all, for otload http -target -pid.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/go-i2p/go-opentracker/httpserver"
)

// constant answers every request with the same body.
type constant []byte

func (c constant) Respond(dst []byte, _ *httpserver.Request) (int, []byte, bool) {
	return http.StatusOK, append(dst, c...), true
}

func main() {
	addr := flag.String("listen", "127.0.0.1:7670", "address to listen on")
	peers := flag.Int("peers", 50, "32-byte peers in the constant reply")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		slog.Error("otfloor: listen", "err", err)
		os.Exit(1)
	}
	if err := newServer(*peers).Serve(ln); err != nil {
		slog.Error("otfloor: serve", "err", err)
		os.Exit(1)
	}
}

// newServer answers every plain request with a bencoded announce reply
// of peers 32-byte peers, and anything else with 404.
func newServer(peers int) *httpserver.Server {
	body := fmt.Sprintf("d8:intervali1620e5:peers%d:%se", 32*peers, strings.Repeat("p", 32*peers))
	return &httpserver.Server{Responder: constant(body), Handler: http.NotFoundHandler()}
}
