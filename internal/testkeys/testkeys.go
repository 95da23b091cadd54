// Package testkeys makes throwaway I2P identities for tests.
package testkeys

import (
	"crypto/rand"
	"testing"

	"github.com/go-i2p/go-opentracker/i2p"
)

// New makes a fresh identity whose Destination signs with st: random
// ElGamal (crypto type 0) key fields, random padding, a new signing key.
// For RedDSA, which this repository verifies but does not make, the key
// is an Ed25519 key, whose signatures verify as RedDSA ones (as Java
// checks them).
func New(t testing.TB, st i2p.SigType) *i2p.PrivateKeys {
	t.Helper()
	gen := st
	if st == i2p.SigRedDSASHA512 {
		gen = i2p.SigEd25519
	}
	sk, err := i2p.GenerateSigningKey(gen, rand.Reader)
	if err != nil {
		t.Fatalf("testkeys: %v", err)
	}
	pub, err := sk.Public()
	if err != nil {
		t.Fatalf("testkeys: %v", err)
	}
	enc := make([]byte, i2p.PublicKeyFieldLen)
	pad := make([]byte, max(0, i2p.SigningKeyFieldLen-len(pub)))
	rand.Read(enc)
	rand.Read(pad)
	d, err := i2p.NewDestination(i2p.CryptoElGamal, enc, st, pub, pad)
	if err != nil {
		t.Fatalf("testkeys: destination: %v", err)
	}
	priv := make([]byte, i2p.CryptoElGamal.PrivateKeyLen())
	rand.Read(priv)
	return &i2p.PrivateKeys{Destination: d, EncryptionKey: priv, SigningKey: sk}
}
