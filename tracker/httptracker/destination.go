package httptracker

import (
	"strings"

	"github.com/go-i2p/go-opentracker/i2p"
)

// The Destinations an announce may name in ip.
//
// A Destination is 384 bytes of key fields and a certificate: a null one
// (3 bytes) or a key certificate (3 bytes of header, 4 naming the
// signature and encryption types, then the bytes of a key that overflows
// its field). Of the signature types a Destination may have — DSA-SHA1,
// ECDSA P-256, P-384 and P-521, Ed25519, RedDSA; RSA and Ed25519ph are
// for offline signatures only, GOST is reserved — only ECDSA-P521's
// 132-byte key overflows its 128-byte field, by 4 bytes, and no
// encryption key overflows its 256-byte field. A client's Destination
// therefore has 387 to 395 bytes (i2pd refuses certificates longer than
// 8 bytes for the same reason), and its certificate is exactly as long as
// its key types need. Anything else — junk appended inside a key
// certificate, say, which the I2P parser tolerates — is refused.
const (
	// MaxDestinationLen is the longest Destination accepted in ip: a key
	// certificate with ECDSA-P521's 4 bytes of overflow.
	MaxDestinationLen = i2p.MinDestinationLen + 4 + 4
	// maxIPBase64 bounds the padded Base64 form.
	maxIPBase64 = (MaxDestinationLen + 2) / 3 * 4
	// maxIPLen is the longest ip parameter (decoded): the Base64 of the
	// longest Destination and ".i2p". Longer values are refused whole,
	// never cut.
	maxIPLen = maxIPBase64 + len(".i2p")
)

// destinationSigType reports whether a Destination may carry signature
// type t.
func destinationSigType(t i2p.SigType) bool {
	switch t {
	case i2p.SigDSASHA1, i2p.SigECDSASHA256P256, i2p.SigECDSASHA384P384, i2p.SigECDSASHA512P521,
		i2p.SigEd25519, i2p.SigRedDSASHA512:
		return true
	}
	return false
}

// keyCertLen is the length of a Destination whose key certificate is
// exactly what its key types need.
func keyCertLen(sig i2p.SigType, crypto i2p.CryptoType) int {
	return i2p.MinDestinationLen + 4 +
		max(0, sig.PublicKeyLen()-i2p.SigningKeyFieldLen) + max(0, crypto.PublicKeyLen()-i2p.PublicKeyFieldLen)
}

// parseIPDestination parses the ip parameter, a Base64 Destination with
// or without ".i2p", and checks that it is one a client can have; the
// error is a *failure when it is not.
func parseIPDestination(ip string) (i2p.Destination, error) {
	// The caller refused anything longer than maxIPLen (ip_too_long).
	d, err := i2p.ParseDestinationBase64(strings.TrimSuffix(ip, ".i2p"))
	if err != nil {
		return i2p.Destination{}, errBadDest
	}
	if !destinationSigType(d.SigType()) {
		return i2p.Destination{}, errDestSigType
	}
	// A null certificate (387 bytes) is DSA-SHA1 and ElGamal, as the
	// parser checked; a key certificate must be exact.
	if n := d.Len(); n != i2p.MinDestinationLen && n != keyCertLen(d.SigType(), d.CryptoType()) {
		return i2p.Destination{}, errDestLength
	}
	return d, nil
}
