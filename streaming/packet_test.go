package streaming

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/testkeys"
)

// newTestIdentity makes a Destination of signature type st and its
// signing key.
func newTestIdentity(t testing.TB, st i2p.SigType) (i2p.Destination, i2p.SigningKey) {
	t.Helper()
	k := testkeys.New(t, st)
	return k.Destination, k.SigningKey
}

func testSYN(from, to i2p.Destination) *Packet {
	p := &Packet{
		ReceiveStreamID: 0x01020304, ResendDelay: 1,
		Flags: FlagSYN | FlagFrom | FlagDelay | FlagMaxPacketSize | FlagNoACK,
		From:  from, MaxPacketSize: 1730, Payload: []byte("GET /a HTTP/1.0\r\n\r\n"),
	}
	p.SetTargetHash(to.Hash())
	return p
}

// TestSignatureTypes: a SYN signed with each signature type the tracker
// verifies parses, verifies, re-encodes byte for byte and fails when one
// byte changes; RSA is refused.
func TestSignatureTypes(t *testing.T) {
	server, _ := newTestIdentity(t, i2p.SigEd25519)
	for _, st := range []i2p.SigType{i2p.SigDSASHA1, i2p.SigECDSASHA256P256, i2p.SigECDSASHA384P384,
		i2p.SigECDSASHA512P521, i2p.SigEd25519, i2p.SigRedDSASHA512} {
		t.Run(st.String(), func(t *testing.T) {
			d, k := newTestIdentity(t, st)
			raw, err := testSYN(d, server).AppendSigned(nil, k)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Signature) != st.SignatureLen() {
				t.Fatalf("signature %d bytes", len(p.Signature))
			}
			if err := p.Verify(Signer{}, time.Now(), nil); err != nil {
				t.Fatal(err)
			}
			back, _ := p.AppendTo(nil)
			if !bytes.Equal(back, raw) {
				t.Fatal("re-encoding differs")
			}
			raw[len(raw)-1] ^= 1
			p, _ = Parse(raw)
			if err := p.Verify(Signer{}, time.Now(), nil); !errors.Is(err, i2p.ErrBadSignature) {
				t.Fatalf("tampered payload: %v", err)
			}
		})
	}
}

