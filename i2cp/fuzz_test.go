package i2cp

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

func FuzzReadFrame(f *testing.F) {
	f.Add(AppendMessagePayload(nil, 1, 2, []byte("hello")))
	f.Add(AppendSessionStatus(nil, 1, 1))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 31})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		buf := make([]byte, 64)
		for range 8 {
			typ, body, err := ReadFrame(r, buf)
			if err != nil {
				return
			}
			parseAny(typ, body)
		}
	})
}

// parseAny runs the parser for typ over body; none may panic.
func parseAny(typ byte, body []byte) {
	switch typ {
	case TypeGetDate:
		_, _ = ParseGetDate(body)
	case TypeSetDate:
		_, _ = ParseSetDate(body)
	case TypeCreateSession:
		if c, err := ParseCreateSession(body); err == nil {
			_ = c.Verify()
		}
	case TypeSessionStatus:
		_, _, _ = ParseSessionStatus(body)
	case TypeRequestVariableLeaseSet:
		_, _, _ = ParseRequestVariableLeaseSet(body)
	case TypeRequestLeaseSet:
		_, _, _ = ParseRequestLeaseSet(body)
	case TypeSendMessage, TypeSendMessageExpires:
		_, _ = ParseSendMessage(body, typ == TypeSendMessageExpires)
	case TypeMessagePayload:
		_, _, _, _ = ParseMessagePayload(body)
	case TypeMessageStatus:
		_, _ = ParseMessageStatus(body)
	case TypeHostLookup:
		_, _ = ParseHostLookup(body)
	case TypeHostReply:
		_, _, _, _, _ = ParseHostReply(body)
	case TypeDisconnect:
		_, _ = ParseDisconnect(body)
	case TypeCreateLeaseSet2:
		_, _, _, _ = ParseCreateLeaseSet2(body)
	case TypeCreateLeaseSet:
		_, _, _ = ParseCreateLeaseSet(body)
	}
}

// FuzzMessageBodies feeds every parser the same bytes, seeded with real
// bodies of each message.
func FuzzMessageBodies(f *testing.F) {
	v, err := testvectors.Load()
	if err != nil {
		f.Fatal(err)
	}
	seed := func(frame []byte) {
		_, body, err := ReadFrame(bufio.NewReader(bytes.NewReader(frame)), nil)
		if err == nil {
			f.Add(frame[4], body)
		}
	}
	seed(testvectors.Hex(v.LeaseSet2.CreateLeaseSet2Msg))
	seed(AppendSessionStatus(nil, 1, 1))
	seed(AppendMessagePayload(nil, 1, 2, []byte("x")))
	seed(AppendHostReply(nil, 1, 2, 1, testvectorsDest(f, v)))
	seed(AppendRequestVariableLeaseSet(nil, 1, []Lease{{TunnelID: 1}}))
	f.Fuzz(func(t *testing.T, typ byte, body []byte) {
		parseAny(typ, body)
		for _, other := range []byte{TypeCreateSession, TypeSendMessageExpires, TypeHostLookup, TypeCreateLeaseSet, TypeCreateLeaseSet2} {
			parseAny(other, body)
		}
	})
}

func FuzzParseGzip(f *testing.F) {
	v, err := testvectors.Load()
	if err != nil {
		f.Fatal(err)
	}
	for _, g := range v.Gzip {
		f.Add(testvectors.Hex(g.Wire))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var scratch []byte
		_, data, err := ParseGzip(b, &scratch)
		if err == nil && len(data) > MaxPayload {
			t.Fatalf("payload of %d bytes", len(data))
		}
	})
}
