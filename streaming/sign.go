package streaming

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// Errors of signing and verification.
var (
	ErrUnsigned     = errors.New("streaming: packet not signed")
	ErrWrongSigner  = errors.New("streaming: FROM is not the stream's peer")
	ErrNoSigner     = errors.New("streaming: no key to verify with")
	ErrRSARefused   = errors.New("streaming: RSA destinations refused")
	ErrBadSignature = i2p.ErrBadSignature
)

// Signer is who signs a stream's packets: a Destination and, when it
// delegates to a transient key, its offline block. Packets without FROM are
// checked against the Signer the stream learnt from its SYN.
type Signer struct {
	Destination i2p.Destination
	Offline     *i2p.OfflineSignature
}

// IsZero reports whether no Destination is known.
func (s Signer) IsZero() bool { return s.Destination.IsZero() }

// keyType is the type of the key that signs packets.
func (s Signer) keyType() i2p.SigType {
	if s.Offline != nil {
		return s.Offline.TransientType
	}
	return s.Destination.SigType()
}

func (s Signer) key() []byte {
	if s.Offline != nil {
		return s.Offline.TransientKey
	}
	return s.Destination.SigningPublicKey()
}

// PacketSigner returns the Signer the packet names in its FROM (with its
// offline block), or a zero Signer without FROM.
func (p *Packet) PacketSigner() Signer {
	if !p.Has(FlagFrom) {
		return Signer{}
	}
	s := Signer{Destination: p.From}
	if p.Has(FlagOffline) {
		s.Offline = p.Offline
	}
	return s
}

// AppendSigned sets FlagSignature, appends the canonical encoding of p with
// a zeroed signature slot of key's size, signs those bytes and writes the
// signature into the slot (and into p.Signature). With an offline block
// key must be the transient key.
func (p *Packet) AppendSigned(dst []byte, key i2p.SigningKey) ([]byte, error) {
	n := key.Type.SignatureLen()
	if n == 0 {
		return dst, fmt.Errorf("streaming: sign: %w: %v", i2p.ErrUnsupportedSigType, key.Type)
	}
	if p.Has(FlagOffline) && p.Offline != nil && p.Offline.TransientType != key.Type {
		return dst, fmt.Errorf("streaming: sign: key type %v, offline block names %v", key.Type, p.Offline.TransientType)
	}
	p.Flags |= FlagSignature
	p.Signature = make([]byte, n)
	start := len(dst)
	out, err := p.AppendTo(dst)
	if err != nil {
		return dst, err
	}
	sig, err := key.Sign(out[start:])
	if err != nil {
		return dst, fmt.Errorf("streaming: sign: %w", err)
	}
	if len(sig) != n {
		return dst, fmt.Errorf("streaming: sign: %d-byte signature, want %d", len(sig), n)
	}
	slot := len(out) - len(p.Payload) - n
	copy(out[slot:], sig)
	p.Signature = out[slot : slot+n : slot+n]
	return out, nil
}

// Verify checks p's signature over its canonical encoding with the
// signature zeroed, as the Java reference does. known is the stream's
// peer, zero for a packet that opens a stream. A packet with FROM is
// checked against its own FROM, which must equal known when known is set;
// an offline block is checked against the Destination and now first.
// RSA signers are refused, as i2pd does. scratch, when not nil, is reused
// for the re-encoding.
func (p *Packet) Verify(known Signer, now time.Time, scratch *[]byte) error {
	if !p.Has(FlagSignature) {
		return ErrUnsigned
	}
	s := known
	if p.Has(FlagFrom) {
		if !known.IsZero() && !known.Destination.Equal(p.From) {
			return ErrWrongSigner
		}
		s = p.PacketSigner()
	}
	if s.IsZero() {
		return ErrNoSigner
	}
	switch s.Destination.SigType() {
	case i2p.SigRSASHA2562048, i2p.SigRSASHA3843072, i2p.SigRSASHA5124096:
		return ErrRSARefused
	}
	if s.Offline != nil {
		if err := s.Offline.Verify(s.Destination, now); err != nil {
			return fmt.Errorf("streaming: %w", err)
		}
	}
	t := s.keyType()
	if len(p.Signature) != t.SignatureLen() {
		return fmt.Errorf("streaming: %d-byte signature, %v signs %d", len(p.Signature), t, t.SignatureLen())
	}
	var buf []byte
	if scratch != nil {
		buf = (*scratch)[:0]
	}
	sig := p.Signature
	p.Signature = zeroes[:len(sig)]
	buf, err := p.AppendTo(buf)
	p.Signature = sig
	if scratch != nil {
		*scratch = buf
	}
	if err != nil {
		return err
	}
	if err := i2p.Verify(t, s.key(), buf, sig); err != nil {
		return fmt.Errorf("streaming: %w", err)
	}
	return nil
}

// zeroes stands in for a signature while the signed bytes are written; no
// signature type is longer.
var zeroes [512]byte
