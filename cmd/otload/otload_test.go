package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/loadgen"
	"github.com/go-i2p/go-opentracker/plugin"
	"github.com/go-i2p/go-opentracker/tracker/udptracker"
)

// runReport runs otload with args (plus -json) and decodes its report.
func runReport(t *testing.T, args ...string) *loadgen.Report {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if code := run(ctx, append(args, "-json"), &out, &errb); code != 0 {
		t.Fatalf("otload %v: exit %d\n%s", args, code, errb.String())
	}
	var rep loadgen.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out.String())
	}
	return &rep
}

func phase(t *testing.T, rep *loadgen.Report, name string, k loadgen.Kind) loadgen.KindResult {
	t.Helper()
	for _, p := range rep.Phases {
		if p.Phase == name {
			if r := p.Kind(k); r != nil {
				return *r
			}
		}
	}
	t.Fatalf("no %s results in phase %s: %+v", k, name, rep.Phases)
	return loadgen.KindResult{}
}

// bep15Responder is a tiny BEP 15 tracker on loopback UDP: a connection
// id per source address, announces checked against it, five peers a
// reply, scrapes answered.
type bep15Responder struct {
	pc        *net.UDPConn
	peers     sync.Map // "addr:port" announced
	badCID    atomic.Uint64
	announces atomic.Uint64
}

func newBEP15Responder(t *testing.T) *bep15Responder {
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &bep15Responder{pc: pc}
	done := make(chan struct{})
	t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		r.serve()
	}()
	return r
}

func cidFor(a *net.UDPAddr) uint64 {
	return binary.BigEndian.Uint64(append(a.IP.To4(), 0xc1, 0xd0, 0, 1))
}

func (r *bep15Responder) serve() {
	buf := make([]byte, 2048)
	var a udptracker.Announce
	var s udptracker.Scrape
	for {
		n, from, err := r.pc.ReadFromUDP(buf)
		if err != nil {
			return
		}
		h, err := udptracker.ParseHeader(buf[:n])
		if err != nil {
			continue
		}
		var out []byte
		switch {
		case h.Action == udptracker.ActionConnect:
			out = udptracker.AppendConnectResponse(nil, h.TransactionID, cidFor(from), 600)[:16]
		case h.ConnectionID != cidFor(from):
			r.badCID.Add(1)
			out = udptracker.AppendErrorResponse(nil, h.TransactionID, "Connection ID missmatch.")
		case h.Action == udptracker.ActionAnnounce && udptracker.ParseAnnounce(buf[:n], &a) == nil:
			r.announces.Add(1)
			r.peers.Store(fmt.Sprintf("%s:%d", from.IP, a.Port), true)
			out = udptracker.AppendAnnounceResponseHeader(nil, h.TransactionID, 1800, 3, 2)
			out = append(out, make([]byte, 5*6)...)
		case h.Action == udptracker.ActionScrape && udptracker.ParseScrape(buf[:n], &s) == nil:
			out = udptracker.AppendScrapeResponseHeader(nil, h.TransactionID)
			for range s.Len() {
				out = udptracker.AppendScrapeEntry(out, 1, 2, 3)
			}
		default:
			continue
		}
		r.pc.WriteToUDP(out, from)
	}
}

// TestUDPMode drives the whole udp mode — connect sweep, populate, steady
// mix with scrapes — against the in-test responder.
func TestUDPMode(t *testing.T) {
	r := newBEP15Responder(t)
	rep := runReport(t, "udp", "-target", r.pc.LocalAddr().String(), "-clients", "700", "-torrents", "30",
		"-workers", "3", "-window", "8", "-populate", "-duration", "0", "-requests", "4000", "-scrapes", "0.1",
		"-pid", strconv.Itoa(os.Getpid()), "-name", "responder")
	if c := phase(t, rep, "connect", loadgen.KindConnect); c.Sent != 700 || c.Answered != 700 {
		t.Errorf("connect phase: %+v", c)
	}
	if p := phase(t, rep, "populate", loadgen.KindAnnounce); p.Sent != 700 || p.Answered != 700 || p.PeersPerReply != 5 {
		t.Errorf("populate phase: %+v", p)
	}
	a, s := phase(t, rep, "steady", loadgen.KindAnnounce), phase(t, rep, "steady", loadgen.KindScrape)
	if a.Sent+s.Sent != 4000 || a.Answered != a.Sent || s.Answered != s.Sent || a.Latency.P99 <= 0 {
		t.Errorf("steady phase: %+v %+v", a, s)
	}
	n := 0
	r.peers.Range(func(_, _ any) bool { n++; return true })
	if n != 700 {
		t.Errorf("the responder saw %d distinct (address, port) peers, want one per client", n)
	}
	if r.badCID.Load() != 0 {
		t.Errorf("%d requests with a connection id from another address", r.badCID.Load())
	}
	if rep.Phases[0].Tracker == nil || rep.Tracker != "responder" || rep.Engine.Workers != 3 {
		t.Errorf("report header: %+v", rep)
	}
}

