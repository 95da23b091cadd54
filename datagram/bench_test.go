package datagram

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

func BenchmarkParseDatagram2Ed25519(b *testing.B) {
	v := loadVectors(b)
	to := keysOf(b, v, "tracker").Destination.Hash()
	raw := testvectors.Hex(v.Datagram2["connect"].Datagram)
	now := time.Now()
	b.ReportAllocs()
	var d Datagram2
	for b.Loop() {
		if err := ParseDatagram2(raw, to, now, &d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEd25519VerifyBare is the floor Datagram2 verification is held
// to: crypto/ed25519.Verify over the same signed bytes.
func BenchmarkEd25519VerifyBare(b *testing.B) {
	v := loadVectors(b)
	vec := v.Datagram2["connect"]
	raw := testvectors.Hex(vec.Datagram)
	to := testvectors.Hex(vec.ToHash)
	signed := append(to, raw[391:len(raw)-64]...)
	pub := ed25519.PublicKey(raw[352:384])
	sig := raw[len(raw)-64:]
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, signed, sig) {
			b.Fatal("bad")
		}
	}
}

func BenchmarkParseDatagram3(b *testing.B) {
	v := loadVectors(b)
	raw := testvectors.Hex(v.Datagram3["announce"].Datagram)
	b.ReportAllocs()
	var d Datagram3
	for b.Loop() {
		if err := ParseDatagram3(raw, &d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendDatagram3(b *testing.B) {
	v := loadVectors(b)
	payload := testvectors.Hex(v.Payloads.Announce)
	from := i2p.HashOf([]byte("x"))
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendDatagram3(buf[:0], from, nil, payload); err != nil {
			b.Fatal(err)
		}
	}
}
