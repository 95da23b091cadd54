package streaming

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/go-i2p/go-opentracker/i2p"
)

// Flags is the 16-bit flags field of a packet.
type Flags uint16

// The flags of the streaming specification. Bits 12 to 15 are reserved; a
// parsed packet keeps them as they came so that it re-encodes unchanged.
const (
	FlagSYN                Flags = 1 << 0  // first packet in each direction
	FlagClose              Flags = 1 << 1  // sender's output is finished
	FlagReset              Flags = 1 << 2  // abnormal close
	FlagSignature          Flags = 1 << 3  // SIGNATURE option present
	FlagSignatureRequested Flags = 1 << 4  // unused by every implementation
	FlagFrom               Flags = 1 << 5  // FROM option present
	FlagDelay              Flags = 1 << 6  // DELAY option present
	FlagMaxPacketSize      Flags = 1 << 7  // MAX_PACKET_SIZE option present
	FlagInteractive        Flags = 1 << 8  // profile interactive, ignored on receive
	FlagEcho               Flags = 1 << 9  // ping or pong
	FlagNoACK              Flags = 1 << 10 // ackThrough is not valid
	FlagOffline            Flags = 1 << 11 // OFFLINE_SIGNATURE option present
)

// Sizes and bounds of the packet format.
const (
	// HeaderLen is the smallest packet: the fixed header with no NACKs and
	// no options.
	HeaderLen = 22
	// MaxNACKs is what the one-byte NACK count can hold.
	MaxNACKs = 255
	// MaxPayload bounds the payload this package accepts (Java's limit).
	MaxPayload = 32 << 10
	// MaxPacketLen bounds a whole packet: the largest header (255 NACKs,
	// a maximal option area) plus MaxPayload.
	MaxPacketLen = HeaderLen + 4*MaxNACKs + 0xffff + MaxPayload
	// ChokeDelay is the DELAY value Java sends to choke; any value of
	// ChokeThreshold or more means choke.
	ChokeDelay     = 61000
	ChokeThreshold = 60001
	// TargetHashNACKs is the NACK count of a SYN that carries the SHA-256
	// of the Destination it is addressed to (proposal 164).
	TargetHashNACKs = i2p.HashLen / 4
)

// ErrMalformed is wrapped by every error Parse returns.
var ErrMalformed = errors.New("streaming: malformed packet")

// Packet is one streaming packet. The option fields are meaningful only
// when their flag is set in Flags: Delay with FlagDelay, From with
// FlagFrom, MaxPacketSize with FlagMaxPacketSize, Offline with FlagOffline
// and Signature with FlagSignature.
//
// A Packet from Parse refers to the parsed bytes (NACKs and From excepted):
// it is valid only as long as they are.
type Packet struct {
	SendStreamID    uint32 // the recipient's stream ID, 0 before it is known
	ReceiveStreamID uint32 // the sender's own stream ID
	Seq             uint32
	AckThrough      uint32
	NACKs           []uint32
	ResendDelay     uint8 // seconds; ignored on receive
	Flags           Flags

	Delay         uint16 // ms; ChokeThreshold or more means choke
	From          i2p.Destination
	MaxPacketSize uint16 // never 0 (Java would drop the flag re-encoding it)
	Offline       *i2p.OfflineSignature
	Signature     []byte

	Payload []byte
}

// Has reports whether every flag in f is set.
func (p *Packet) Has(f Flags) bool { return p.Flags&f == f }

// Choked reports whether the packet asks its recipient to stop sending.
func (p *Packet) Choked() bool { return p.Has(FlagDelay) && p.Delay >= ChokeThreshold }

// TargetHash returns the proposal-164 hash of the Destination a SYN is
// addressed to: the eight NACKs of a SYN, read as 32 bytes.
func (p *Packet) TargetHash() (i2p.Hash, bool) {
	var h i2p.Hash
	if !p.Has(FlagSYN) || len(p.NACKs) != TargetHashNACKs {
		return h, false
	}
	for i, n := range p.NACKs {
		binary.BigEndian.PutUint32(h[4*i:], n)
	}
	return h, true
}

