package i2p

import "fmt"

// SigType is an I2P signature type code, as carried in key certificates.
type SigType uint16

// The signature types of the common-structures specification.
const (
	SigDSASHA1         SigType = 0
	SigECDSASHA256P256 SigType = 1
	SigECDSASHA384P384 SigType = 2
	SigECDSASHA512P521 SigType = 3
	SigRSASHA2562048   SigType = 4
	SigRSASHA3843072   SigType = 5
	SigRSASHA5124096   SigType = 6
	SigEd25519         SigType = 7
	SigEd25519ph       SigType = 8 // offline (su3) use only; see Verify
	SigGOST256         SigType = 9
	SigGOST512         SigType = 10
	SigRedDSASHA512    SigType = 11 // verified, not made; see Verify
	maxKnownSigType            = SigRedDSASHA512
	sigTypeNameUnknown         = "unknown"
)

type sigParams struct {
	name            string
	pub, priv, sig  int
	verifySupported bool
}

var sigTable = [...]sigParams{
	SigDSASHA1:         {"DSA_SHA1", 128, 20, 40, true},
	SigECDSASHA256P256: {"ECDSA_SHA256_P256", 64, 32, 64, true},
	SigECDSASHA384P384: {"ECDSA_SHA384_P384", 96, 48, 96, true},
	SigECDSASHA512P521: {"ECDSA_SHA512_P521", 132, 66, 132, true},
	SigRSASHA2562048:   {"RSA_SHA256_2048", 256, 512, 256, true},
	SigRSASHA3843072:   {"RSA_SHA384_3072", 384, 768, 384, true},
	SigRSASHA5124096:   {"RSA_SHA512_4096", 512, 1024, 512, true},
	SigEd25519:         {"EdDSA_SHA512_Ed25519", 32, 32, 64, true},
	SigEd25519ph:       {"EdDSA_SHA512_Ed25519ph", 32, 32, 64, true},
	SigGOST256:         {"GOST_R3410_GOSTR3411_256", 64, 32, 64, false},
	SigGOST512:         {"GOST_R3410_GOSTR3411_512", 128, 64, 128, false},
	SigRedDSASHA512:    {"RedDSA_SHA512_Ed25519", 32, 32, 64, true},
}

func (t SigType) params() (sigParams, bool) {
	if t > maxKnownSigType {
		return sigParams{}, false
	}
	return sigTable[t], true
}

// Known reports whether t is a signature type whose key sizes are known.
func (t SigType) Known() bool { _, ok := t.params(); return ok }

// Verifiable reports whether this package can verify signatures of type t.
func (t SigType) Verifiable() bool { p, ok := t.params(); return ok && p.verifySupported }

// PublicKeyLen is the signing public key size in bytes (0 if unknown).
func (t SigType) PublicKeyLen() int { p, _ := t.params(); return p.pub }

// PrivateKeyLen is the signing private key size in bytes (0 if unknown).
func (t SigType) PrivateKeyLen() int { p, _ := t.params(); return p.priv }

// SignatureLen is the signature size in bytes (0 if unknown).
func (t SigType) SignatureLen() int { p, _ := t.params(); return p.sig }

// String returns the name the I2P specification uses.
func (t SigType) String() string {
	if p, ok := t.params(); ok {
		return p.name
	}
	return fmt.Sprintf("SigType(%d)", uint16(t))
}

// CryptoType is an I2P public-key encryption type code.
type CryptoType uint16

// The encryption types a Destination or LeaseSet may declare.
const (
	CryptoElGamal CryptoType = 0
	CryptoP256    CryptoType = 1
	CryptoP384    CryptoType = 2
	CryptoP521    CryptoType = 3
	CryptoX25519  CryptoType = 4
	maxCryptoType            = CryptoX25519
)

var cryptoTable = [...]struct {
	name      string
	pub, priv int
}{
	CryptoElGamal: {"ELGAMAL_2048", 256, 256},
	CryptoP256:    {"EC_P256", 64, 32},
	CryptoP384:    {"EC_P384", 96, 48},
	CryptoP521:    {"EC_P521", 132, 66},
	CryptoX25519:  {"ECIES_X25519", 32, 32},
}

// Known reports whether t is an encryption type whose key sizes are known.
func (t CryptoType) Known() bool { return t <= maxCryptoType }

// PublicKeyLen is the encryption public key size in bytes (0 if unknown).
func (t CryptoType) PublicKeyLen() int {
	if !t.Known() {
		return 0
	}
	return cryptoTable[t].pub
}

// PrivateKeyLen is the encryption private key size in bytes (0 if unknown).
func (t CryptoType) PrivateKeyLen() int {
	if !t.Known() {
		return 0
	}
	return cryptoTable[t].priv
}

// String returns the name the I2P specification uses.
func (t CryptoType) String() string {
	if t.Known() {
		return cryptoTable[t].name
	}
	return fmt.Sprintf("CryptoType(%d)", uint16(t))
}
