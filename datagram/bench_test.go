package datagram

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

func BenchmarkParseDatagram2Ed25519(b *testing.B) {
	v := testvectors.Must(b)
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

// BenchmarkPeekThenVerifyDatagram2Ed25519 is a connect's path through
// the UDP tracker: PeekDatagram2 to price and queue it, then
// VerifyDatagram2 with the sender the peek read.
func BenchmarkPeekThenVerifyDatagram2Ed25519(b *testing.B) {
	v := testvectors.Must(b)
	to := keysOf(b, v, "tracker").Destination.Hash()
	raw := testvectors.Hex(v.Datagram2["connect"].Datagram)
	now := time.Now()
	b.ReportAllocs()
	var d Datagram2
	for b.Loop() {
		from, _, err := PeekDatagram2(raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := VerifyDatagram2(raw, from, to, now, &d); err != nil {
			b.Fatal(err)
		}
	}
}

// connectSigned returns the reference connect Datagram2, its receiver, and
// the pieces a bare verification of it needs: the sender's key, the signed
// bytes (receiver hash, then everything between sender and signature) and
// the signature.
func connectSigned(b *testing.B) (raw []byte, to i2p.Hash, pub ed25519.PublicKey, signed, sig []byte) {
	v := testvectors.Must(b)
	vec := v.Datagram2["connect"]
	raw = testvectors.Hex(vec.Datagram)
	copy(to[:], testvectors.Hex(vec.ToHash))
	from, rest, err := i2p.ParseDestination(raw)
	if err != nil {
		b.Fatal(err)
	}
	sig = raw[len(raw)-from.SigType().SignatureLen():]
	signed = append(to[:len(to):len(to)], rest[:len(rest)-len(sig)]...)
	return raw, to, ed25519.PublicKey(from.SigningPublicKey()), signed, sig
}

// BenchmarkEd25519VerifyBare is the floor Datagram2 verification is held
// to: crypto/ed25519.Verify over the same signed bytes.
func BenchmarkEd25519VerifyBare(b *testing.B) {
	_, _, pub, signed, sig := connectSigned(b)
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, signed, sig) {
			b.Fatal("bad")
		}
	}
}

// BenchmarkDatagram2VerifyOverhead sets ParseDatagram2 beside a bare
// crypto/ed25519.Verify of the identical signed bytes, in one run: "bare"
// and "parse+verify" time each alone, and "ratio" alternates the two in
// every iteration, timing each side, and reports their quotient (the
// target is at most 1.2). Alternating puts both under the same machine
// load, which separate benchmarks on a shared machine do not. A benchmark,
// not a test, so nothing fails on a slow or busy machine.
func BenchmarkDatagram2VerifyOverhead(b *testing.B) {
	raw, to, pub, signed, sig := connectSigned(b)
	now := time.Now()
	bare := func(b *testing.B) {
		if !ed25519.Verify(pub, signed, sig) {
			b.Fatal("bare verify failed")
		}
	}
	var d Datagram2
	parse := func(b *testing.B) {
		if err := ParseDatagram2(raw, to, now, &d); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bare(b)
		}
	})
	b.Run("parse+verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			parse(b)
		}
	})
	b.Run("ratio", func(b *testing.B) {
		var tBare, tParse time.Duration
		for b.Loop() {
			start := time.Now()
			bare(b)
			mid := time.Now()
			parse(b)
			tBare += mid.Sub(start)
			tParse += time.Since(mid)
		}
		if tBare > 0 {
			b.ReportMetric(float64(tParse)/float64(tBare), "ratio")
			b.ReportMetric(float64(tBare.Nanoseconds())/float64(b.N), "bare-ns/op")
			b.ReportMetric(float64(tParse.Nanoseconds())/float64(b.N), "parse-ns/op")
		}
	})
}

func BenchmarkParseDatagram3(b *testing.B) {
	v := testvectors.Must(b)
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
	v := testvectors.Must(b)
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
