package i2cp

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// Database store types of the LeaseSet forms.
const (
	storeLeaseSet  = 1
	storeLeaseSet2 = 3
)

// EncryptionKey is one public encryption key of a LeaseSet2.
type EncryptionKey struct {
	Type i2p.CryptoType
	Key  []byte
}

// LeaseSet2 is a standard (type 3) LeaseSet2.
type LeaseSet2 struct {
	Destination i2p.Destination
	Published   time.Time // second resolution
	Expires     time.Time // second resolution, within 65535 s of Published
	Flags       uint16    // bit 0 (offline keys) follows Offline
	// Offline, when set, delegates the signature to its transient key:
	// Sign with that key.
	Offline   *i2p.OfflineSignature
	Options   i2p.Mapping
	Keys      []EncryptionKey
	Leases    []Lease // End at second resolution
	Signature []byte
}

// signedBody serializes everything before the signature.
func (ls *LeaseSet2) signedBody(dst []byte) ([]byte, error) {
	dst = append(dst, ls.Destination.Bytes()...)
	pub := ls.Published.Unix()
	off := ls.Expires.Unix() - pub
	if off < 0 || off > 0xffff {
		return nil, fmt.Errorf("i2cp: LeaseSet2 expires %d s after published", off)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(pub))
	dst = binary.BigEndian.AppendUint16(dst, uint16(off))
	flags := ls.Flags &^ flagOffline
	if ls.Offline != nil {
		flags |= flagOffline
	}
	dst = binary.BigEndian.AppendUint16(dst, flags)
	if ls.Offline != nil {
		dst = ls.Offline.AppendTo(dst)
	}
	var err error
	if dst, err = ls.Options.AppendTo(dst); err != nil {
		return nil, err
	}
	dst = append(dst, byte(len(ls.Keys)))
	for _, k := range ls.Keys {
		dst = binary.BigEndian.AppendUint16(dst, uint16(k.Type))
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(k.Key)))
		dst = append(dst, k.Key...)
	}
	dst = append(dst, byte(len(ls.Leases)))
	for _, l := range ls.Leases {
		dst = append(dst, l.Gateway[:]...)
		dst = binary.BigEndian.AppendUint32(dst, l.TunnelID)
		dst = binary.BigEndian.AppendUint32(dst, uint32(l.End.Unix()))
	}
	return dst, nil
}

// flagOffline marks a LeaseSet2 whose header carries an offline signature.
const flagOffline = 1

// Sign fills in the signature over 0x03 || body: k is the Destination's
// key, or the transient key when Offline is set.
func (ls *LeaseSet2) Sign(k i2p.SigningKey) error {
	body, err := ls.signedBody([]byte{storeLeaseSet2})
	if err != nil {
		return err
	}
	ls.Signature, err = k.Sign(body)
	if err != nil {
		return fmt.Errorf("i2cp: sign LeaseSet2: %w", err)
	}
	return nil
}

// AppendTo appends the signed LeaseSet2.
func (ls *LeaseSet2) AppendTo(dst []byte) ([]byte, error) {
	dst, err := ls.signedBody(dst)
	if err != nil {
		return nil, err
	}
	return append(dst, ls.Signature...), nil
}

// ParseLeaseSet2 parses a LeaseSet2 from the front of b and verifies its
// signature; it returns the bytes after it.
func ParseLeaseSet2(b []byte) (*LeaseSet2, []byte, error) {
	r := newReader(b, "LeaseSet2")
	ls := &LeaseSet2{Destination: r.dest("destination")}
	pub := r.u32("published")
	off := r.u16("expires")
	ls.Published = time.Unix(int64(pub), 0)
	ls.Expires = time.Unix(int64(pub)+int64(off), 0)
	ls.Flags = r.u16("flags")
	if r.err == nil && ls.Flags&flagOffline != 0 {
		o, rest, err := i2p.ParseOfflineSignature(r.b, ls.Destination.SigType())
		if err != nil {
			return nil, b, fmt.Errorf("%w: LeaseSet2 offline signature: %w", ErrMalformed, err)
		}
		if err := o.Verify(ls.Destination, ls.Published); err != nil {
			return nil, b, fmt.Errorf("i2cp: LeaseSet2: %w", err)
		}
		ls.Offline, r.b = &o, rest
	}
	ls.Options = r.mapping("options")
	for n := int(r.u8("key count")); n > 0 && r.err == nil; n-- {
		t := i2p.CryptoType(r.u16("key type"))
		ls.Keys = append(ls.Keys, EncryptionKey{Type: t, Key: r.take(int(r.u16("key length")), "key")})
	}
	for n := int(r.u8("lease count")); n > 0 && r.err == nil; n-- {
		var l Lease
		copy(l.Gateway[:], r.take(32, "gateway"))
		l.TunnelID = r.u32("tunnel id")
		l.End = time.Unix(int64(r.u32("end")), 0)
		ls.Leases = append(ls.Leases, l)
	}
	if r.err != nil {
		return nil, b, r.err
	}
	signedLen := len(b) - len(r.b)
	sigType := ls.Destination.SigType()
	if ls.Offline != nil {
		sigType = ls.Offline.TransientType
	}
	ls.Signature = r.take(sigType.SignatureLen(), "signature")
	if r.err != nil {
		return nil, b, r.err
	}
	signed := append([]byte{storeLeaseSet2}, b[:signedLen]...)
	var err error
	if ls.Offline != nil {
		err = i2p.Verify(sigType, ls.Offline.TransientKey, signed, ls.Signature)
	} else {
		err = ls.Destination.Verify(signed, ls.Signature)
	}
	if err != nil {
		return nil, b, fmt.Errorf("i2cp: LeaseSet2 signature: %w", err)
	}
	return ls, r.b, nil
}

