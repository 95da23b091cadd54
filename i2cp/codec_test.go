package i2cp

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

func vectors(t testing.TB) *testvectors.Vectors {
	t.Helper()
	v, err := testvectors.Load()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestGzipVectors(t *testing.T) {
	for name, vec := range vectors(t).Gzip {
		t.Run(name, func(t *testing.T) {
			payload := testvectors.Hex(vec.Payload)
			h := Header{Protocol: uint8(vec.Proto), FromPort: uint16(vec.FromPort), ToPort: uint16(vec.ToPort)}
			got := AppendGzip(nil, h, payload)
			if hex.EncodeToString(got) != vec.Wire {
				t.Fatalf("envelope differs:\n got %x\nwant %s", got, vec.Wire)
			}
			if len(got) != GzipLen(len(payload)) {
				t.Fatalf("GzipLen %d, actual %d", GzipLen(len(payload)), len(got))
			}
			var scratch []byte
			h2, data, err := ParseGzip(testvectors.Hex(vec.Wire), &scratch)
			if err != nil || h2 != h || !bytes.Equal(data, payload) {
				t.Fatalf("parse: %+v %v", h2, err)
			}
			// Standard gzip readers accept it too.
			zr, err := gzip.NewReader(bytes.NewReader(got))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if _, err := out.ReadFrom(zr); err != nil || !bytes.Equal(out.Bytes(), payload) {
				t.Fatalf("compress/gzip reads %x, %v", out.Bytes(), err)
			}
		})
	}
}

// TestGzipCompressed accepts any valid deflate data, as a Java sender's
// compressed (level 3) payloads, with the ports in the header.
func TestGzipCompressed(t *testing.T) {
	payload := bytes.Repeat([]byte("compressible tracker payload "), 40)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, 3)
	zw.Write(payload)
	zw.Close()
	b := buf.Bytes()
	b[4], b[5], b[6], b[7], b[8], b[9] = 0x1b, 0x39, 0x30, 0x39, 2, 18
	var scratch []byte
	h, data, err := ParseGzip(b, &scratch)
	if err != nil || !bytes.Equal(data, payload) || h.FromPort != 6969 || h.ToPort != 12345 || h.Protocol != 18 {
		t.Fatalf("%+v %v", h, err)
	}
	// A large payload spans several stored blocks.
	big := make([]byte, 70000)
	rand.Read(big)
	if _, _, err := ParseGzip(AppendGzip(nil, Header{}, big), &scratch); !errors.Is(err, ErrPayloadTooLarge) {
		t.Fatalf("70000-byte payload: %v", err)
	}
	two := big[:MaxPayload] // two stored blocks (65535 + 1 bytes)
	env := AppendGzip(nil, Header{}, two)
	if _, data, err = ParseGzip(env, &scratch); err != nil || !bytes.Equal(data, two) {
		t.Fatalf("two stored blocks: %v", err)
	}
	// Corruptions.
	env[len(env)-9] ^= 1
	if _, _, err := ParseGzip(env, &scratch); !errors.Is(err, ErrBadChecksum) {
		t.Fatalf("flipped byte: %v", err)
	}
	if _, _, err := ParseGzip([]byte("not gzip at all, no"), &scratch); !errors.Is(err, ErrNotGzip) {
		t.Fatalf("garbage: %v", err)
	}
	// A gzip with FNAME set (what a standard writer emits with a name).
	buf.Reset()
	zw, _ = gzip.NewWriterLevel(&buf, 1)
	zw.Name = "x"
	zw.Write([]byte("named"))
	zw.Close()
	if _, data, err := ParseGzip(buf.Bytes(), &scratch); err != nil || string(data) != "named" {
		t.Fatalf("FNAME: %q %v", data, err)
	}
}

