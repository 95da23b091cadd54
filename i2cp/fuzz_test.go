package i2cp

import (
	"bufio"
	"bytes"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

func FuzzReadFrame(f *testing.F) {
	f.Add(AppendMessagePayload(nil, 1, 2, []byte("hello")))
	f.Add(AppendSessionStatus(nil, 1, 1))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 31})
	if v, err := testvectors.Load(); err == nil {
		var stream []byte
		for _, frame := range seedFrames(f, v) {
			stream = append(stream, frame...)
		}
		f.Add(stream)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		buf := make([]byte, 64)
		for range 32 {
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
	case TypeDestroySession:
		_, _ = ParseDestroySession(body)
	case TypeCreateLeaseSet2:
		_, _, _, _ = ParseCreateLeaseSet2(body)
	case TypeCreateLeaseSet:
		_, _, _ = ParseCreateLeaseSet(body)
	}
}

// FuzzMessageBodies feeds every parser the same bytes, seeded with real
// bodies of each message.
func FuzzMessageBodies(f *testing.F) {
	v := testvectors.Must(f)
	seed := func(frame []byte) {
		_, body, err := ReadFrame(bufio.NewReader(bytes.NewReader(frame)), nil)
		if err == nil {
			f.Add(frame[4], body)
		}
	}
	for _, frame := range seedFrames(f, v) {
		seed(frame)
	}
	f.Fuzz(func(t *testing.T, typ byte, body []byte) {
		parseAny(typ, body)
		for _, other := range []byte{TypeCreateSession, TypeRequestLeaseSet, TypeSendMessageExpires, TypeHostLookup, TypeCreateLeaseSet, TypeCreateLeaseSet2} {
			parseAny(other, body)
		}
	})
}

func FuzzParseGzip(f *testing.F) {
	v := testvectors.Must(f)
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

// seedFrames is one real frame of every message the package parses.
func seedFrames(f *testing.F, v *testvectors.Vectors) [][]byte {
	keys, err := i2p.ParsePrivateKeys(testvectors.Hex(v.Destinations["tracker"].PrivateKeyFile))
	if err != nil {
		f.Fatal(err)
	}
	dest := keys.Destination
	now := time.UnixMilli(1_800_000_000_000)
	leases := []Lease{{TunnelID: 1, End: now}, {TunnelID: 2, End: now}}
	gd, _ := AppendGetDate(nil, GetDate{Version: ProtocolVersion, Options: i2p.Mapping{{Key: "i2cp.username", Value: "u"}}})
	cs, _ := AppendCreateSession(nil, keys, DefaultOptions(), now)
	lk, _ := keys.LeaseSetKeys()
	ls := &LeaseSet{Destination: dest, EncryptionKey: lk.ElGamalPublic, Leases: leases}
	_ = ls.Sign(keys.SigningKey)
	out := &OutMessage{SessionID: 1, To: dest, Payload: AppendGzip(nil, Header{Protocol: 20}, []byte("dg3")), Nonce: 1}
	outExp := *out
	outExp.Expires, outExp.Flags = now, FlagNoLeaseSet
	return [][]byte{
		gd,
		AppendSetDate(nil, SetDate{Date: now, Version: ProtocolVersion}),
		cs,
		AppendSessionStatus(nil, 1, StatusCreated),
		AppendDestroySession(nil, 1),
		AppendDisconnect(nil, "bye"),
		AppendRequestVariableLeaseSet(nil, 1, leases),
		AppendRequestLeaseSet(nil, 1, leases),
		testvectors.Hex(v.LeaseSet2.CreateLeaseSet2Msg),
		AppendCreateLeaseSet(nil, 1, ls, lk.ElGamalPrivate),
		appendSendMessage(nil, out),
		appendSendMessage(nil, &outExp),
		AppendMessagePayload(nil, 1, 2, out.Payload),
		AppendMessageStatus(nil, MessageStatus{SessionID: 1, MessageID: 2, Status: 4, Size: 3, Nonce: 1}),
		AppendHostLookup(nil, HostLookup{SessionID: 1, RequestID: 2, Timeout: time.Second, Type: LookupHash, Hash: dest.Hash()}),
		AppendHostLookup(nil, HostLookup{SessionID: 1, RequestID: 3, Timeout: time.Second, Type: LookupName, Name: "tracker.i2p"}),
		AppendHostReply(nil, 1, 2, 0, dest),
		AppendHostReply(nil, 1, 2, 1, i2p.Destination{}),
	}
}