// httpResponder answers announces like a compact HTTP tracker and checks
// what otload sends.
type httpResponder struct {
	srv       *http.Server
	addr      string
	bad       atomic.Uint64
	conns     atomic.Uint64
	announces atomic.Uint64
	dests     sync.Map
}

func newHTTPResponder(t *testing.T, keepAlive bool) *httpResponder {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &httpResponder{addr: ln.Addr().String()}
	h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			h.conns.Add(1)
		}
	}}
	h.srv.SetKeepAlivesEnabled(keepAlive)
	go h.srv.Serve(ln)
	t.Cleanup(func() { h.srv.Close() })
	return h
}

func (h *httpResponder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	port, _ := strconv.Atoi(q.Get("port"))
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	peerLen := 6
	if ip := q.Get("ip"); ip != "" {
		d, err := i2p.ParseDestinationBase64(ip)
		if err != nil {
			h.bad.Add(1)
		}
		h.dests.Store(d.Hash(), true)
		peerLen = 32
	}
	if r.URL.Path != "/announce" || len(q.Get("info_hash")) != 20 || len(q.Get("peer_id")) != 20 || port < 1 ||
		q.Get("compact") != "1" || !strings.HasPrefix(host, "127.2.") {
		h.bad.Add(1)
		io.WriteString(w, "d14:failure reason3:bade")
		return
	}
	h.announces.Add(1)
	fmt.Fprintf(w, "d8:intervali1800e5:peers%d:%se", 4*peerLen, strings.Repeat("p", 4*peerLen))
}

func TestHTTPMode(t *testing.T) {
	for _, tc := range []struct {
		name      string
		keepAlive bool
		i2p       bool
	}{{"connection per request", false, false}, {"keep-alive, I2P destinations", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHTTPResponder(t, tc.keepAlive)
			args := []string{"http", "-target", h.addr, "-clients", "300", "-torrents", "20", "-conns", "4",
				"-populate", "-duration", "0", "-requests", "1500"}
			if tc.keepAlive {
				args = append(args, "-keepalive")
			}
			if tc.i2p {
				args = append(args, "-i2p")
			}
			rep := runReport(t, args...)
			p, s := phase(t, rep, "populate", loadgen.KindAnnounce), phase(t, rep, "steady", loadgen.KindAnnounce)
			if p.Answered != 300 || s.Sent != 1500 || s.Answered != 1500 || s.PeersPerReply != 4 {
				t.Errorf("populate %+v\nsteady %+v", p, s)
			}
			if h.bad.Load() != 0 || h.announces.Load() != 1800 {
				t.Errorf("responder: %d bad requests, %d announces", h.bad.Load(), h.announces.Load())
			}
			if conns := h.conns.Load(); tc.keepAlive && conns > 8 || !tc.keepAlive && conns != 1800 {
				t.Errorf("%d TCP connections for 1800 requests (keep-alive %v)", conns, tc.keepAlive)
			}
			if tc.i2p {
				n := 0
				h.dests.Range(func(_, _ any) bool { n++; return true })
				if n != 300 {
					t.Errorf("%d distinct Destinations, want one per client", n)
				}
			}
		})
	}
}

// pluginHost runs go-opentracker's plugin in-process against otload's
// router address.
type pluginHost struct {
	dir, addr string
}

func (h *pluginHost) DialI2CP(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", h.addr)
}
func (h *pluginHost) DataDir() string           { return h.dir }
func (h *pluginHost) MountTracker(http.Handler) {}
func (h *pluginHost) MountConsole(http.Handler) {}

// TestI2CPMode plays the router for the real tracker (the plugin, in
// this process): Datagram2 connects and Datagram3 announces through
// I2CP, answered by the whole UDP tracker path, with the frames to the
// tracker batched and one per write.
func TestI2CPMode(t *testing.T) {
	for _, delivery := range []string{"batch", "each"} {
		t.Run(delivery, func(t *testing.T) { testI2CPMode(t, delivery) })
	}
}