// PrivateKey is a private encryption key handed to the router.
type PrivateKey struct {
	Type i2p.CryptoType
	Key  []byte
}

// AppendCreateLeaseSet2 appends a CreateLeaseSet2 frame.
func AppendCreateLeaseSet2(dst []byte, sessionID uint16, ls *LeaseSet2, keys []PrivateKey) ([]byte, error) {
	dst, at := beginFrame(dst, TypeCreateLeaseSet2)
	dst = binary.BigEndian.AppendUint16(dst, sessionID)
	dst = append(dst, storeLeaseSet2)
	dst, err := ls.AppendTo(dst)
	if err != nil {
		return nil, err
	}
	dst = append(dst, byte(len(keys)))
	for _, k := range keys {
		dst = binary.BigEndian.AppendUint16(dst, uint16(k.Type))
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(k.Key)))
		dst = append(dst, k.Key...)
	}
	return endFrame(dst, at), nil
}

// ParseCreateLeaseSet2 parses (and verifies) a CreateLeaseSet2 body.
func ParseCreateLeaseSet2(b []byte) (uint16, *LeaseSet2, []PrivateKey, error) {
	r := newReader(b, "CreateLeaseSet2")
	id := r.u16("session id")
	if st := r.u8("store type"); r.err == nil && st != storeLeaseSet2 {
		return id, nil, nil, fmt.Errorf("%w: CreateLeaseSet2 store type %d not supported", ErrMalformed, st)
	}
	if r.err != nil {
		return id, nil, nil, r.err
	}
	ls, rest, err := ParseLeaseSet2(r.b)
	if err != nil {
		return id, nil, nil, err
	}
	r.b = rest
	var keys []PrivateKey
	for n := int(r.u8("private key count")); n > 0 && r.err == nil; n-- {
		t := i2p.CryptoType(r.u16("key type"))
		keys = append(keys, PrivateKey{Type: t, Key: r.take(int(r.u16("key length")), "private key")})
	}
	return id, ls, keys, r.err
}

// LeaseSet is the older LeaseSet (store type 1): Destination, a 256-byte
// ElGamal key, an unused signing-key field, leases with millisecond end
// dates, and the Destination's signature over all of it.
type LeaseSet struct {
	Destination   i2p.Destination
	EncryptionKey []byte // 256 bytes, ElGamal
	Leases        []Lease
	Signature     []byte
}

func (ls *LeaseSet) signedBody(dst []byte) []byte {
	dst = append(dst, ls.Destination.Bytes()...)
	dst = append(dst, ls.EncryptionKey...)
	dst = append(dst, make([]byte, ls.Destination.SigType().PublicKeyLen())...) // revocation key, unused
	dst = append(dst, byte(len(ls.Leases)))
	for _, l := range ls.Leases {
		dst = append(dst, l.Gateway[:]...)
		dst = binary.BigEndian.AppendUint32(dst, l.TunnelID)
		dst = appendDate(dst, l.End)
	}
	return dst
}

// Sign fills in the signature.
func (ls *LeaseSet) Sign(k i2p.SigningKey) error {
	sig, err := k.Sign(ls.signedBody(nil))
	if err != nil {
		return fmt.Errorf("i2cp: sign LeaseSet: %w", err)
	}
	ls.Signature = sig
	return nil
}

// legacySigningKeyPlaceholder is the signing-private-key field of
// CreateLeaseSet. It has been unused since 0.9.x; i2pd always skips 20
// bytes there whatever the signature type, so 20 zero bytes suit both.
const legacySigningKeyPlaceholder = 20

// AppendCreateLeaseSet appends the older CreateLeaseSet frame.
func AppendCreateLeaseSet(dst []byte, sessionID uint16, ls *LeaseSet, elgamalPrivate []byte) []byte {
	dst, at := beginFrame(dst, TypeCreateLeaseSet)
	dst = binary.BigEndian.AppendUint16(dst, sessionID)
	dst = append(dst, make([]byte, legacySigningKeyPlaceholder)...)
	dst = append(dst, elgamalPrivate...)
	dst = ls.signedBody(dst)
	dst = append(dst, ls.Signature...)
	return endFrame(dst, at)
}

// ParseCreateLeaseSet parses (and verifies) a CreateLeaseSet body.
func ParseCreateLeaseSet(b []byte) (uint16, *LeaseSet, error) {
	r := newReader(b, "CreateLeaseSet")
	id := r.u16("session id")
	r.take(legacySigningKeyPlaceholder, "signing key placeholder")
	r.take(256, "private key")
	start := r.b
	ls := &LeaseSet{Destination: r.dest("destination")}
	ls.EncryptionKey = r.take(256, "encryption key")
	r.take(ls.Destination.SigType().PublicKeyLen(), "signing key")
	for n := int(r.u8("lease count")); n > 0 && r.err == nil; n-- {
		var l Lease
		copy(l.Gateway[:], r.take(32, "gateway"))
		l.TunnelID = r.u32("tunnel id")
		l.End = time.UnixMilli(int64(r.u64("end date")))
		ls.Leases = append(ls.Leases, l)
	}
	if r.err != nil {
		return id, nil, r.err
	}
	signed := start[:len(start)-len(r.b)]
	ls.Signature = r.take(ls.Destination.SigType().SignatureLen(), "signature")
	if r.err != nil {
		return id, nil, r.err
	}
	if err := ls.Destination.Verify(signed, ls.Signature); err != nil {
		return id, nil, fmt.Errorf("i2cp: LeaseSet signature: %w", err)
	}
	return id, ls, nil
}
