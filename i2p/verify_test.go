package i2p

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"testing"

	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

// TestSignVerifyAllTypes signs with every type this package can sign and
// checks verification accepts the signature and rejects a tampered one.
func TestSignVerifyAllTypes(t *testing.T) {
	msg := []byte("announce me")
	for _, st := range []SigType{SigDSASHA1, SigECDSASHA256P256, SigECDSASHA384P384, SigECDSASHA512P521, SigEd25519, SigEd25519ph} {
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

// mustHex decodes a hex literal of a test.
func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// TestEdwardsModel checks the math/big model the RedDSA and Ed25519ph tests
// sign with against RFC 8032's first Ed25519 test vector and crypto/ed25519.
func TestEdwardsModel(t *testing.T) {
	seed := mustHex(t, "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
	pub, sig := refEd25519(seed, nil)
	if hex.EncodeToString(pub) != "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a" {
		t.Fatalf("model public key %x", pub)
	}
	if hex.EncodeToString(sig) != "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" {
		t.Fatalf("model signature %x", sig)
	}
	msg := []byte("model against crypto/ed25519")
	if _, sig := refEd25519(seed, msg); !bytes.Equal(sig, ed25519.Sign(ed25519.NewKeyFromSeed(seed), msg)) {
		t.Fatal("model and crypto/ed25519 sign differently")
	}
}

// TestVerifyEd25519ph pins sig type 8 to what the reference router
// computes: plain Ed25519 (no RFC 8032 dom2 prefix, no internal prehash)
// over the bytes handed to Verify; su3 files, the type's intended use, hand
// it SHA-512 of their content.
func TestVerifyEd25519ph(t *testing.T) {
	v := testvectors.Must(t)

	// A signature the reference made: Java's DSAEngine signs with the same
	// EdDSA engine, digest and curve for types 7 and 8, so its signature of
	// the connect Datagram2 is also the type-8 signature of those bytes.
	vec := v.Datagram2["connect"]
	dg := testvectors.Hex(vec.Datagram)
	sig := testvectors.Hex(vec.Layout.Signature)
	signed := append(testvectors.Hex(vec.ToHash), dg[vec.Layout.FromLen:len(dg)-len(sig)]...)
	pub := testvectors.Hex(v.Destinations["sender"].SigningPublicKey)
	if err := Verify(SigEd25519ph, pub, signed, sig); err != nil {
		t.Fatalf("reference signature rejected as type 8: %v", err)
	}
	sender := SigningKey{Type: SigEd25519ph, Private: testvectors.Hex(v.Destinations["sender"].Inputs.Ed25519Seed)}
	if mine, err := sender.Sign(signed); err != nil || !bytes.Equal(mine, sig) {
		t.Fatalf("type-8 signing differs from the reference: %x %v", mine, err)
	}

	// The su3 form: SU3File hashes the content with SHA-512 and the raw
	// DSAEngine path signs those 64 bytes with plain Ed25519. The expected
	// bytes come from the independent model and are pinned.
	seed := testvectors.Hex(v.Destinations["tracker"].Inputs.Ed25519Seed)
	content := []byte("I2Psu3 content signed with EdDSA_SHA512_Ed25519ph")
	digest := sha512.Sum512(content)
	modelPub, want := refEd25519(seed, digest[:])
	const pinned = "a6312cae6993173227579d03a20292f192e1b73be508487cd31b6ac797ab764f5a8e8df5a986b15ce61bbabc71ae409856330d89a121a2aa200d902df9c34d07"
	if hex.EncodeToString(want) != pinned {
		t.Fatalf("model su3 signature %x, pinned %s", want, pinned)
	}
	k := SigningKey{Type: SigEd25519ph, Private: seed}
	if got, err := k.Sign(digest[:]); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Sign(SHA-512(content)) = %x, %v; want %x", got, err, want)
	}
	if err := Verify(SigEd25519ph, modelPub, digest[:], want); err != nil {
		t.Fatalf("su3-style signature rejected: %v", err)
	}
	if err := Verify(SigEd25519ph, modelPub, content, want); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("su3-style signature accepted over the undigested content: %v", err)
	}

	// RFC 8032's Ed25519ph ("TEST abc") is a different scheme; the
	// reference would reject it, and so must type 8 here.
	rfcPub := mustHex(t, "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf")
	rfcSig := mustHex(t, "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406")
	abc := sha512.Sum512([]byte("abc"))
	if err := ed25519.VerifyWithOptions(rfcPub, abc[:], rfcSig, &ed25519.Options{Hash: crypto.SHA512}); err != nil {
		t.Fatalf("RFC 8032 Ed25519ph vector does not verify as RFC Ed25519ph: %v", err)
	}
	for _, m := range [][]byte{[]byte("abc"), abc[:]} {
		if err := Verify(SigEd25519ph, rfcPub, m, rfcSig); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("RFC 8032 Ed25519ph signature accepted as I2P type 8 (message %x): %v", m, err)
		}
	}
}

