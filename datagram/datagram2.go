package datagram

import (
	"bytes"
	"fmt"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// Datagram2MinSize is the smallest possible Datagram2: a Destination with
// a null certificate, the flags, and a 40-byte DSA signature.
const Datagram2MinSize = i2p.MinDestinationLen + 2 + 40

// signedBufLen sizes the stack buffer that assembles the signed bytes of
// typical datagrams without a heap allocation.
const signedBufLen = 1024

// Datagram2 is a parsed, verified protocol-19 datagram.
type Datagram2 struct {
	From       i2p.Destination
	RawOptions []byte               // the serialized Mapping, nil when absent; aliases the input
	Offline    i2p.OfflineSignature // valid when HasOffline
	HasOffline bool
	Payload    []byte // aliases the input
}

// Options decodes the options Mapping (nil when absent).
func (d *Datagram2) Options() (i2p.Mapping, error) { return parseOptions(d.RawOptions) }

// ParseDatagram2 parses b and verifies its signature against to, the hash of
// the receiving Destination, as the sender signed it. A Datagram2 addressed
// to anyone else fails with ErrBadSignature: that binding is what makes the
// format replay resistant. now is checked against an offline signature's
// expiry.
func ParseDatagram2(b []byte, to i2p.Hash, now time.Time, d *Datagram2) error {
	from, _, err := PeekDatagram2(b)
	if err != nil {
		return err
	}
	return VerifyDatagram2(b, from, to, now, d)
}

// VerifyDatagram2 is ParseDatagram2 for a datagram PeekDatagram2 has
// already read: from is the sender it returned for b, so the Destination
// is neither copied nor hashed again. A from that is not b's sender
// fails with ErrBadSender.
func VerifyDatagram2(b []byte, from i2p.Destination, to i2p.Hash, now time.Time, d *Datagram2) error {
	if err := checkSize2(b); err != nil {
		return err
	}
	n := from.Len()
	if n == 0 || len(b) < n+2 || !bytes.Equal(b[:n], from.Bytes()) {
		return fmt.Errorf("%w: not the datagram's sender", ErrBadSender)
	}
	if !from.SigType().Verifiable() {
		return fmt.Errorf("%w: %w: %v", ErrBadSender, i2p.ErrUnsupportedSigType, from.SigType())
	}
	rest := b[n:]
	f := rest[1]
	if err := checkFlags(f, version2, flagOptions|flagOffline); err != nil {
		return err
	}
	signedStart := n
	opts, rest, err := splitOptions(rest[2:], f&flagOptions != 0)
	if err != nil {
		return err
	}
	sigType := from.SigType()
	var off i2p.OfflineSignature
	if f&flagOffline != 0 {
		off, rest, err = i2p.ParseOfflineSignature(rest, from.SigType())
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadOffline, err)
		}
		if !off.TransientType.Verifiable() {
			return fmt.Errorf("%w: transient %w: %v", ErrBadOffline, i2p.ErrUnsupportedSigType, off.TransientType)
		}
		if err := off.Verify(from, now); err != nil {
			return fmt.Errorf("%w: %w", ErrBadOffline, err)
		}
		sigType = off.TransientType
	}
	sigLen := sigType.SignatureLen()
	if len(rest) < sigLen {
		return fmt.Errorf("%w: %d bytes left for a %d-byte %v signature", ErrTooSmall, len(rest), sigLen, sigType)
	}
	payload := rest[:len(rest)-sigLen]
	sig := rest[len(rest)-sigLen:]

	signedLen := i2p.HashLen + len(b) - sigLen - signedStart
	var stack [signedBufLen]byte
	var signed []byte
	if signedLen <= len(stack) {
		signed = stack[:0]
	} else {
		signed = make([]byte, 0, signedLen)
	}
	signed = append(signed, to[:]...)
	signed = append(signed, b[signedStart:len(b)-sigLen]...)

	pub := from.SigningPublicKey()
	if f&flagOffline != 0 {
		pub = off.TransientKey
	}
	if err := i2p.Verify(sigType, pub, signed, sig); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	*d = Datagram2{From: from, RawOptions: opts, Offline: off, HasOffline: f&flagOffline != 0, Payload: payload}
	return nil
}

// AppendDatagram2 appends a Datagram2 from the identity keys to the
// receiver hash, with optional options. When keys carry an offline
// signature the block is included and the transient key signs.
func AppendDatagram2(dst []byte, keys *i2p.PrivateKeys, to i2p.Hash, opts i2p.Mapping, payload []byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, keys.Destination.Bytes()...)
	signedStart := len(dst)
	f := byte(version2)
	if len(opts) > 0 {
		f |= flagOptions
	}
	if keys.Offline != nil {
		f |= flagOffline
	}
	dst = append(dst, 0, f)
	dst, err := appendOptions(dst, opts)
	if err != nil {
		return dst[:start], err
	}
	if keys.Offline != nil {
		dst = keys.Offline.AppendTo(dst)
	}
	dst = append(dst, payload...)
	signed := make([]byte, 0, i2p.HashLen+len(dst)-signedStart)
	signed = append(signed, to[:]...)
	signed = append(signed, dst[signedStart:]...)
	sig, err := keys.Signer().Sign(signed)
	if err != nil {
		return dst[:start], fmt.Errorf("datagram: sign Datagram2: %w", err)
	}
	dst = append(dst, sig...)
	if n := len(dst) - start; n > MaxSize {
		return dst[:start], fmt.Errorf("%w: Datagram2 of %d bytes, max %d", ErrTooLarge, n, MaxSize)
	}
	return dst, nil
}

// PeekDatagram2 reads a Datagram2's claimed sender and whether it
// carries an offline signature, without verifying anything: enough to
// price and schedule the verification VerifyDatagram2 does.
func PeekDatagram2(b []byte) (from i2p.Destination, offline bool, err error) {
	if err := checkSize2(b); err != nil {
		return i2p.Destination{}, false, err
	}
	from, rest, err := i2p.ParseDestination(b)
	if err != nil {
		return i2p.Destination{}, false, fmt.Errorf("%w: %w", ErrBadSender, err)
	}
	if len(rest) < 2 {
		return i2p.Destination{}, false, fmt.Errorf("%w: no flags after the sender", ErrTooSmall)
	}
	return from, rest[1]&flagOffline != 0, nil
}

// checkSize2 bounds a Datagram2's length.
func checkSize2(b []byte) error {
	if len(b) < Datagram2MinSize {
		return fmt.Errorf("%w: Datagram2 of %d bytes, need %d", ErrTooSmall, len(b), Datagram2MinSize)
	}
	if len(b) > MaxSize {
		return fmt.Errorf("%w: Datagram2 of %d bytes, max %d", ErrTooLarge, len(b), MaxSize)
	}
	return nil
}