// SetTargetHash puts the proposal-164 hash of the target Destination in
// the NACK field of a SYN.
func (p *Packet) SetTargetHash(h i2p.Hash) {
	p.NACKs = make([]uint32, TargetHashNACKs)
	for i := range p.NACKs {
		p.NACKs[i] = binary.BigEndian.Uint32(h[4*i:])
	}
}

// Parse reads one packet. It checks every length against the input and
// the option area against the flags (options in their fixed order, no
// bytes left over), so that a packet it accepts re-encodes to exactly the
// input. The signature of a packet without FROM takes whatever the option
// area has left; Verify checks its length against the signer's type.
func Parse(b []byte) (*Packet, error) {
	if len(b) < HeaderLen {
		return nil, fmt.Errorf("%w: %d bytes, need %d", ErrMalformed, len(b), HeaderLen)
	}
	if len(b) > MaxPacketLen {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformed, len(b), MaxPacketLen)
	}
	p := &Packet{
		SendStreamID:    binary.BigEndian.Uint32(b),
		ReceiveStreamID: binary.BigEndian.Uint32(b[4:]),
		Seq:             binary.BigEndian.Uint32(b[8:]),
		AckThrough:      binary.BigEndian.Uint32(b[12:]),
	}
	nc := int(b[16])
	fixed := HeaderLen + 4*nc
	if len(b) < fixed {
		return nil, fmt.Errorf("%w: %d NACKs need %d bytes, have %d", ErrMalformed, nc, fixed, len(b))
	}
	if nc > 0 {
		p.NACKs = make([]uint32, nc)
		for i := range p.NACKs {
			p.NACKs[i] = binary.BigEndian.Uint32(b[17+4*i:])
		}
	}
	at := 17 + 4*nc
	p.ResendDelay = b[at]
	p.Flags = Flags(binary.BigEndian.Uint16(b[at+1:]))
	optLen := int(binary.BigEndian.Uint16(b[at+3:]))
	at += 5
	if len(b)-at < optLen {
		return nil, fmt.Errorf("%w: option size %d, %d bytes left", ErrMalformed, optLen, len(b)-at)
	}
	if err := p.parseOptions(b[at : at+optLen]); err != nil {
		return nil, err
	}
	p.Payload = b[at+optLen:]
	if len(p.Payload) > MaxPayload {
		return nil, fmt.Errorf("%w: payload %d bytes, limit %d", ErrMalformed, len(p.Payload), MaxPayload)
	}
	return p, nil
}

// parseOptions reads the option area in its fixed order: DELAY, FROM,
// MAX_PACKET_SIZE, OFFLINE_SIGNATURE, SIGNATURE.
func (p *Packet) parseOptions(o []byte) error {
	if p.Has(FlagDelay) {
		if len(o) < 2 {
			return fmt.Errorf("%w: DELAY option truncated", ErrMalformed)
		}
		p.Delay, o = binary.BigEndian.Uint16(o), o[2:]
	}
	if p.Has(FlagFrom) {
		d, rest, err := i2p.ParseDestination(o)
		if err != nil {
			return fmt.Errorf("%w: FROM option: %w", ErrMalformed, err)
		}
		p.From, o = d, rest
	}
	if p.Has(FlagMaxPacketSize) {
		if len(o) < 2 {
			return fmt.Errorf("%w: MAX_PACKET_SIZE option truncated", ErrMalformed)
		}
		p.MaxPacketSize, o = binary.BigEndian.Uint16(o), o[2:]
		if p.MaxPacketSize == 0 {
			return fmt.Errorf("%w: MAX_PACKET_SIZE 0 is not canonical", ErrMalformed)
		}
	}
	if p.Has(FlagOffline) {
		if !p.Has(FlagFrom) {
			return fmt.Errorf("%w: OFFLINE_SIGNATURE without FROM", ErrMalformed)
		}
		off, rest, err := i2p.ParseOfflineSignature(o, p.From.SigType())
		if err != nil {
			return fmt.Errorf("%w: OFFLINE_SIGNATURE option: %w", ErrMalformed, err)
		}
		p.Offline, o = &off, rest
	}
	if p.Has(FlagSignature) {
		if want := p.ownSignatureLen(); want > 0 && len(o) != want {
			return fmt.Errorf("%w: signature area %d bytes, %v signs %d", ErrMalformed, len(o), p.signerType(), want)
		}
		if len(o) == 0 {
			return fmt.Errorf("%w: SIGNATURE option empty", ErrMalformed)
		}
		p.Signature, o = o, nil
	}
	if len(o) != 0 {
		return fmt.Errorf("%w: %d option bytes beyond the options the flags name", ErrMalformed, len(o))
	}
	return nil
}