// TestVerifyRedDSA signs as the reference router's RedDSAEngine does (a
// scalar private key and a nonce from 80 random bytes, the public key and
// the message) and checks type-11 verification, which is plain Ed25519.
func TestVerifyRedDSA(t *testing.T) {
	rng := mathrand.New(mathrand.NewChaCha8([32]byte{'r', 'e', 'd', 'd', 's', 'a'}))
	for i := range 3 {
		var wide [64]byte
		var nonce [80]byte
		for j := range wide {
			wide[j] = byte(rng.Uint32())
		}
		for j := range nonce {
			nonce[j] = byte(rng.Uint32())
		}
		a := leInt(wide[:])
		a.Mod(a, edL)
		msg := fmt.Appendf(nil, "encrypted leaseset %d", i)
		pub, sig := refRedDSA(a, nonce, msg)
		if err := Verify(SigRedDSASHA512, pub, msg, sig); err != nil {
			t.Fatalf("RedDSA signature rejected: %v", err)
		}
		// The random nonce makes a second signature of the same message
		// differ, and both verify.
		nonce[0] ^= 1
		_, sig2 := refRedDSA(a, nonce, msg)
		if bytes.Equal(sig, sig2) {
			t.Fatal("RedDSA nonce did not change the signature")
		}
		if err := Verify(SigRedDSASHA512, pub, msg, sig2); err != nil {
			t.Fatalf("second RedDSA signature rejected: %v", err)
		}
		sig[40] ^= 1
		if err := Verify(SigRedDSASHA512, pub, msg, sig); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("tampered RedDSA signature: %v", err)
		}
	}
	if _, err := (SigningKey{Type: SigRedDSASHA512, Private: make([]byte, 32)}).Sign(nil); !errors.Is(err, ErrUnsupportedSigType) {
		t.Fatalf("RedDSA signing: %v", err)
	}
}

// TestVerifyECDSAKnownAnswers checks ECDSA verification against the
// deterministic signatures of RFC 6979 (appendix A.2.5 and A.2.6, message
// "sample"), an independent source; keys are X||Y as I2P carries them.
func TestVerifyECDSAKnownAnswers(t *testing.T) {
	cases := []struct {
		st         SigType
		priv, x, y string
		r, s       string
	}{
		{
			SigECDSASHA256P256,
			"c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
			"60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6",
			"7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299",
			"efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716",
			"f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8",
		},
		{
			SigECDSASHA384P384,
			"6b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d896d5724e4c70a825f872c9ea60d2edf5",
			"ec3a4e415b4e19a4568618029f427fa5da9a8bc4ae92e02e06aae5286b300c64def8f0ea9055866064a254515480bc13",
			"8015d9b72d7d57244ea8ef9ac0c621896708a59367f9dfb9f54ca84b3f1c9db1288b231c3ae0d4fe7344fd2533264720",
			"94edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c81a648152e44acf96e36dd1e80fabe46",
			"99ef4aeb15f178cea1fe40db2603138f130e740a19624526203b6351d0a3a94fa329c145786e679e7b82c71a38628ac8",
		},
	}
	for _, c := range cases {
		t.Run(c.st.String(), func(t *testing.T) {
			pub := mustHex(t, c.x+c.y)
			sig := mustHex(t, c.r+c.s)
			if err := Verify(c.st, pub, []byte("sample"), sig); err != nil {
				t.Fatalf("RFC 6979 signature rejected: %v", err)
			}
			if err := Verify(c.st, pub, []byte("samplf"), sig); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("RFC 6979 signature over another message: %v", err)
			}
			derived, err := SigningKey{Type: c.st, Private: mustHex(t, c.priv)}.Public()
			if err != nil || !bytes.Equal(derived, pub) {
				t.Fatalf("public key from the RFC private key: %x %v", derived, err)
			}
		})
	}
}