func trackerKeys(t testing.TB) *i2p.PrivateKeys {
	t.Helper()
	k, err := i2p.ParsePrivateKeys(testvectors.Hex(vectors(t).Destinations["tracker"].PrivateKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestLeaseSet2Vector rebuilds the reference LeaseSet2 and its
// CreateLeaseSet2 message byte for byte.
func TestLeaseSet2Vector(t *testing.T) {
	v := vectors(t)
	keys := trackerKeys(t)
	vec := v.LeaseSet2
	ls := &LeaseSet2{
		Destination: keys.Destination,
		Published:   time.UnixMilli(vec.PublishedMs),
		Keys:        []EncryptionKey{{Type: i2p.CryptoX25519, Key: testvectors.Hex(v.Destinations["tracker"].EncPublicKey)}},
	}
	var last time.Time
	for _, l := range vec.Leases {
		var g i2p.Hash
		copy(g[:], testvectors.Hex(l.Gateway))
		end := time.UnixMilli(l.EndMs)
		ls.Leases = append(ls.Leases, Lease{Gateway: g, TunnelID: l.TunnelID, End: end})
		if end.After(last) {
			last = end
		}
	}
	ls.Expires = last
	if err := ls.Sign(keys.SigningKey); err != nil {
		t.Fatal(err)
	}
	got, err := ls.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got) != vec.LeaseSet2 {
		t.Fatalf("LeaseSet2 differs:\n got %x\nwant %s", got, vec.LeaseSet2)
	}
	msg, err := AppendCreateLeaseSet2(nil, 1, ls, []PrivateKey{{Type: i2p.CryptoX25519, Key: keys.EncryptionKey}})
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(msg) != vec.CreateLeaseSet2Msg {
		t.Fatalf("CreateLeaseSet2 differs:\n got %x\nwant %s", msg, vec.CreateLeaseSet2Msg)
	}
	typ, body, err := ReadFrame(bufio.NewReader(bytes.NewReader(msg)), nil)
	if err != nil || typ != TypeCreateLeaseSet2 {
		t.Fatal(err)
	}
	id, back, privs, err := ParseCreateLeaseSet2(body)
	if err != nil || id != 1 || len(back.Leases) != 2 || len(privs) != 1 || !back.Expires.Equal(time.UnixMilli(vec.Leases[1].EndMs).Truncate(time.Second)) {
		t.Fatalf("parse back: %v", err)
	}
	body[20] ^= 1 // inside the destination: the signature no longer verifies
	if _, _, _, err := ParseCreateLeaseSet2(body); err == nil {
		t.Fatal("tampered LeaseSet2 accepted")
	}
}

func TestLegacyLeaseSet(t *testing.T) {
	keys, _ := i2p.NewIdentity(rand.Reader)
	lk, _ := keys.LeaseSetKeys()
	ls := &LeaseSet{Destination: keys.Destination, EncryptionKey: lk.ElGamalPublic,
		Leases: []Lease{{TunnelID: 7, End: time.UnixMilli(1_800_000_000_123)}}}
	if err := ls.Sign(keys.SigningKey); err != nil {
		t.Fatal(err)
	}
	msg := AppendCreateLeaseSet(nil, 9, ls, lk.ElGamalPrivate)
	_, body, err := ReadFrame(bufio.NewReader(bytes.NewReader(msg)), nil)
	if err != nil {
		t.Fatal(err)
	}
	id, back, err := ParseCreateLeaseSet(body)
	if err != nil || id != 9 || back.Leases[0].TunnelID != 7 || !back.Leases[0].End.Equal(ls.Leases[0].End) {
		t.Fatalf("%v", err)
	}
}

func TestMessagesRoundTrip(t *testing.T) {
	keys, _ := i2p.NewIdentity(rand.Reader)
	read := func(b []byte) (byte, []byte) {
		typ, body, err := ReadFrame(bufio.NewReader(bytes.NewReader(b)), nil)
		if err != nil {
			t.Fatal(err)
		}
		return typ, body
	}
	b, _ := AppendGetDate(nil, GetDate{Version: ProtocolVersion, Options: i2p.Mapping{{Key: "i2cp.username", Value: "u"}}})
	if typ, body := read(b); typ != TypeGetDate {
		t.Fatal(typ)
	} else if m, err := ParseGetDate(body); err != nil || m.Version != ProtocolVersion || len(m.Options) != 1 {
		t.Fatalf("GetDate %+v %v", m, err)
	}
	now := time.UnixMilli(1_800_000_000_000)
	_, body := read(AppendSetDate(nil, SetDate{Date: now, Version: "0.9.67"}))
	if m, err := ParseSetDate(body); err != nil || !m.Date.Equal(now) || m.Version != "0.9.67" {
		t.Fatalf("SetDate %+v %v", m, err)
	}
	cs, err := AppendCreateSession(nil, keys, i2p.Mapping{{Key: "inbound.length", Value: "0"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	_, body = read(cs)
	cfg, err := ParseCreateSession(body)
	if err != nil || cfg.Verify() != nil || cfg.Destination.Hash() != keys.Destination.Hash() {
		t.Fatalf("CreateSession %v / %v", err, cfg.Verify())
	}
	body[len(body)-1] ^= 1
	if cfg, _ := ParseCreateSession(body); cfg.Verify() == nil {
		t.Fatal("tampered SessionConfig verifies")
	}
	_, body = read(AppendSessionStatus(nil, 5, StatusCreated))
	if id, st, err := ParseSessionStatus(body); err != nil || id != 5 || st != StatusCreated {
		t.Fatal("SessionStatus")
	}
	leases := []Lease{{TunnelID: 1, End: now}, {TunnelID: 2, End: now.Add(time.Minute)}}
	_, body = read(AppendRequestVariableLeaseSet(nil, 5, leases))
	if id, got, err := ParseRequestVariableLeaseSet(body); err != nil || id != 5 || len(got) != 2 || got[1].TunnelID != 2 {
		t.Fatal("RequestVariableLeaseSet")
	}
	for _, exp := range []time.Time{{}, now} {
		m := OutMessage{SessionID: 5, To: keys.Destination, Payload: []byte("env"), Nonce: 9, Expires: exp, Flags: FlagNoLeaseSet}
		typ, body := read(AppendSendMessage(nil, &m))
		back, err := ParseSendMessage(body, typ == TypeSendMessageExpires)
		if err != nil || string(back.Payload) != "env" || back.Nonce != 9 || (typ == TypeSendMessageExpires && (back.Flags != FlagNoLeaseSet || !back.Expires.Equal(now))) {
			t.Fatalf("SendMessage %d: %+v %v", typ, back, err)
		}
	}
	_, body = read(AppendMessagePayload(nil, 5, 77, []byte("data")))
	if id, mid, p, err := ParseMessagePayload(body); err != nil || id != 5 || mid != 77 || string(p) != "data" {
		t.Fatal("MessagePayload")
	}
	_, body = read(AppendMessageStatus(nil, MessageStatus{SessionID: 5, MessageID: 1, Status: 4, Size: 10, Nonce: 9}))
	if m, err := ParseMessageStatus(body); err != nil || m.Status != 4 || m.Nonce != 9 {
		t.Fatal("MessageStatus")
	}
	for _, hl := range []HostLookup{{SessionID: 5, RequestID: 3, Timeout: 10 * time.Second, Type: LookupHash, Hash: keys.Destination.Hash()},
		{SessionID: 5, RequestID: 4, Timeout: time.Second, Type: LookupName, Name: "tracker.i2p"}} {
		_, body = read(AppendHostLookup(nil, hl))
		if back, err := ParseHostLookup(body); err != nil || back != hl {
			t.Fatalf("HostLookup %+v %v", back, err)
		}
	}
	_, body = read(AppendHostReply(nil, 5, 3, 0, keys.Destination))
	if _, rid, code, d, err := ParseHostReply(body); err != nil || rid != 3 || code != 0 || d.Hash() != keys.Destination.Hash() {
		t.Fatal("HostReply")
	}
	_, body = read(AppendHostReply(nil, 5, 3, 1, i2p.Destination{}))
	if _, _, code, d, err := ParseHostReply(body); err != nil || code != 1 || !d.IsZero() {
		t.Fatal("HostReply failure")
	}
	_, body = read(AppendDisconnect(nil, "bye"))
	if s, err := ParseDisconnect(body); err != nil || s != "bye" {
		t.Fatal("Disconnect")
	}
}

func TestFrameLimits(t *testing.T) {
	huge := AppendFrameHeader(nil, TypeMessagePayload, MaxFrameBody+1)
	if _, _, err := ReadFrame(bufio.NewReader(bytes.NewReader(huge)), nil); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("huge frame: %v", err)
	}
	short := AppendFrameHeader(nil, TypeMessagePayload, 10)
	if _, _, err := ReadFrame(bufio.NewReader(bytes.NewReader(append(short, 1, 2))), nil); err == nil {
		t.Fatal("truncated frame accepted")
	}
	for _, body := range [][]byte{nil, {0}, {0, 1, 0, 0}} {
		if _, _, _, err := ParseMessagePayload(body); !errors.Is(err, ErrMalformed) {
			t.Fatalf("short MessagePayload %x: %v", body, err)
		}
	}
}

func testvectorsDest(t testing.TB, v *testvectors.Vectors) i2p.Destination {
	d, _, err := i2p.ParseDestination(testvectors.Hex(v.Destinations["sender"].Destination))
	if err != nil {
		t.Fatal(err)
	}
	return d
}