func testI2CPMode(t *testing.T, delivery string) {
	port, err := freeLoopbackPort()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p, err := plugin.New(&pluginHost{dir: t.TempDir(), addr: addr}, plugin.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Stop(context.Background())
	rep := runReport(t, "i2cp", "-delivery", delivery, "-listen", addr, "-wait", "1m", "-clients", "150", "-torrents", "10",
		"-workers", "2", "-window", "16", "-duration", "0", "-requests", "1500", "-scrapes", "0.1")
	if c := phase(t, rep, "connect", loadgen.KindConnect); c.Answered != 150 || c.Lost != 0 {
		t.Errorf("connect phase: %+v", c)
	}
	a, s := phase(t, rep, "steady", loadgen.KindAnnounce), phase(t, rep, "steady", loadgen.KindScrape)
	if a.Sent+s.Sent != 1500 || a.Answered != a.Sent || s.Answered != s.Sent || a.PeersPerReply <= 0 {
		t.Errorf("steady phase: %+v %+v", a, s)
	}
	if st := p.Tracker().Totals(); st.Peers == 0 {
		t.Errorf("the tracker holds no peers: %+v", st)
	}
}

// TestStreamMode: HTTP announces over I2P streaming through otload's
// router to the real tracker (the plugin, in this process), every one
// answered with peers; then streams held open for the memory note.
func TestStreamMode(t *testing.T) {
	port, err := freeLoopbackPort()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	dir := t.TempDir()
	limitsOff := "max_conns_per_minute: 0\nmax_conns_per_hour: 0\nmax_total_conns_per_minute: 0\n"
	if err := os.WriteFile(filepath.Join(dir, plugin.ConfigFileName), []byte(limitsOff), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := plugin.New(&pluginHost{dir: dir, addr: addr}, plugin.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer p.Stop(context.Background())
	rep := runReport(t, "stream", "-listen", addr, "-wait", "1m", "-clients", "40", "-torrents", "5", "-conns", "4",
		"-populate", "-duration", "0", "-requests", "200", "-pid", strconv.Itoa(os.Getpid()), "-hold", "20", "-settle", "100ms")
	if a := phase(t, rep, "populate", loadgen.KindAnnounce); a.Answered != 40 || a.Refused != 0 {
		t.Errorf("populate phase: %+v", a)
	}
	if a := phase(t, rep, "steady", loadgen.KindAnnounce); a.Sent != 200 || a.Answered != a.Sent || a.Refused != 0 || a.PeersPerReply <= 0 {
		t.Errorf("steady phase: %+v", a)
	}
	// Each peer is a client's own stream Destination (steady announces
	// may stop some).
	if st := p.Tracker().Totals(); st.Peers == 0 || st.Peers > 40 {
		t.Errorf("the tracker holds %d peers, want up to the 40 clients", st.Peers)
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, "20 streams held open") }) {
		t.Errorf("no memory note: %q", rep.Notes)
	}
}

func TestUsageAndHashes(t *testing.T) {
	for _, args := range [][]string{nil, {"tcp"}, {"udp", "-nope"}, {"udp", "extra"}, {"i2cp", "-opentracker", "x"},
		{"udp", "-spawn", "x"}, {"http", "-restart"}, {"http", "-scrapes", "0.5"}, {"i2cp", "-port", "0"},
		{"stream", "-opentracker", "x"}, {"http", "-hold", "5"}, {"stream", "-scrapes", "0.5"},
		{"i2cp", "-delivery", "some"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("otload %v: exit %d, stderr %q", args, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"hashes", "-torrents", "25"}, &out, &errb); code != 0 {
		t.Fatalf("hashes: exit %d: %s", code, errb.String())
	}
	w, _ := loadgen.NewWorkload(loadgen.Config{Torrents: 25, Clients: 1, Seed: 1})
	sc := bufio.NewScanner(&out)
	n := 0
	for ; sc.Scan(); n++ {
		h := w.InfoHash(int32(n))
		if sc.Text() != fmt.Sprintf("%x", h[:]) {
			t.Fatalf("line %d: %q", n, sc.Text())
		}
	}
	if n != 25 {
		t.Errorf("%d hashes, want 25", n)
	}
}

func TestParseGoTrackerLines(t *testing.T) {
	var g goTracker
	for _, l := range []string{
		"go-opentracker 0.1.0",
		"tracker address: ukeu3k5oycgaauneqgtnvselmt4yemvoilkln7jpvamvfx7dnkdq.b32.i2p",
		"HTTP tracker:    http://127.0.0.1:41234/ (point the router's HTTP server tunnel here)",
		"console:         http://127.0.0.1:41235/",
	} {
		g.parseLine(l)
	}
	if g.hash.IsZero() || g.httpAddr != "127.0.0.1:41234" || g.consoleAddr != "127.0.0.1:41235" {
		t.Errorf("parsed %+v", g)
	}
}
