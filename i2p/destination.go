package i2p

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Sizes of the fixed part of a Destination (KeysAndCert).
const (
	PublicKeyFieldLen  = 256
	SigningKeyFieldLen = 128
	keysLen            = PublicKeyFieldLen + SigningKeyFieldLen
	// MinDestinationLen is a Destination with a null certificate.
	MinDestinationLen = keysLen + 3
	// MaxDestinationLen bounds what this package accepts: the largest key
	// certificate of a known type (RSA-4096 overflow) fits well below it.
	MaxDestinationLen = keysLen + 3 + 1024
)

// Certificate types.
const (
	CertNull     = 0
	CertHashCash = 1
	CertHidden   = 2
	CertSigned   = 3
	CertMultiple = 4
	CertKey      = 5
)

// ErrShortDestination is wrapped by every error about input too short to
// hold a Destination.
var ErrShortDestination = errors.New("i2p: destination truncated")

// Destination is a parsed, immutable I2P Destination. The zero value is not
// a valid Destination; use ParseDestination or NewDestination.
type Destination struct {
	raw        []byte
	hash       Hash
	sigType    SigType
	cryptoType CryptoType
}

// ParseDestination parses a serialized Destination from the front of b and
// returns it with the bytes that follow it. The Destination keeps its own
// copy of the bytes.
func ParseDestination(b []byte) (Destination, []byte, error) {
	n, sigType, cryptoType, err := destinationLen(b)
	if err != nil {
		return Destination{}, b, err
	}
	raw := make([]byte, n)
	copy(raw, b)
	return Destination{raw: raw, hash: HashOf(raw), sigType: sigType, cryptoType: cryptoType}, b[n:], nil
}

// parseDestinationOwned is ParseDestination of b that no one else holds:
// the Destination keeps b's first bytes instead of a copy of them.
func parseDestinationOwned(b []byte) (Destination, []byte, error) {
	n, sigType, cryptoType, err := destinationLen(b)
	if err != nil {
		return Destination{}, b, err
	}
	raw := b[:n:n]
	return Destination{raw: raw, hash: HashOf(raw), sigType: sigType, cryptoType: cryptoType}, b[n:], nil
}

// destinationLen validates the Destination at the front of b and returns
// its length and key types without copying anything.
func destinationLen(b []byte) (n int, sig SigType, crypto CryptoType, err error) {
	if len(b) < MinDestinationLen {
		return 0, 0, 0, fmt.Errorf("%w: %d bytes, need at least %d", ErrShortDestination, len(b), MinDestinationLen)
	}
	certType := b[keysLen]
	certLen := int(binary.BigEndian.Uint16(b[keysLen+1:]))
	n = MinDestinationLen + certLen
	if n > MaxDestinationLen {
		return 0, 0, 0, fmt.Errorf("i2p: destination certificate length %d too large", certLen)
	}
	if len(b) < n {
		return 0, 0, 0, fmt.Errorf("%w: certificate says %d bytes, have %d", ErrShortDestination, n, len(b))
	}
	switch certType {
	case CertNull:
		if certLen != 0 {
			return 0, 0, 0, fmt.Errorf("i2p: null certificate with length %d", certLen)
		}
		return n, SigDSASHA1, CryptoElGamal, nil
	case CertKey:
	default:
		return 0, 0, 0, fmt.Errorf("i2p: destination certificate type %d not allowed (want null or key)", certType)
	}
	if certLen < 4 {
		return 0, 0, 0, fmt.Errorf("i2p: key certificate length %d, need at least 4", certLen)
	}
	payload := b[MinDestinationLen:n]
	sig = SigType(binary.BigEndian.Uint16(payload))
	crypto = CryptoType(binary.BigEndian.Uint16(payload[2:]))
	if !sig.Known() {
		return 0, 0, 0, fmt.Errorf("i2p: unknown signature type %d in key certificate", uint16(sig))
	}
	if !crypto.Known() {
		return 0, 0, 0, fmt.Errorf("i2p: unknown crypto type %d in key certificate", uint16(crypto))
	}
	extra := max(0, sig.PublicKeyLen()-SigningKeyFieldLen) + max(0, crypto.PublicKeyLen()-PublicKeyFieldLen)
	if certLen < 4+extra {
		return 0, 0, 0, fmt.Errorf("i2p: key certificate length %d too short for %v/%v (need %d)", certLen, sig, crypto, 4+extra)
	}
	return n, sig, crypto, nil
}

