package i2cp

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

func TestGzipVectors(t *testing.T) {
	for name, vec := range testvectors.Must(t).Gzip {
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
	b := javaLike(payload, 18)
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
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, 1)
	zw.Name = "x"
	zw.Write([]byte("named"))
	zw.Close()
	if _, data, err := ParseGzip(buf.Bytes(), &scratch); err != nil || string(data) != "named" {
		t.Fatalf("FNAME: %q %v", data, err)
	}
}

func trackerKeys(t testing.TB) *i2p.PrivateKeys {
	t.Helper()
	k, err := i2p.ParsePrivateKeys(testvectors.Hex(testvectors.Must(t).Destinations["tracker"].PrivateKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestLeaseSet2Vector rebuilds the reference LeaseSet2 and its
// CreateLeaseSet2 message byte for byte.
func TestLeaseSet2Vector(t *testing.T) {
	v := testvectors.Must(t)
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
	xPriv := testvectors.Hex(v.Destinations["tracker"].Inputs.X25519Private)
	msg, err := AppendCreateLeaseSet2(nil, 1, ls, []PrivateKey{{Type: i2p.CryptoX25519, Key: xPriv}})
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

// readOne reads the one frame in b.
func readOne(t *testing.T, b []byte) (byte, []byte) {
	t.Helper()
	typ, body, err := ReadFrame(bufio.NewReader(bytes.NewReader(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return typ, body
}

// TestControlMessagesRoundTrip: the session's control messages parse
// back to what was encoded.
func TestControlMessagesRoundTrip(t *testing.T) {
	keys, _ := i2p.NewIdentity(rand.Reader)
	b, _ := AppendGetDate(nil, GetDate{Version: ProtocolVersion, Options: i2p.Mapping{{Key: "i2cp.username", Value: "u"}}})
	if typ, body := readOne(t, b); typ != TypeGetDate {
		t.Fatal(typ)
	} else if m, err := ParseGetDate(body); err != nil || m.Version != ProtocolVersion || len(m.Options) != 1 {
		t.Fatalf("GetDate %+v %v", m, err)
	}
	now := time.UnixMilli(1_800_000_000_000)
	_, body := readOne(t, AppendSetDate(nil, SetDate{Date: now, Version: "0.9.67"}))
	if m, err := ParseSetDate(body); err != nil || !m.Date.Equal(now) || m.Version != "0.9.67" {
		t.Fatalf("SetDate %+v %v", m, err)
	}
	cs, err := AppendCreateSession(nil, keys, i2p.Mapping{{Key: "inbound.length", Value: "0"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	_, body = readOne(t, cs)
	cfg, err := ParseCreateSession(body)
	if err != nil || cfg.Verify() != nil || cfg.Destination.Hash() != keys.Destination.Hash() {
		t.Fatalf("CreateSession %v / %v", err, cfg.Verify())
	}
	body[len(body)-1] ^= 1
	if cfg, _ := ParseCreateSession(body); cfg.Verify() == nil {
		t.Fatal("tampered SessionConfig verifies")
	}
	_, body = readOne(t, AppendSessionStatus(nil, 5, StatusCreated))
	if id, st, err := ParseSessionStatus(body); err != nil || id != 5 || st != StatusCreated {
		t.Fatal("SessionStatus")
	}
	leases := []Lease{{TunnelID: 1, End: now}, {TunnelID: 2, End: now.Add(time.Minute)}}
	_, body = readOne(t, AppendRequestVariableLeaseSet(nil, 5, leases))
	if id, got, err := ParseRequestVariableLeaseSet(body); err != nil || id != 5 || len(got) != 2 || got[1].TunnelID != 2 {
		t.Fatal("RequestVariableLeaseSet")
	}
	_, body = readOne(t, AppendDisconnect(nil, "bye"))
	if s, err := ParseDisconnect(body); err != nil || s != "bye" {
		t.Fatal("Disconnect")
	}
}

// TestDataMessagesRoundTrip: SendMessage (both forms), MessagePayload
// and MessageStatus parse back to what was encoded.
func TestDataMessagesRoundTrip(t *testing.T) {
	keys, _ := i2p.NewIdentity(rand.Reader)
	now := time.UnixMilli(1_800_000_000_000)
	for _, exp := range []time.Time{{}, now} {
		m := OutMessage{SessionID: 5, To: keys.Destination, Payload: []byte("env"), Nonce: 9, Expires: exp, Flags: FlagNoLeaseSet}
		typ, body := readOne(t, appendSendMessage(nil, &m))
		back, err := ParseSendMessage(body, typ == TypeSendMessageExpires)
		if err != nil || string(back.Payload) != "env" || back.Nonce != 9 || (typ == TypeSendMessageExpires && (back.Flags != FlagNoLeaseSet || !back.Expires.Equal(now))) {
			t.Fatalf("SendMessage %d: %+v %v", typ, back, err)
		}
	}
	_, body := readOne(t, AppendMessagePayload(nil, 5, 77, []byte("data")))
	if id, mid, p, err := ParseMessagePayload(body); err != nil || id != 5 || mid != 77 || string(p) != "data" {
		t.Fatal("MessagePayload")
	}
	_, body = readOne(t, AppendMessageStatus(nil, MessageStatus{SessionID: 5, MessageID: 1, Status: 4, Size: 10, Nonce: 9}))
	if m, err := ParseMessageStatus(body); err != nil || m.Status != 4 || m.Nonce != 9 {
		t.Fatal("MessageStatus")
	}
}

// TestLookupMessagesRoundTrip: HostLookup (by hash and by name) and
// HostReply (found and not) parse back to what was encoded.
func TestLookupMessagesRoundTrip(t *testing.T) {
	keys, _ := i2p.NewIdentity(rand.Reader)
	var body []byte
	for _, hl := range []HostLookup{{SessionID: 5, RequestID: 3, Timeout: 10 * time.Second, Type: LookupHash, Hash: keys.Destination.Hash()},
		{SessionID: 5, RequestID: 4, Timeout: time.Second, Type: LookupName, Name: "tracker.i2p"}} {
		_, body = readOne(t, AppendHostLookup(nil, hl))
		if back, err := ParseHostLookup(body); err != nil || back != hl {
			t.Fatalf("HostLookup %+v %v", back, err)
		}
	}
	_, body = readOne(t, AppendHostReply(nil, 5, 3, 0, keys.Destination))
	if _, rid, code, d, err := ParseHostReply(body); err != nil || rid != 3 || code != 0 || d.Hash() != keys.Destination.Hash() {
		t.Fatal("HostReply")
	}
	_, body = readOne(t, AppendHostReply(nil, 5, 3, 1, i2p.Destination{}))
	if _, _, code, d, err := ParseHostReply(body); err != nil || code != 1 || !d.IsZero() {
		t.Fatal("HostReply failure")
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

func TestOlderRequestAndDestroy(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_000)
	var g i2p.Hash
	g[0] = 9
	leases := []Lease{{Gateway: g, TunnelID: 1, End: now}, {TunnelID: 2, End: now}}
	_, body, err := ReadFrame(bufio.NewReader(bytes.NewReader(AppendRequestLeaseSet(nil, 7, leases))), nil)
	if err != nil {
		t.Fatal(err)
	}
	id, got, err := ParseRequestLeaseSet(body)
	if err != nil || id != 7 || len(got) != 2 || got[0] != leases[0] || got[1] != leases[1] {
		t.Fatalf("RequestLeaseSet: %+v %v", got, err)
	}
	if _, _, err := ParseRequestLeaseSet(body[:len(body)-1]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("truncated RequestLeaseSet: %v", err)
	}
	_, body, _ = ReadFrame(bufio.NewReader(bytes.NewReader(AppendDestroySession(nil, 513))), nil)
	if id, err := ParseDestroySession(body); err != nil || id != 513 {
		t.Fatalf("DestroySession %d %v", id, err)
	}
}

// TestSessionConfigSortedOptions: the signature covers the options sorted
// by key, as the Java router re-serializes them to verify; a config
// signed over another order does not verify, and a stale one is caught
// by the caller through Date.
func TestSessionConfigSortedOptions(t *testing.T) {
	keys, _ := i2p.NewIdentity(rand.Reader)
	date := time.UnixMilli(1_800_000_000_000)
	// Hand-made unsorted Mapping: "b=1;" then "a=2;".
	unsorted := []byte{0, 12, 1, 'b', '=', 1, '1', ';', 1, 'a', '=', 1, '2', ';'}
	body := append(keys.Destination.Bytes(), unsorted...)
	body = appendDate(body, date)
	sig, _ := keys.SigningKey.Sign(body)
	cfg, err := ParseCreateSession(append(body, sig...))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Verify(); err == nil {
		t.Fatal("config signed over unsorted options verifies")
	}
	good, _ := AppendCreateSession(nil, keys, i2p.Mapping{{Key: "b", Value: "1"}, {Key: "a", Value: "2"}}, date)
	if cfg, err := ParseCreateSession(good[5:]); err != nil || cfg.Verify() != nil {
		t.Fatalf("sorted config: %v / %v", err, cfg.Verify())
	}
}

// TestOfflineLeaseSet2: a LeaseSet2 with an offline block, signed by the
// transient key, round-trips and verifies; a wrong signer, a tampered
// delegation and an expired one are refused.
func TestOfflineLeaseSet2(t *testing.T) {
	long, _ := i2p.NewIdentity(rand.Reader)
	transient, _ := i2p.GenerateSigningKey(i2p.SigEd25519, rand.Reader)
	pub := time.Unix(1_800_000_000, 0)
	o, err := i2p.NewOfflineSignature(long.SigningKey, transient, pub.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	lk, _ := long.LeaseSetKeys()
	mk := func(signer i2p.SigningKey, off i2p.OfflineSignature) []byte {
		ls := &LeaseSet2{Destination: long.Destination, Published: pub, Expires: pub.Add(10 * time.Minute), Offline: &off,
			Keys: []EncryptionKey{{Type: i2p.CryptoX25519, Key: lk.X25519Public}}, Leases: []Lease{{TunnelID: 3, End: pub.Add(10 * time.Minute)}}}
		if err := ls.Sign(signer); err != nil {
			t.Fatal(err)
		}
		b, err := ls.AppendTo(nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := mk(transient, o)
	ls, rest, err := ParseLeaseSet2(append(b, 0xee))
	if err != nil || len(rest) != 1 || ls.Offline == nil || ls.Flags&1 == 0 || ls.Leases[0].TunnelID != 3 {
		t.Fatalf("offline LeaseSet2: %v", err)
	}
	if _, _, err := ParseLeaseSet2(mk(long.SigningKey, o)); err == nil {
		t.Fatal("signed by the long-term key instead of the transient one: accepted")
	}
	bad := o
	bad.Expires++
	if _, _, err := ParseLeaseSet2(mk(transient, bad)); err == nil {
		t.Fatal("tampered offline block accepted")
	}
	old, _ := i2p.NewOfflineSignature(long.SigningKey, transient, pub.Add(-time.Second))
	if _, _, err := ParseLeaseSet2(mk(transient, old)); err == nil {
		t.Fatal("delegation expired before publication accepted")
	}
	// And through CreateLeaseSet2 as the router receives it.
	ls.Signature = nil
	if err := ls.Sign(transient); err != nil {
		t.Fatal(err)
	}
	msg, err := AppendCreateLeaseSet2(nil, 4, ls, []PrivateKey{{Type: i2p.CryptoX25519, Key: lk.X25519Private}})
	if err != nil {
		t.Fatal(err)
	}
	if _, back, _, err := ParseCreateLeaseSet2(msg[5:]); err != nil || back.Offline == nil {
		t.Fatalf("CreateLeaseSet2 with offline LeaseSet2: %v", err)
	}
}

// appendSendMessage appends a SendMessage or SendMessageExpires frame, as a client
// writes one (the Session writes its own straight into the outbox).
func appendSendMessage(dst []byte, m *OutMessage) []byte {
	typ := byte(TypeSendMessage)
	if !m.Expires.IsZero() {
		typ = TypeSendMessageExpires
	}
	dst, at := beginFrame(dst, typ)
	dst = binary.BigEndian.AppendUint16(dst, m.SessionID)
	dst = append(dst, m.To.Bytes()...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(m.Payload)))
	dst = append(dst, m.Payload...)
	dst = binary.BigEndian.AppendUint32(dst, m.Nonce)
	if typ == TypeSendMessageExpires {
		dst = binary.BigEndian.AppendUint16(dst, m.Flags)
		ms := uint64(m.Expires.UnixMilli())
		dst = append(dst, byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms))
	}
	return endFrame(dst, at)
}
