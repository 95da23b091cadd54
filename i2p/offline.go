package i2p

import (
	"encoding/binary"
	"fmt"
	"time"
)

// OfflineSignature lets a Destination's long-term key delegate signing to a
// transient key until Expires: the Destination signs
// expires | transient sig type | transient public key.
type OfflineSignature struct {
	Expires       uint32 // seconds since the epoch
	TransientType SigType
	TransientKey  []byte
	Signature     []byte // by the Destination's signing key
}

// ParseOfflineSignature reads an offline block from the front of b, for a
// Destination whose signing key is of type destSig.
func ParseOfflineSignature(b []byte, destSig SigType) (OfflineSignature, []byte, error) {
	if len(b) < 6 {
		return OfflineSignature{}, b, fmt.Errorf("i2p: offline signature truncated: %d bytes", len(b))
	}
	o := OfflineSignature{
		Expires:       binary.BigEndian.Uint32(b),
		TransientType: SigType(binary.BigEndian.Uint16(b[4:])),
	}
	if !o.TransientType.Known() {
		return OfflineSignature{}, b, fmt.Errorf("i2p: offline signature: unknown transient type %d", uint16(o.TransientType))
	}
	keyLen, sigLen := o.TransientType.PublicKeyLen(), destSig.SignatureLen()
	if sigLen == 0 {
		return OfflineSignature{}, b, fmt.Errorf("i2p: offline signature: unknown destination type %v", destSig)
	}
	if len(b) < 6+keyLen+sigLen {
		return OfflineSignature{}, b, fmt.Errorf("i2p: offline signature truncated: %d bytes, need %d", len(b), 6+keyLen+sigLen)
	}
	o.TransientKey = b[6 : 6+keyLen]
	o.Signature = b[6+keyLen : 6+keyLen+sigLen]
	return o, b[6+keyLen+sigLen:], nil
}

// signedPart is what the Destination's key signs.
func (o OfflineSignature) signedPart() []byte {
	out := binary.BigEndian.AppendUint32(make([]byte, 0, 6+len(o.TransientKey)), o.Expires)
	out = binary.BigEndian.AppendUint16(out, uint16(o.TransientType))
	return append(out, o.TransientKey...)
}

// Len is the serialized size.
func (o OfflineSignature) Len() int { return 6 + len(o.TransientKey) + len(o.Signature) }

// AppendTo appends the serialized block.
func (o OfflineSignature) AppendTo(dst []byte) []byte {
	dst = append(dst, o.signedPart()...)
	return append(dst, o.Signature...)
}

// Verify checks the block against the Destination that delegated and the
// current time.
func (o OfflineSignature) Verify(d Destination, now time.Time) error {
	if int64(o.Expires) < now.Unix() {
		return fmt.Errorf("i2p: offline signature expired at %s", time.Unix(int64(o.Expires), 0).UTC().Format(time.RFC3339))
	}
	if err := d.Verify(o.signedPart(), o.Signature); err != nil {
		return fmt.Errorf("i2p: offline signature: %w", err)
	}
	return nil
}

// NewOfflineSignature signs a delegation to transient with the long-term
// key, valid until expires.
func NewOfflineSignature(longTerm SigningKey, transient SigningKey, expires time.Time) (OfflineSignature, error) {
	pub, err := transient.Public()
	if err != nil {
		return OfflineSignature{}, err
	}
	o := OfflineSignature{Expires: uint32(expires.Unix()), TransientType: transient.Type, TransientKey: pub}
	o.Signature, err = longTerm.Sign(o.signedPart())
	if err != nil {
		return OfflineSignature{}, fmt.Errorf("i2p: sign offline block: %w", err)
	}
	return o, nil
}
