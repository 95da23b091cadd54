package i2p

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"testing"
)

// TestSignVerifyAllTypes signs with every type this package can sign and
// checks verification accepts the signature and rejects a tampered one.
func TestSignVerifyAllTypes(t *testing.T) {
	msg := []byte("announce me")
	for _, st := range []SigType{SigDSASHA1, SigECDSASHA256P256, SigECDSASHA384P384, SigECDSASHA512P521, SigEd25519} {
		t.Run(st.String(), func(t *testing.T) {
			k, err := GenerateSigningKey(st, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := k.Public()
			if err != nil {
				t.Fatal(err)
			}
			if len(pub) != st.PublicKeyLen() {
				t.Fatalf("public key %d bytes, want %d", len(pub), st.PublicKeyLen())
			}
			sig, err := k.Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			if len(sig) != st.SignatureLen() {
				t.Fatalf("signature %d bytes, want %d", len(sig), st.SignatureLen())
			}
			if err := Verify(st, pub, msg, sig); err != nil {
				t.Fatalf("valid signature rejected: %v", err)
			}
			sig[len(sig)/2] ^= 1
			if err := Verify(st, pub, msg, sig); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("tampered signature: %v", err)
			}
			sig[len(sig)/2] ^= 1
			if err := Verify(st, pub, append(msg, '!'), sig); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("other message: %v", err)
			}
			if err := Verify(st, pub[1:], msg, sig); err == nil || errors.Is(err, ErrBadSignature) {
				t.Fatalf("short key: %v", err)
			}
		})
	}
}

// TestVerifyRSA checks the RSA types with keys and PKCS#1 v1.5 signatures
// made by crypto/rsa, in I2P's encoding (bare modulus, F4 exponent).
func TestVerifyRSA(t *testing.T) {
	if testing.Short() {
		t.Skip("RSA key generation is slow")
	}
	msg := []byte("rsa message")
	cases := []struct {
		st   SigType
		bits int
		h    crypto.Hash
		sum  func([]byte) []byte
	}{
		{SigRSASHA2562048, 2048, crypto.SHA256, func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }},
		{SigRSASHA3843072, 3072, crypto.SHA384, func(b []byte) []byte { s := sha512.Sum384(b); return s[:] }},
		{SigRSASHA5124096, 4096, crypto.SHA512, func(b []byte) []byte { s := sha512.Sum512(b); return s[:] }},
	}
	for _, c := range cases {
		t.Run(c.st.String(), func(t *testing.T) {
			key, err := rsa.GenerateKey(rand.Reader, c.bits)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := rsa.SignPKCS1v15(rand.Reader, key, c.h, c.sum(msg))
			if err != nil {
				t.Fatal(err)
			}
			pub := key.N.FillBytes(make([]byte, c.st.PublicKeyLen()))
			if err := Verify(c.st, pub, msg, sig); err != nil {
				t.Fatalf("valid RSA signature rejected: %v", err)
			}
			sig[0] ^= 0x40
			if err := Verify(c.st, pub, msg, sig); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("tampered RSA signature: %v", err)
			}
		})
	}
}

func TestVerifyUnsupported(t *testing.T) {
	for _, st := range []SigType{SigGOST256, SigGOST512, 99} {
		err := Verify(st, make([]byte, st.PublicKeyLen()), nil, make([]byte, st.SignatureLen()))
		if !errors.Is(err, ErrUnsupportedSigType) {
			t.Errorf("%v: %v", st, err)
		}
	}
	if SigType(99).Known() || SigType(99).String() != "SigType(99)" || CryptoType(9).Known() {
		t.Error("unknown types reported as known")
	}
}

func TestDSAVerifyRejectsOutOfRange(t *testing.T) {
	k, err := GenerateSigningKey(SigDSASHA1, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := k.Public()
	zero := make([]byte, 40)
	if err := Verify(SigDSASHA1, pub, []byte("x"), zero); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("r=s=0 accepted or wrong error: %v", err)
	}
	ff := make([]byte, 40)
	for i := range ff {
		ff[i] = 0xff
	}
	if err := Verify(SigDSASHA1, pub, []byte("x"), ff); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("r,s >= q accepted: %v", err)
	}
}
