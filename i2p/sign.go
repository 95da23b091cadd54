package i2p

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"io"
	"math/big"
)

// SigningKey is a signing private key in its I2P byte form: the 32-byte
// seed for Ed25519 (types 7 and 8), the scalar for ECDSA and DSA.
type SigningKey struct {
	Type    SigType
	Private []byte
	// expanded is the Ed25519 key derived from Private, kept by Prepared
	// so that a key signing many messages derives it once.
	expanded ed25519.PrivateKey
}

// Prepared returns k with what signing derives from the private key
// computed once (for Ed25519, the expanded key: a scalar multiplication
// and a SHA-512 that Sign would otherwise do per signature). Keys of
// other types are returned as they are.
func (k SigningKey) Prepared() SigningKey {
	if (k.Type == SigEd25519 || k.Type == SigEd25519ph) && len(k.Private) == k.Type.PrivateKeyLen() {
		k.expanded = ed25519.NewKeyFromSeed(k.Private)
	}
	return k
}

// Sign signs msg. Ed25519 signatures are deterministic; ECDSA and DSA ones
// draw from crypto/rand. Type 8 signs msg exactly as type 7 does, as the
// reference router does (see Verify); for an su3-style signature pass
// SHA-512 of the content as msg.
func (k SigningKey) Sign(msg []byte) ([]byte, error) {
	if len(k.Private) != k.Type.PrivateKeyLen() {
		return nil, fmt.Errorf("i2p: %v private key is %d bytes, want %d", k.Type, len(k.Private), k.Type.PrivateKeyLen())
	}
	switch k.Type {
	case SigEd25519, SigEd25519ph:
		if k.expanded != nil {
			return ed25519.Sign(k.expanded, msg), nil
		}
		return ed25519.Sign(ed25519.NewKeyFromSeed(k.Private), msg), nil
	case SigECDSASHA256P256:
		d := sha256.Sum256(msg)
		return signECDSA(elliptic.P256(), k.Private, d[:])
	case SigECDSASHA384P384:
		d := sha512.Sum384(msg)
		return signECDSA(elliptic.P384(), k.Private, d[:])
	case SigECDSASHA512P521:
		d := sha512.Sum512(msg)
		return signECDSA(elliptic.P521(), k.Private, d[:])
	case SigDSASHA1:
		d := sha1.Sum(msg)
		return signDSA(k.Private, d[:], rand.Reader)
	}
	return nil, fmt.Errorf("%w for signing: %v", ErrUnsupportedSigType, k.Type)
}

// Public returns the signing public key in its I2P byte form.
func (k SigningKey) Public() ([]byte, error) {
	if len(k.Private) != k.Type.PrivateKeyLen() {
		return nil, fmt.Errorf("i2p: %v private key is %d bytes, want %d", k.Type, len(k.Private), k.Type.PrivateKeyLen())
	}
	switch k.Type {
	case SigEd25519, SigEd25519ph:
		return ed25519.NewKeyFromSeed(k.Private).Public().(ed25519.PublicKey), nil
	case SigECDSASHA256P256, SigECDSASHA384P384, SigECDSASHA512P521:
		key, err := ecdsa.ParseRawPrivateKey(curveOf(k.Type), k.Private)
		if err != nil {
			return nil, fmt.Errorf("i2p: %v private key: %w", k.Type, err)
		}
		raw, err := key.PublicKey.Bytes()
		if err != nil {
			return nil, fmt.Errorf("i2p: %v public key: %w", k.Type, err)
		}
		return raw[1:], nil // drop the 0x04 uncompressed-point prefix
	case SigDSASHA1:
		p, _, g := dsaGroup()
		y := new(big.Int).Exp(g, new(big.Int).SetBytes(k.Private), p)
		return y.FillBytes(make([]byte, 128)), nil
	}
	return nil, fmt.Errorf("%w for signing: %v", ErrUnsupportedSigType, k.Type)
}

// GenerateSigningKey makes a fresh key of type t (Ed25519 of type 7 or 8,
// ECDSA or DSA).
func GenerateSigningKey(t SigType, rnd io.Reader) (SigningKey, error) {
	switch t {
	case SigEd25519, SigEd25519ph:
		seed := make([]byte, ed25519.SeedSize)
		if _, err := io.ReadFull(rnd, seed); err != nil {
			return SigningKey{}, fmt.Errorf("i2p: read random: %w", err)
		}
		return SigningKey{Type: t, Private: seed}, nil
	case SigECDSASHA256P256, SigECDSASHA384P384, SigECDSASHA512P521:
		key, err := ecdsa.GenerateKey(curveOf(t), rnd)
		if err != nil {
			return SigningKey{}, fmt.Errorf("i2p: generate %v: %w", t, err)
		}
		raw, err := key.Bytes()
		if err != nil {
			return SigningKey{}, fmt.Errorf("i2p: encode %v: %w", t, err)
		}
		return SigningKey{Type: t, Private: raw}, nil
	case SigDSASHA1:
		_, q, _ := dsaGroup()
		x, err := randScalar(rnd, q)
		if err != nil {
			return SigningKey{}, err
		}
		return SigningKey{Type: t, Private: x.FillBytes(make([]byte, 20))}, nil
	}
	return SigningKey{}, fmt.Errorf("%w for key generation: %v", ErrUnsupportedSigType, t)
}

func curveOf(t SigType) elliptic.Curve {
	switch t {
	case SigECDSASHA384P384:
		return elliptic.P384()
	case SigECDSASHA512P521:
		return elliptic.P521()
	}
	return elliptic.P256()
}

func signECDSA(curve elliptic.Curve, priv, digest []byte) ([]byte, error) {
	key, err := ecdsa.ParseRawPrivateKey(curve, priv)
	if err != nil {
		return nil, fmt.Errorf("i2p: ECDSA private key: %w", err)
	}
	r, s, err := ecdsa.Sign(rand.Reader, key, digest)
	if err != nil {
		return nil, fmt.Errorf("i2p: ECDSA sign: %w", err)
	}
	size := (curve.Params().BitSize + 7) / 8
	out := make([]byte, 2*size)
	r.FillBytes(out[:size])
	s.FillBytes(out[size:])
	return out, nil
}

// randScalar returns a uniform integer in [1, n-1].
func randScalar(rnd io.Reader, n *big.Int) (*big.Int, error) {
	for range 100 {
		k, err := rand.Int(rnd, n)
		if err != nil {
			return nil, fmt.Errorf("i2p: read random: %w", err)
		}
		if k.Sign() > 0 {
			return k, nil
		}
	}
	return nil, fmt.Errorf("i2p: random source keeps returning zero")
}

func signDSA(priv, digest []byte, rnd io.Reader) ([]byte, error) {
	p, q, g := dsaGroup()
	x := new(big.Int).SetBytes(priv)
	z := new(big.Int).SetBytes(digest)
	for range 100 {
		k, err := randScalar(rnd, q)
		if err != nil {
			return nil, err
		}
		r := new(big.Int).Exp(g, k, p)
		r.Mod(r, q)
		if r.Sign() == 0 {
			continue
		}
		s := new(big.Int).Mul(x, r)
		s.Add(s, z)
		s.Mul(s, new(big.Int).ModInverse(k, q))
		s.Mod(s, q)
		if s.Sign() == 0 {
			continue
		}
		out := make([]byte, 40)
		r.FillBytes(out[:20])
		s.FillBytes(out[20:])
		return out, nil
	}
	return nil, fmt.Errorf("i2p: DSA signing failed to find a nonce")
}
