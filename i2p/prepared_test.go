package i2p

import (
	"bytes"
	"crypto/rand"
	"testing"
)

// TestPreparedSigns: a prepared Ed25519 key makes the very signatures
// the plain key makes (Ed25519 is deterministic), and they verify; other
// types are left as they are.
func TestPreparedSigns(t *testing.T) {
	k, err := GenerateSigningKey(SigEd25519, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.Public()
	if err != nil {
		t.Fatal(err)
	}
	p := k.Prepared()
	if p.expanded == nil {
		t.Fatal("an Ed25519 key was not prepared")
	}
	for _, msg := range [][]byte{nil, []byte("a stream's SYN reply")} {
		a, err1 := k.Sign(msg)
		b, err2 := p.Sign(msg)
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Fatalf("prepared %x, plain %x (%v, %v)", b, a, err1, err2)
		}
		if err := Verify(SigEd25519, pub, msg, b); err != nil {
			t.Fatal(err)
		}
	}
	d, err := GenerateSigningKey(SigECDSASHA256P256, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if d.Prepared().expanded != nil {
		t.Fatal("an ECDSA key got an Ed25519 expansion")
	}
}

// BenchmarkSignEd25519: one signature with the key as read from a file,
// and with it prepared.
func BenchmarkSignEd25519(b *testing.B) {
	k, err := GenerateSigningKey(SigEd25519, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 400)
	for name, key := range map[string]SigningKey{"plain": k, "prepared": k.Prepared()} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := key.Sign(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