// signerType is the signature type the packet itself names (the transient
// type when it carries an offline block), or false without FROM.
func (p *Packet) signerType() i2p.SigType {
	if p.Has(FlagOffline) && p.Offline != nil {
		return p.Offline.TransientType
	}
	return p.From.SigType()
}

// ownSignatureLen is the signature length the packet's own FROM implies,
// 0 when it has no FROM.
func (p *Packet) ownSignatureLen() int {
	if !p.Has(FlagFrom) || p.From.IsZero() {
		return 0
	}
	return p.signerType().SignatureLen()
}

// optionLen is the size of the option area, or an error when a flag names
// an option whose field is missing.
func (p *Packet) optionLen() (int, error) {
	n := 0
	if p.Has(FlagDelay) {
		n += 2
	}
	if p.Has(FlagFrom) {
		if p.From.IsZero() {
			return 0, errors.New("streaming: FROM flag without a Destination")
		}
		n += p.From.Len()
	}
	if p.Has(FlagMaxPacketSize) {
		if p.MaxPacketSize == 0 {
			return 0, errors.New("streaming: MAX_PACKET_SIZE 0")
		}
		n += 2
	}
	if p.Has(FlagOffline) {
		if p.Offline == nil || !p.Has(FlagFrom) {
			return 0, errors.New("streaming: OFFLINE_SIGNATURE needs the block and FROM")
		}
		n += p.Offline.Len()
	}
	if p.Has(FlagSignature) {
		if len(p.Signature) == 0 {
			return 0, errors.New("streaming: SIGNATURE flag without a signature")
		}
		n += len(p.Signature)
	}
	if n > 0xffff {
		return 0, fmt.Errorf("streaming: option area %d bytes", n)
	}
	return n, nil
}

// Len is the encoded size, or an error as AppendTo would return.
func (p *Packet) Len() (int, error) {
	n, err := p.optionLen()
	if err != nil {
		return 0, err
	}
	return HeaderLen + 4*len(p.NACKs) + n + len(p.Payload), nil
}

// AppendTo appends the canonical encoding of p, with the signature as it
// stands in p.Signature; AppendSigned signs.
func (p *Packet) AppendTo(dst []byte) ([]byte, error) {
	if len(p.NACKs) > MaxNACKs {
		return dst, fmt.Errorf("streaming: %d NACKs, limit %d", len(p.NACKs), MaxNACKs)
	}
	if len(p.Payload) > MaxPayload {
		return dst, fmt.Errorf("streaming: payload %d bytes, limit %d", len(p.Payload), MaxPayload)
	}
	optLen, err := p.optionLen()
	if err != nil {
		return dst, err
	}
	dst = binary.BigEndian.AppendUint32(dst, p.SendStreamID)
	dst = binary.BigEndian.AppendUint32(dst, p.ReceiveStreamID)
	dst = binary.BigEndian.AppendUint32(dst, p.Seq)
	dst = binary.BigEndian.AppendUint32(dst, p.AckThrough)
	dst = append(dst, byte(len(p.NACKs)))
	for _, n := range p.NACKs {
		dst = binary.BigEndian.AppendUint32(dst, n)
	}
	dst = append(dst, p.ResendDelay)
	dst = binary.BigEndian.AppendUint16(dst, uint16(p.Flags))
	dst = binary.BigEndian.AppendUint16(dst, uint16(optLen))
	if p.Has(FlagDelay) {
		dst = binary.BigEndian.AppendUint16(dst, p.Delay)
	}
	if p.Has(FlagFrom) {
		dst = append(dst, p.From.Bytes()...)
	}
	if p.Has(FlagMaxPacketSize) {
		dst = binary.BigEndian.AppendUint16(dst, p.MaxPacketSize)
	}
	if p.Has(FlagOffline) {
		dst = p.Offline.AppendTo(dst)
	}
	if p.Has(FlagSignature) {
		dst = append(dst, p.Signature...)
	}
	return append(dst, p.Payload...), nil
}
