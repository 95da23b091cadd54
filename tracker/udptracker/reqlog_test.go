package udptracker

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-i2p/go-opentracker/datagram"
)

// withLogger rebuilds the harness's server to log to log.
func (h *harness) withLogger(log *slog.Logger) {
	cfg := h.srv.cfg
	cfg.Logger = log
	srv, err := NewServer(cfg, h.tracker.Destination.Hash(), []byte("0123456789abcdef0123456789abcdef"), h.swarms, h.session)
	if err != nil {
		h.t.Fatal(err)
	}
	h.srv = srv
}

// announceOnce connects alice and returns an announce Datagram3 of hers.
func (h *harness) announceMsg(alice *client, a Announce) []byte {
	hash := alice.keys.Destination.Hash()
	alice.cid = h.srv.ConnIDs().Issue(&hash, h.now)
	a.Header.ConnectionID = alice.cid
	return h.dg3(alice, AppendAnnounceRequest(nil, &a))
}

// TestAnnounceDebugLine: at debug each announce and scrape is one line
// with its transport, info hash, peer, event, numwant, peers returned
// and result; above debug none is written.
func TestAnnounceDebugLine(t *testing.T) {
	h := newHarness(t)
	var out bytes.Buffer
	h.withLogger(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})))
	alice := h.newClient(6880)
	h.srv.HandleMessage(datagram.ProtocolDatagram3, 6880, DefaultPort, h.announceMsg(alice, Announce{InfoHash: [20]byte{0xab}, NumWant: 7}))
	line := out.String()
	for _, want := range []string{"msg=announce", "transport=udp", "info_hash=ab00", "peer=" + alice.keys.Destination.Hash().B32(),
		"event=", "numwant=7", "peers=0", "result=ok"} {
		if !strings.Contains(line, want) {
			t.Errorf("debug line %q lacks %q", line, want)
		}
	}
	if n := strings.Count(line, "\n"); n != 1 {
		t.Fatalf("%d lines for one announce", n)
	}
	out.Reset()
	h.withLogger(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})))
	h.srv.HandleMessage(datagram.ProtocolDatagram3, 6880, DefaultPort, h.announceMsg(alice, Announce{InfoHash: [20]byte{0xab}, NumWant: 7}))
	if out.Len() != 0 {
		t.Fatalf("above debug: %q", out.String())
	}
}

// BenchmarkAnnounceLogAboveDebug is BenchmarkAnnounceTransport with a
// real text logger at info: the debug line must cost no allocation.
func BenchmarkAnnounceLogAboveDebug(b *testing.B) {
	benchAnnounceLogging(b, slog.LevelInfo)
}

// BenchmarkAnnounceLogAtDebug shows what the debug line costs when on.
func BenchmarkAnnounceLogAtDebug(b *testing.B) {
	benchAnnounceLogging(b, slog.LevelDebug)
}

func benchAnnounceLogging(b *testing.B, level slog.Level) {
	t := &testing.T{}
	h := newHarness(t)
	h.withLogger(slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: level})))
	h.session.got = make(chan struct{}, 1)
	alice := h.newClient(6880)
	msg := h.announceMsg(alice, Announce{InfoHash: [20]byte{1}, NumWant: -1})
	b.ReportAllocs()
	for b.Loop() {
		h.srv.HandleMessage(datagram.ProtocolDatagram3, 6880, DefaultPort, msg)
		<-h.session.got
		h.session.sent = h.session.sent[:0]
	}
}
