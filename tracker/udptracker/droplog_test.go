package udptracker

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-i2p/go-opentracker/datagram"
)

// TestDropDebugLine: at debug, a datagram dropped before its request is
// parsed is one line saying why, with its protocol, ports, size and the
// parse's error; above debug nothing is written and nothing allocated.
func TestDropDebugLine(t *testing.T) {
	h := newHarness(t)
	alice := h.newClient(6880)
	good := h.dg3(alice, []byte("short")) // under a BEP 15 header's 16 bytes
	cases := []struct {
		name              string
		protocol          uint8
		toPort            uint16
		payload           []byte
		reason, errPrefix string
	}{
		{"wrong protocol", 18, DefaultPort, []byte("raw"), "reason=" + DropWrongProtocol.String(), ""},
		{"wrong port", datagram.ProtocolDatagram3, DefaultPort + 1, good, "reason=" + DropWrongPort.String(), ""},
		{"datagram too short", datagram.ProtocolDatagram3, DefaultPort, []byte{1, 2, 3}, "reason=" + DropMalformedDatagram.String(), "err="},
		{"header malformed", datagram.ProtocolDatagram3, DefaultPort, good, "reason=" + DropMalformed.String(), "err="},
		{"connect malformed", datagram.ProtocolDatagram2, DefaultPort, []byte{9, 9}, "reason=" + DropMalformedDatagram.String(), "err="},
	}
	var out bytes.Buffer
	h.withLogger(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})))
	for _, c := range cases {
		out.Reset()
		h.srv.HandleMessage(c.protocol, 6880, c.toPort, c.payload)
		line := out.String()
		if strings.Count(line, "\n") != 1 || !strings.Contains(line, `msg="udp datagram dropped"`) || !strings.Contains(line, c.reason+" ") {
			t.Fatalf("%s: debug line %q", c.name, line)
		}
		for _, want := range []string{"from_port=6880", "bytes=", "protocol=", c.errPrefix} {
			if !strings.Contains(line, want) {
				t.Errorf("%s: debug line %q lacks %q", c.name, line, want)
			}
		}
	}
	// Above debug the line costs nothing: a drop before any parse
	// allocates nothing at all, and the line's own part of a drop after
	// a parse allocates nothing either (the parse's error may).
	info := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h.withLogger(info)
	for _, c := range cases[:2] {
		if n := testing.AllocsPerRun(100, func() { h.srv.HandleMessage(c.protocol, 6880, c.toPort, c.payload) }); n != 0 {
			t.Errorf("%s: %v allocations a drop at info", c.name, n)
		}
	}
	h.withLogger(info)
	parseErr := errors.New("parse failed")
	if n := testing.AllocsPerRun(100, func() { h.srv.dropDatagram(DropMalformed, 19, 6880, DefaultPort, 40, parseErr) }); n != 0 {
		t.Errorf("a drop's debug line at info: %v allocations", n)
	}
}
