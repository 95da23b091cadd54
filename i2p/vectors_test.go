package i2p

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"testing"

	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

func loadVectors(t testing.TB) *testvectors.Vectors {
	t.Helper()
	v, err := testvectors.Load()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestReferenceDestinations rebuilds every reference Destination from its
// inputs and parses the reference bytes back to the same fields.
func TestReferenceDestinations(t *testing.T) {
	v := loadVectors(t)
	for name, id := range v.Destinations {
		t.Run(name, func(t *testing.T) {
			raw := testvectors.Hex(id.Destination)
			d, rest, err := ParseDestination(append(raw, 0xAA))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(rest, []byte{0xAA}) {
				t.Fatalf("remainder %x, want aa", rest)
			}
			if d.Len() != id.DestinationLen || !bytes.Equal(d.Bytes(), raw) {
				t.Fatalf("length %d, want %d", d.Len(), id.DestinationLen)
			}
			if got := hex.EncodeToString(d.Hash().Bytes()); got != id.Hash {
				t.Errorf("hash %s, want %s", got, id.Hash)
			}
			if d.Base64() != id.DestinationB64 || d.Hash().Base64() != id.HashB64 || d.B32() != id.B32 {
				t.Errorf("text forms differ: %s / %s / %s", d.Base64(), d.Hash().Base64(), d.B32())
			}
			if uint16(d.SigType()) != id.SigType || uint16(d.CryptoType()) != id.EncType {
				t.Errorf("types %v/%v, want %d/%d", d.SigType(), d.CryptoType(), id.SigType, id.EncType)
			}
			if hex.EncodeToString(d.Certificate()) != id.Certificate {
				t.Errorf("certificate %x, want %s", d.Certificate(), id.Certificate)
			}
			if hex.EncodeToString(d.SigningPublicKey()) != id.SigningPublicKey {
				t.Errorf("signing key %x, want %s", d.SigningPublicKey(), id.SigningPublicKey)
			}
			if hex.EncodeToString(d.EncryptionPublicKey()) != id.EncPublicKey {
				t.Errorf("encryption key %x, want %s", d.EncryptionPublicKey(), id.EncPublicKey)
			}

			// Rebuild from the inputs: the seed gives the signing key.
			seed := testvectors.Hex(id.Inputs.Ed25519Seed)
			pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
			if hex.EncodeToString(pub) != id.SigningPublicKey {
				t.Fatalf("seed derives %x, want %s", pub, id.SigningPublicKey)
			}
			enc := testvectors.Hex(id.EncPublicKey)
			built, err := NewDestination(CryptoType(id.EncType), enc, SigType(id.SigType), pub, testvectors.Hex(id.Padding))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(built.Bytes(), raw) {
				t.Fatalf("rebuilt destination differs:\n got %x\nwant %x", built.Bytes(), raw)
			}

			fromB64, err := ParseDestinationBase64(id.DestinationB64 + ".i2p")
			if err != nil || !fromB64.Equal(d) {
				t.Fatalf("base64 round trip: %v", err)
			}
			h, err := ParseB32(id.B32)
			if err != nil || h != d.Hash() {
				t.Fatalf("b32 round trip: %v", err)
			}
			h, err = ParseHashBase64(id.HashB64)
			if err != nil || h != d.Hash() {
				t.Fatalf("hash base64 round trip: %v", err)
			}
		})
	}
}

// TestReferenceKeyFiles parses each reference private key file, checks the
// keys it holds, and writes it back byte for byte.
func TestReferenceKeyFiles(t *testing.T) {
	v := loadVectors(t)
	for name, id := range v.Destinations {
		t.Run(name, func(t *testing.T) {
			raw := testvectors.Hex(id.PrivateKeyFile)
			if len(raw) != id.PrivateKeyLen {
				t.Fatalf("vector length %d, want %d", len(raw), id.PrivateKeyLen)
			}
			k, err := ParsePrivateKeys(raw)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(k.Destination.Bytes()) != id.Destination {
				t.Fatal("destination differs")
			}
			if !bytes.Equal(k.SigningKey.Private, testvectors.Hex(id.Inputs.Ed25519Seed)) {
				t.Fatalf("signing key %x", k.SigningKey.Private)
			}
			if id.Inputs.X25519Private != "" && !bytes.Equal(k.EncryptionKey, testvectors.Hex(id.Inputs.X25519Private)) {
				t.Fatalf("encryption key %x", k.EncryptionKey)
			}
			if k.Offline != nil {
				t.Fatal("unexpected offline section")
			}
			if !bytes.Equal(k.Bytes(), raw) {
				t.Fatal("serialized key file differs")
			}
			pub, err := k.SigningKey.Public()
			if err != nil || hex.EncodeToString(pub) != id.SigningPublicKey {
				t.Fatalf("public from private: %x %v", pub, err)
			}
			if _, err := ParsePrivateKeys(raw[:len(raw)-1]); err == nil {
				t.Fatal("truncated key file accepted")
			}
			if _, err := ParsePrivateKeys(append(raw, 0)); err == nil {
				t.Fatal("key file with trailing byte accepted")
			}
		})
	}
}