func TestRSARefused(t *testing.T) {
	d, _ := newTestIdentity(t, i2p.SigEd25519)
	// An RSA-2048 Destination: the key cert names type 4 with a 256-byte
	// key, 128 bytes of which overflow into the certificate.
	pub := make([]byte, i2p.SigRSASHA2562048.PublicKeyLen())
	rand.Read(pub)
	rsa, err := i2p.NewDestination(i2p.CryptoElGamal, make([]byte, 256), i2p.SigRSASHA2562048, pub, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := testSYN(rsa, d)
	p.Flags |= FlagSignature
	p.Signature = make([]byte, i2p.SigRSASHA2562048.SignatureLen())
	raw, err := p.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Verify(Signer{}, time.Now(), nil); !errors.Is(err, ErrRSARefused) {
		t.Fatalf("RSA: %v", err)
	}
}

// TestOfflineSignature: a SYN with an offline block verifies with the
// transient key; later packets without FROM verify against the Signer
// learnt from the SYN; an expired block, a forged block or a later packet
// signed with the long-term key fail.
func TestOfflineSignature(t *testing.T) {
	server, _ := newTestIdentity(t, i2p.SigEd25519)
	d, long := newTestIdentity(t, i2p.SigEd25519)
	transient, err := i2p.GenerateSigningKey(i2p.SigECDSASHA256P256, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	off, err := i2p.NewOfflineSignature(long, transient, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	syn := testSYN(d, server)
	syn.Flags |= FlagOffline
	syn.Offline = &off
	if _, err := syn.AppendSigned(nil, long); err == nil {
		t.Fatal("signed an offline packet with the long-term key")
	}
	raw, err := syn.AppendSigned(nil, transient)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(Signer{}, now, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(Signer{}, now.Add(2*time.Hour), nil); err == nil {
		t.Fatal("expired offline block accepted")
	}
	back, _ := p.AppendTo(nil)
	if !bytes.Equal(back, raw) {
		t.Fatal("re-encoding differs")
	}
	peer := p.PacketSigner()
	closePkt := &Packet{SendStreamID: 9, ReceiveStreamID: 1, Seq: 1, Flags: FlagClose}
	craw, err := closePkt.AppendSigned(nil, transient)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(craw)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(peer, now, nil); err != nil {
		t.Fatalf("CLOSE by the transient key: %v", err)
	}
	if err := c.Verify(Signer{Destination: d}, now, nil); err == nil {
		t.Fatal("transient signature accepted as the long-term key's")
	}
	// A forged delegation: the block's signature is not the Destination's.
	forged := off
	forged.Signature = bytes.Clone(off.Signature)
	forged.Signature[0] ^= 1
	syn.Offline = &forged
	raw, _ = syn.AppendSigned(nil, transient)
	p, _ = Parse(raw)
	if err := p.Verify(Signer{}, now, nil); err == nil {
		t.Fatal("forged offline block accepted")
	}
}

func TestWrongSigner(t *testing.T) {
	server, _ := newTestIdentity(t, i2p.SigEd25519)
	a, ka := newTestIdentity(t, i2p.SigEd25519)
	b, _ := newTestIdentity(t, i2p.SigEd25519)
	raw, _ := testSYN(a, server).AppendSigned(nil, ka)
	p, _ := Parse(raw)
	if err := p.Verify(Signer{Destination: b}, time.Now(), nil); !errors.Is(err, ErrWrongSigner) {
		t.Fatalf("FROM differs from the known peer: %v", err)
	}
	ack := &Packet{SendStreamID: 1, ReceiveStreamID: 2}
	raw, _ = ack.AppendTo(nil)
	p, _ = Parse(raw)
	if err := p.Verify(Signer{Destination: a}, time.Now(), nil); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("unsigned: %v", err)
	}
	ack.Flags |= FlagSignature
	raw, _ = ack.AppendSigned(nil, ka)
	p, _ = Parse(raw)
	if err := p.Verify(Signer{}, time.Now(), nil); !errors.Is(err, ErrNoSigner) {
		t.Fatalf("no key: %v", err)
	}
}

// TestParseErrors: each malformed packet is an error, never a panic.
func TestParseErrors(t *testing.T) {
	d, k := newTestIdentity(t, i2p.SigEd25519)
	good, _ := testSYN(d, d).AppendSigned(nil, k)
	optSizeAt := 17 + 4*TargetHashNACKs + 3
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	setFlags := func(b []byte, f Flags) []byte {
		b[optSizeAt-2], b[optSizeAt-1] = byte(f>>8), byte(f)
		return b
	}
	hdr := func(flags Flags, opts ...byte) []byte {
		b := make([]byte, 18, 22+len(opts))
		b = append(b, byte(flags>>8), byte(flags), 0, byte(len(opts)))
		return append(b, opts...)
	}
	cases := map[string][]byte{
		"empty":               nil,
		"21 bytes":            good[:21],
		"NACKs past the end":  mutate(func(b []byte) []byte { b[16] = 200; return b[:100] }),
		"option size too big": mutate(func(b []byte) []byte { return b[:optSizeAt+2+100] }),
		"extra option bytes":  hdr(FlagDelay, 0, 0, 1),
		"DELAY truncated":     hdr(FlagDelay, 0),
		"MTU truncated":       hdr(FlagMaxPacketSize, 7),
		"MTU zero":            hdr(FlagMaxPacketSize, 0, 0),
		"empty signature":     hdr(FlagSignature),
		"FROM truncated":      hdr(FlagFrom, make([]byte, 100)...),
		"offline without FROM": mutate(func(b []byte) []byte {
			return setFlags(b, FlagSYN|FlagSignature|FlagDelay|FlagMaxPacketSize|FlagNoACK|FlagOffline)
		}),
		"offline truncated": mutate(func(b []byte) []byte {
			return setFlags(b, FlagSYN|FlagSignature|FlagFrom|FlagDelay|FlagMaxPacketSize|FlagNoACK|FlagOffline)
		}),
		"signature short for FROM": mutate(func(b []byte) []byte {
			b[optSizeAt+1]--
			return b
		}),
		"payload too large": append(hdr(0), make([]byte, MaxPayload+1)...),
	}
	for name, b := range cases {
		if p, err := Parse(b); err == nil {
			t.Errorf("%s: parsed %+v", name, p)
		} else if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v does not wrap ErrMalformed", name, err)
		}
	}
	if _, err := Parse(good); err != nil {
		t.Fatal(err)
	}
}

// TestAppendErrors: fields that do not agree with the flags are refused.
func TestAppendErrors(t *testing.T) {
	cases := map[string]*Packet{
		"FROM without Destination": {Flags: FlagFrom},
		"MTU 0":                    {Flags: FlagMaxPacketSize},
		"offline without block":    {Flags: FlagOffline},
		"signature flag, none":     {Flags: FlagSignature},
		"256 NACKs":                {NACKs: make([]uint32, 256)},
		"payload too large":        {Payload: make([]byte, MaxPayload+1)},
	}
	for name, p := range cases {
		if _, err := p.AppendTo(nil); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
}

// FuzzParsePacket: Parse never panics, and what it accepts re-encodes to
// the input byte for byte and survives Verify.
func FuzzParsePacket(f *testing.F) {
	v := loadJava(f)
	for _, set := range []map[string]javaPacket{v.Packets, v.Negatives, v.Quirks} {
		for _, jp := range set {
			if jp.Packet != "" {
				f.Add(unhex(f, jp.Packet))
			}
		}
	}
	d, k := newTestIdentity(f, i2p.SigECDSASHA256P256)
	syn, _ := testSYN(d, d).AppendSigned(nil, k)
	f.Add(syn)
	known := Signer{Destination: d}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		back, err := p.AppendTo(nil)
		if err != nil || !bytes.Equal(back, b) {
			t.Fatalf("re-encoding differs (%v)", err)
		}
		_ = p.Verify(known, time.Now(), nil)
		_ = p.Verify(Signer{}, time.Now(), nil)
		_, _ = p.TargetHash()
	})
}

// BenchmarkParseVerify: a Java-made Ed25519 SYN with an HTTP request,
// parsed and verified; and the parse alone.
func BenchmarkParseVerify(b *testing.B) {
	v := loadJava(b)
	raw := unhex(b, v.Packets["ed25519/syn"].Packet)
	var scratch []byte
	now := time.Now()
	b.Run("parse+verify", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			p, err := Parse(raw)
			if err != nil {
				b.Fatal(err)
			}
			if err := p.Verify(Signer{}, now, &scratch); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parse", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := Parse(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sign", func(b *testing.B) {
		p, _ := Parse(raw)
		key := v.key(b, "stream-client")
		out := make([]byte, 0, len(raw))
		for b.Loop() {
			if _, err := p.AppendSigned(out[:0], key); err != nil {
				b.Fatal(err)
			}
		}
	})
}