// NewDestination builds a Destination from its keys. padding fills the
// space between the encryption key (at the start of its 256-byte field) and
// the signing key (at the end of its 128-byte field); it must be exactly
// 384 - len(encPub) - len(sigPub) bytes for keys that fit their fields.
func NewDestination(crypto CryptoType, encPub []byte, sig SigType, sigPub []byte, padding []byte) (Destination, error) {
	if !sig.Known() || !crypto.Known() {
		return Destination{}, fmt.Errorf("i2p: unknown key types %v/%v", sig, crypto)
	}
	if len(encPub) != crypto.PublicKeyLen() || len(sigPub) != sig.PublicKeyLen() {
		return Destination{}, fmt.Errorf("i2p: key sizes %d/%d do not match %v/%v", len(encPub), len(sigPub), crypto, sig)
	}
	encIn := min(len(encPub), PublicKeyFieldLen)
	sigIn := min(len(sigPub), SigningKeyFieldLen)
	if want := keysLen - encIn - sigIn; len(padding) != want {
		return Destination{}, fmt.Errorf("i2p: padding is %d bytes, want %d", len(padding), want)
	}
	var certPayload []byte
	if sig != SigDSASHA1 || crypto != CryptoElGamal {
		certPayload = binary.BigEndian.AppendUint16(nil, uint16(sig))
		certPayload = binary.BigEndian.AppendUint16(certPayload, uint16(crypto))
		certPayload = append(certPayload, sigPub[sigIn:]...)
		certPayload = append(certPayload, encPub[encIn:]...)
	}
	raw := make([]byte, 0, MinDestinationLen+len(certPayload))
	raw = append(raw, encPub[:encIn]...)
	raw = append(raw, padding...)
	raw = append(raw, sigPub[:sigIn]...)
	if certPayload == nil {
		raw = append(raw, CertNull, 0, 0)
	} else {
		raw = append(raw, CertKey)
		raw = binary.BigEndian.AppendUint16(raw, uint16(len(certPayload)))
		raw = append(raw, certPayload...)
	}
	d, rest, err := ParseDestination(raw)
	if err == nil && len(rest) != 0 {
		err = fmt.Errorf("i2p: built destination has %d trailing bytes", len(rest))
	}
	return d, err
}

// ParseDestinationBase64 parses the I2P Base64 form, with or without a
// trailing ".i2p". The whole string must be one Destination.
func ParseDestinationBase64(s string) (Destination, error) {
	s = strings.TrimSuffix(s, ".i2p")
	if len(s) > (MaxDestinationLen+2)/3*4 {
		return Destination{}, fmt.Errorf("i2p: base64 destination of %d characters is too long", len(s))
	}
	b, err := DecodeBase64(s)
	if err != nil {
		return Destination{}, err
	}
	d, rest, err := parseDestinationOwned(b) // b is this call's own
	if err != nil {
		return Destination{}, err
	}
	if len(rest) != 0 {
		return Destination{}, fmt.Errorf("i2p: %d bytes after the destination", len(rest))
	}
	return d, nil
}

// IsZero reports whether d is the zero value (no Destination).
func (d Destination) IsZero() bool { return d.raw == nil }

// Bytes returns the serialized Destination. The caller must not modify it.
func (d Destination) Bytes() []byte { return d.raw }

// Len returns the serialized length.
func (d Destination) Len() int { return len(d.raw) }

// Hash returns the SHA-256 of the serialized Destination.
func (d Destination) Hash() Hash { return d.hash }

// HashEqual reports whether h is d's hash (without copying either).
func (d *Destination) HashEqual(h *Hash) bool { return d.hash.Equal(h) }

// SigType returns the signature type of the Destination's signing key.
func (d Destination) SigType() SigType { return d.sigType }

// CryptoType returns the encryption type the certificate declares.
func (d Destination) CryptoType() CryptoType { return d.cryptoType }

// Base64 returns the I2P Base64 form.
func (d Destination) Base64() string { return EncodeBase64(d.raw) }

// B32 returns the Base32 address of the Destination's hash.
func (d Destination) B32() string { return d.hash.B32() }

// String returns the Base32 address.
func (d Destination) String() string { return d.B32() }

// Equal reports whether two Destinations have the same bytes.
func (d Destination) Equal(o Destination) bool { return d.hash == o.hash && len(d.raw) == len(o.raw) }

// Certificate returns the certificate bytes (type, length, payload).
func (d Destination) Certificate() []byte {
	if d.raw == nil {
		return nil
	}
	return d.raw[keysLen:]
}

// SigningPublicKey returns the signing public key: right-aligned in its
// 128-byte field, with any overflow carried in the key certificate.
func (d Destination) SigningPublicKey() []byte {
	n := d.sigType.PublicKeyLen()
	if d.raw == nil || n == 0 {
		return nil
	}
	if n <= SigningKeyFieldLen {
		return d.raw[keysLen-n : keysLen]
	}
	out := make([]byte, 0, n)
	out = append(out, d.raw[PublicKeyFieldLen:keysLen]...)
	return append(out, d.raw[MinDestinationLen+4:MinDestinationLen+4+n-SigningKeyFieldLen]...)
}

// EncryptionPublicKey returns the encryption public key: left-aligned in its
// 256-byte field, with any overflow after the signing-key overflow.
func (d Destination) EncryptionPublicKey() []byte {
	n := d.cryptoType.PublicKeyLen()
	if d.raw == nil || n == 0 {
		return nil
	}
	if n <= PublicKeyFieldLen {
		return d.raw[:n]
	}
	extraStart := MinDestinationLen + 4 + max(0, d.sigType.PublicKeyLen()-SigningKeyFieldLen)
	out := make([]byte, 0, n)
	out = append(out, d.raw[:PublicKeyFieldLen]...)
	return append(out, d.raw[extraStart:extraStart+n-PublicKeyFieldLen]...)
}

// Verify checks a signature made by this Destination's signing key.
func (d Destination) Verify(msg, sig []byte) error {
	return Verify(d.sigType, d.SigningPublicKey(), msg, sig)
}
