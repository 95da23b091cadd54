package i2p

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

func TestParseDestinationErrors(t *testing.T) {
	v := testvectors.Must(t)
	good := testvectors.Hex(v.Destinations["sender"].Destination)
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"short keys", good[:300], "truncated"},
		{"short certificate", good[:len(good)-1], "certificate says"},
		{"hashcash cert", mutate(func(b []byte) []byte { b[384] = CertHashCash; return b }), "type 1 not allowed"},
		{"signed cert", mutate(func(b []byte) []byte { b[384] = CertSigned; return b }), "type 3 not allowed"},
		{"null cert with length", mutate(func(b []byte) []byte { b[384] = CertNull; return b }), "null certificate with length"},
		{"key cert too short", mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint16(b[385:], 2)
			return b[:389]
		}), "need at least 4"},
		{"unknown sig type", mutate(func(b []byte) []byte { binary.BigEndian.PutUint16(b[387:], 77); return b }), "unknown signature type 77"},
		{"unknown crypto type", mutate(func(b []byte) []byte { binary.BigEndian.PutUint16(b[389:], 66); return b }), "unknown crypto type 66"},
		{"p521 without overflow", mutate(func(b []byte) []byte { binary.BigEndian.PutUint16(b[387:], uint16(SigECDSASHA512P521)); return b }), "too short for"},
		{"huge certificate", mutate(func(b []byte) []byte { binary.BigEndian.PutUint16(b[385:], 60000); return b }), "too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := ParseDestination(c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to mention %q", err, c.want)
			}
		})
	}
	if _, _, err := ParseDestination(good[:10]); !errors.Is(err, ErrShortDestination) {
		t.Fatalf("short input error %v does not wrap ErrShortDestination", err)
	}
}

// TestOverflowKeys builds Destinations whose keys overflow their fields
// (P521 signing key, RSA-4096) and checks the keys come back intact.
func TestOverflowKeys(t *testing.T) {
	for _, st := range []SigType{SigECDSASHA512P521, SigRSASHA5124096, SigECDSASHA256P256, SigDSASHA1} {
		sigPub := make([]byte, st.PublicKeyLen())
		rand.Read(sigPub)
		enc := make([]byte, 256)
		rand.Read(enc)
		pad := make([]byte, keysLen-256-min(len(sigPub), 128))
		d, err := NewDestination(CryptoElGamal, enc, st, sigPub, pad)
		if err != nil {
			t.Fatalf("%v: %v", st, err)
		}
		if !bytes.Equal(d.SigningPublicKey(), sigPub) || !bytes.Equal(d.EncryptionPublicKey(), enc) {
			t.Fatalf("%v: keys differ after build", st)
		}
		d2, rest, err := ParseDestination(d.Bytes())
		if err != nil || len(rest) != 0 || !d2.Equal(d) {
			t.Fatalf("%v: reparse %v", st, err)
		}
		if st == SigDSASHA1 && d.Len() != MinDestinationLen {
			t.Fatalf("DSA/ElGamal destination should have a null certificate, len %d", d.Len())
		}
	}
}

func TestNewDestinationErrors(t *testing.T) {
	if _, err := NewDestination(CryptoX25519, make([]byte, 31), SigEd25519, make([]byte, 32), make([]byte, 320)); err == nil {
		t.Fatal("wrong key size accepted")
	}
	if _, err := NewDestination(CryptoX25519, make([]byte, 32), SigEd25519, make([]byte, 32), make([]byte, 10)); err == nil {
		t.Fatal("wrong padding accepted")
	}
	if _, err := NewDestination(CryptoX25519, make([]byte, 32), SigType(50), make([]byte, 32), make([]byte, 320)); err == nil {
		t.Fatal("unknown sig type accepted")
	}
}

func TestParseDestinationBase64Errors(t *testing.T) {
	if _, err := ParseDestinationBase64("not base64!"); err == nil {
		t.Fatal("invalid base64 accepted")
	}
	if _, err := ParseDestinationBase64(strings.Repeat("A", 4000)); err == nil {
		t.Fatal("oversized accepted")
	}
	v := testvectors.Must(t)
	b := testvectors.Hex(v.Destinations["sender"].Destination)
	if _, err := ParseDestinationBase64(EncodeBase64(append(b, 1, 2, 3))); err == nil {
		t.Fatal("trailing bytes accepted")
	}
}

func TestBase32Base64(t *testing.T) {
	for range 50 {
		b := make([]byte, 32)
		rand.Read(b)
		got, err := DecodeBase64(EncodeBase64(b))
		if err != nil || !bytes.Equal(got, b) {
			t.Fatal("base64 round trip")
		}
		if strings.ContainsAny(EncodeBase64(b), "+/") {
			t.Fatal("standard alphabet leaked")
		}
		got, err = DecodeBase32(strings.ToUpper(EncodeBase32(b)))
		if err != nil || !bytes.Equal(got, b) {
			t.Fatal("base32 round trip")
		}
	}
	if _, err := ParseB32("short.b32.i2p"); err == nil {
		t.Fatal("short b32 accepted")
	}
	if _, err := ParseHashBase64(EncodeBase64(make([]byte, 31))); err == nil {
		t.Fatal("31-byte hash accepted")
	}
	if !(Hash{}).IsZero() {
		t.Fatal("zero hash not zero")
	}
}

func TestHashEqual(t *testing.T) {
	var a, b Hash
	for i := range a {
		a[i], b[i] = byte(i), byte(i)
	}
	if !a.Equal(&b) {
		t.Fatal("equal hashes differ")
	}
	for i := range b {
		c := b
		c[i] ^= 0x80
		if a.Equal(&c) || c.Equal(&a) {
			t.Fatalf("hashes differing in byte %d are equal", i)
		}
	}
}

// A Destination parsed from Base64 keeps the decoded bytes: one
// allocation, for them, and the same bytes and hash as the binary parse.
func TestParseDestinationBase64KeepsTheDecodedBytes(t *testing.T) {
	s := testvectors.Must(t).Destinations["sender"].DestinationB64
	d, err := ParseDestinationBase64(s)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := DecodeBase64(s)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := ParseDestination(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Bytes(), want.Bytes()) || d.Hash() != want.Hash() || cap(d.Bytes()) != len(d.Bytes()) {
		t.Fatalf("parsed %d bytes (cap %d), hash %x; want %d bytes, hash %x", len(d.Bytes()), cap(d.Bytes()), d.Hash(), len(want.Bytes()), want.Hash())
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = ParseDestinationBase64(s) }); n > 1 {
		t.Fatalf("%v allocations a parse, want 1", n)
	}
}
