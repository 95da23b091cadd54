package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"syscall"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/loadgen"
)

// httpConn is one HTTP worker: a raw HTTP/1.1 client that writes a
// prebuilt GET and reads the reply with bounded buffers, a new TCP
// connection per request (as wrk with Connection: close) unless
// keep-alive is on and the server keeps the connection.
type httpConn struct {
	w         *loadgen.Workload
	target    string
	path      string
	keepAlive bool
	peerLen   int
	i2pIP     bool // send ip = the client's Base64 Destination

	conn net.Conn
	req  []byte
	buf  []byte
	dest destMaker
}

// newHTTPConns makes n workers. Client c dials from its own loopback
// address and port pair (httpSource), so a tracker that knows peers by
// address and announced port (as opentracker does) sees each client as a
// distinct peer, and one-connection-per-request traffic spreads over many
// source addresses instead of wearing out one address's ports.
func newHTTPConns(w *loadgen.Workload, target, path string, n int, keepAlive, i2pIP bool) []loadgen.SyncConn {
	out := make([]loadgen.SyncConn, n)
	peerLen := 6
	if i2pIP {
		peerLen = 32
	}
	for i := range out {
		out[i] = &httpConn{w: w, target: target, path: path, keepAlive: keepAlive, peerLen: peerLen, i2pIP: i2pIP,
			buf: make([]byte, 0, 8192), dest: newDestMaker(w.Config().Seed)}
	}
	return out
}

// httpAddresses is how many loopback source addresses HTTP clients use.
const httpAddresses = 4096

// httpSource is client c's source address (127.2.x.y) and announced port.
func httpSource(c int32) (net.IP, uint16) {
	i := int(c) % httpAddresses
	return net.IPv4(127, 2, byte(i/250), byte(1+i%250)), uint16(1 + int(c)/httpAddresses)
}

// bindAddressNoPort lets the kernel pick the source port at connect time
// (IP_BIND_ADDRESS_NO_PORT), so binding a source address does not use
// up ephemeral ports across destinations.
func bindAddressNoPort(_, _ string, rc syscall.RawConn) error {
	const ipBindAddressNoPort = 24
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

var debug = os.Getenv("OTLOAD_DEBUG") != ""

func (h *httpConn) Do(ctx context.Context, r *loadgen.Request) (loadgen.Outcome, error) {
	if r.Kind != loadgen.KindAnnounce {
		return loadgen.Outcome{}, fmt.Errorf("http: %s not supported", r.Kind)
	}
	ip, port := httpSource(r.Client)
	a := loadgen.HTTPAnnounce{Path: h.path, InfoHash: h.w.InfoHash(r.Torrent), PeerID: h.w.PeerID(r.Client),
		Port: port, Left: r.Left, Event: r.Event, NumWant: r.NumWant, Compact: true}
	if h.i2pIP {
		// As the tracker's HTTP server tunnel passes it on: the
		// tracker trusts ip only when a tunnel vouches for it.
		a.IP = h.dest.base64(r.Client)
		a.TunnelDest = a.IP
	}
	h.req = loadgen.AppendHTTPAnnounce(h.req[:0], h.target, &a, h.keepAlive)
	reused := h.conn != nil
	out, err := h.roundTrip(ctx, ip)
	if err != nil && reused && ctx.Err() == nil {
		out, err = h.roundTrip(ctx, ip) // the server had closed the kept-alive connection
	}
	if err != nil && debug {
		fmt.Fprintln(os.Stderr, "http:", err)
	}
	return out, err
}

func (h *httpConn) roundTrip(ctx context.Context, src net.IP) (loadgen.Outcome, error) {
	if h.conn == nil {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Control: bindAddressNoPort}
		c, err := d.DialContext(ctx, "tcp4", h.target)
		if err != nil {
			return loadgen.Outcome{}, err
		}
		h.conn = c
	}
	c := h.conn
	deadline, _ := ctx.Deadline()
	c.SetDeadline(deadline)
	head, body, buf, err := func() (loadgen.HTTPHead, []byte, []byte, error) {
		if _, err := c.Write(h.req); err != nil {
			return loadgen.HTTPHead{}, nil, h.buf, err
		}
		return loadgen.ReadHTTPResponse(c, h.buf)
	}()
	h.buf = buf
	if err != nil || !h.keepAlive || head.Close {
		c.Close()
		h.conn = nil
	}
	if err != nil {
		return loadgen.Outcome{}, err
	}
	if head.Status != 200 {
		return loadgen.Outcome{Refused: true}, nil
	}
	return loadgen.ParseAnnounceBody(body, h.peerLen)
}

// destMaker makes each client's stand-in I2P Destination for HTTP
// announces: Ed25519 key certificate, random-looking key fields derived
// from the client number. The HTTP tracker checks the structure, not the
// keys, so no key generation is needed per request.
type destMaker struct {
	seed uint64
	raw  [384]byte
}

func newDestMaker(seed uint64) destMaker { return destMaker{seed: seed} }

func (d *destMaker) base64(c int32) string {
	x := d.seed ^ uint64(c)<<20 ^ 0x6f746c6f6164
	for i := 0; i < len(d.raw); i += 8 {
		x = x*6364136223846793005 + 1442695040888963407
		v := x ^ x>>29
		for j := range 8 {
			d.raw[i+j] = byte(v >> (8 * j))
		}
	}
	dst, err := i2p.NewDestination(i2p.CryptoElGamal, d.raw[:256], i2p.SigEd25519, d.raw[352:384], d.raw[256:352])
	if err != nil {
		panic(err) // the sizes are fixed above
	}
	return dst.Base64()
}
