package i2p

import (
	"crypto/ecdh"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"io"
	"math/big"
)

// NewIdentity makes a tracker identity the way the Java router makes new
// Destinations: an Ed25519 signing key, crypto type 0 in the key
// certificate, and the 256-byte public-key field (plus the 96 unused bytes
// of the signing-key field) filled with a repeated random 32-byte pattern.
// The encryption keys that matter live in the LeaseSet; see LeaseSetKeys.
// The 256-byte ElGamal private-key slot of the key file holds random bytes
// that nothing uses.
func NewIdentity(rnd io.Reader) (*PrivateKeys, error) {
	sk, err := GenerateSigningKey(SigEd25519, rnd)
	if err != nil {
		return nil, err
	}
	pub, err := sk.Public()
	if err != nil {
		return nil, err
	}
	var pattern [32]byte
	unused := make([]byte, CryptoElGamal.PrivateKeyLen())
	if _, err := io.ReadFull(rnd, pattern[:]); err != nil {
		return nil, fmt.Errorf("i2p: read random: %w", err)
	}
	if _, err := io.ReadFull(rnd, unused); err != nil {
		return nil, fmt.Errorf("i2p: read random: %w", err)
	}
	fill := make([]byte, keysLen-len(pub))
	for i := range fill {
		fill[i] = pattern[i%len(pattern)]
	}
	dest, err := NewDestination(CryptoElGamal, fill[:PublicKeyFieldLen], SigEd25519, pub, fill[PublicKeyFieldLen:])
	if err != nil {
		return nil, err
	}
	return &PrivateKeys{Destination: dest, EncryptionKey: unused, SigningKey: sk}, nil
}

// LeaseSetKeys are the encryption keys a session publishes in its LeaseSet.
type LeaseSetKeys struct {
	X25519Private, X25519Public   []byte // 32 bytes each (LeaseSet2, type 4)
	ElGamalPrivate, ElGamalPublic []byte // 256 bytes each (the older LeaseSet, type 0)
}

// LeaseSetKeys derives the LeaseSet encryption keys from the long-term
// signing key, so they persist with the key file and need no file of their
// own. The derivation is one-way (SHA-256/SHA-512 with a domain label).
func (k *PrivateKeys) LeaseSetKeys() (LeaseSetKeys, error) {
	seed := k.SigningKey.Private
	if k.Offline != nil {
		seed = k.TransientKey.Private
	}
	xPriv := derive(seed, "go-opentracker/leaseset/x25519", 32)
	x, err := ecdh.X25519().NewPrivateKey(xPriv)
	if err != nil {
		return LeaseSetKeys{}, fmt.Errorf("i2p: derive X25519 key: %w", err)
	}
	p := elGamalPrime()
	e := new(big.Int).SetBytes(derive(seed, "go-opentracker/leaseset/elgamal", 256))
	e.Mod(e, new(big.Int).Sub(p, big.NewInt(2)))
	e.Add(e, big.NewInt(1)) // 1 <= e <= p-2
	y := new(big.Int).Exp(big.NewInt(2), e, p)
	return LeaseSetKeys{
		X25519Private:  xPriv,
		X25519Public:   x.PublicKey().Bytes(),
		ElGamalPrivate: e.FillBytes(make([]byte, 256)),
		ElGamalPublic:  y.FillBytes(make([]byte, 256)),
	}, nil
}

// derive expands seed into n bytes under a domain label.
func derive(seed []byte, label string, n int) []byte {
	out := make([]byte, 0, n+sha512.Size)
	for ctr := byte(0); len(out) < n; ctr++ {
		h := sha512.New()
		h.Write([]byte(label))
		h.Write([]byte{ctr})
		h.Write(seed)
		out = h.Sum(out)
	}
	if n == 32 {
		s := sha256.Sum256(out[:64])
		return s[:]
	}
	return out[:n]
}

// The 2048-bit MODP group of RFC 3526, generator 2: I2P's ElGamal group.
const elGamalPrimeHex = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF"

func elGamalPrime() *big.Int {
	p, _ := new(big.Int).SetString(elGamalPrimeHex, 16)
	return p
}
