package i2cp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// ErrMalformed wraps every error about a message body that does not parse.
var ErrMalformed = errors.New("i2cp: malformed message")

// reader walks a message body; the first short read sticks as its error.
type reader struct {
	b   []byte
	err error
	msg string
}

func newReader(b []byte, msg string) *reader { return &reader{b: b, msg: msg} }

func (r *reader) fail(what string, need int) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s: %s needs %d bytes, %d left", ErrMalformed, r.msg, what, need, len(r.b))
	}
}

func (r *reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b) < n {
		r.fail(what, n)
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u8(what string) uint8 {
	if b := r.take(1, what); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16(what string) uint16 {
	if b := r.take(2, what); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32(what string) uint32 {
	if b := r.take(4, what); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64(what string) uint64 {
	if b := r.take(8, what); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (r *reader) str(what string) string {
	n := int(r.u8(what))
	return string(r.take(n, what))
}

func (r *reader) dest(what string) i2p.Destination {
	if r.err != nil {
		return i2p.Destination{}
	}
	d, rest, err := i2p.ParseDestination(r.b)
	if err != nil {
		r.err = fmt.Errorf("%w: %s: %s: %w", ErrMalformed, r.msg, what, err)
		return i2p.Destination{}
	}
	r.b = rest
	return d
}

func (r *reader) mapping(what string) i2p.Mapping {
	if r.err != nil {
		return nil
	}
	m, rest, err := i2p.ParseMapping(r.b)
	if err != nil {
		r.err = fmt.Errorf("%w: %s: %s: %w", ErrMalformed, r.msg, what, err)
		return nil
	}
	r.b = rest
	return m
}

func appendString(dst []byte, s string) []byte {
	if len(s) > 255 {
		s = s[:255]
	}
	dst = append(dst, byte(len(s)))
	return append(dst, s...)
}

func appendDate(dst []byte, t time.Time) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(t.UnixMilli()))
}

// --- GetDate / SetDate ---

// GetDate is the client's greeting (and keepalive).
type GetDate struct {
	Version string
	Options i2p.Mapping // i2cp.username / i2cp.password when the router wants them
}

// AppendGetDate appends a GetDate frame.
func AppendGetDate(dst []byte, m GetDate) ([]byte, error) {
	dst, at := beginFrame(dst, TypeGetDate)
	dst = appendString(dst, m.Version)
	if len(m.Options) > 0 {
		var err error
		if dst, err = m.Options.AppendTo(dst); err != nil {
			return nil, err
		}
	}
	return endFrame(dst, at), nil
}

// ParseGetDate parses a GetDate body.
func ParseGetDate(b []byte) (GetDate, error) {
	r := newReader(b, "GetDate")
	m := GetDate{Version: r.str("version")}
	if r.err == nil && len(r.b) > 0 {
		m.Options = r.mapping("options")
	}
	return m, r.err
}

// SetDate is the router's answer to GetDate.
type SetDate struct {
	Date    time.Time
	Version string
}

// AppendSetDate appends a SetDate frame.
func AppendSetDate(dst []byte, m SetDate) []byte {
	dst, at := beginFrame(dst, TypeSetDate)
	dst = appendDate(dst, m.Date)
	dst = appendString(dst, m.Version)
	return endFrame(dst, at)
}

// ParseSetDate parses a SetDate body.
func ParseSetDate(b []byte) (SetDate, error) {
	r := newReader(b, "SetDate")
	m := SetDate{Date: time.UnixMilli(int64(r.u64("date")))}
	if r.err == nil && len(r.b) > 0 {
		m.Version = r.str("version")
	}
	return m, r.err
}

// --- CreateSession ---

// SessionConfig is what CreateSession carries: the Destination, its
// options and a date, signed by the Destination's (or transient) key.
type SessionConfig struct {
	Destination i2p.Destination
	Options     i2p.Mapping
	Date        time.Time
	Signature   []byte
}

// SessionConfig options that carry an offline signature (Java 0.9.38+):
// expiration in seconds, "sigtype:base64" transient public key, Base64
// signature by the Destination's long-term key.
const (
	OptOfflineExpiration = "i2cp.leaseSetOfflineExpiration"
	OptTransientKey      = "i2cp.leaseSetTransientPublicKey"
	OptOfflineSignature  = "i2cp.leaseSetOfflineSignature"
)

// AppendCreateSession signs and appends a CreateSession frame. With an
// offline-signed identity the options gain the offline signature and the
// transient key signs.
func AppendCreateSession(dst []byte, keys *i2p.PrivateKeys, opts i2p.Mapping, date time.Time) ([]byte, error) {
	if o := keys.Offline; o != nil {
		opts = append(append(i2p.Mapping(nil), opts...),
			i2p.Pair{Key: OptOfflineExpiration, Value: strconv.FormatUint(uint64(o.Expires), 10)},
			i2p.Pair{Key: OptTransientKey, Value: strconv.Itoa(int(o.TransientType)) + ":" + i2p.EncodeBase64(o.TransientKey)},
			i2p.Pair{Key: OptOfflineSignature, Value: i2p.EncodeBase64(o.Signature)})
	}
	dst, at := beginFrame(dst, TypeCreateSession)
	start := len(dst)
	dst = append(dst, keys.Destination.Bytes()...)
	var err error
	if dst, err = opts.AppendTo(dst); err != nil {
		return nil, fmt.Errorf("i2cp: session options: %w", err)
	}
	dst = appendDate(dst, date)
	sig, err := keys.Signer().Sign(dst[start:])
	if err != nil {
		return nil, fmt.Errorf("i2cp: sign session config: %w", err)
	}
	dst = append(dst, sig...)
	return endFrame(dst, at), nil
}

// ParseCreateSession parses a CreateSession body (without checking the
// signature; see SessionConfig.Verify).
func ParseCreateSession(b []byte) (SessionConfig, error) {
	r := newReader(b, "CreateSession")
	c := SessionConfig{Destination: r.dest("destination")}
	c.Options = r.mapping("options")
	c.Date = time.UnixMilli(int64(r.u64("date")))
	if r.err != nil {
		return c, r.err
	}
	c.Signature = r.take(c.Destination.SigType().SignatureLen(), "signature")
	return c, r.err
}

// Verify checks the SessionConfig's signature the way the Java router
// does: over the Destination, the options serialized sorted by key, and
// the date — so a client that signed its options in another order fails —
// by the Destination's key, or, when the options carry an offline
// signature valid at Date, by the transient key.
func (c SessionConfig) Verify() error {
	signed := c.Destination.Bytes()
	signed, err := c.Options.AppendTo(signed)
	if err != nil {
		return fmt.Errorf("%w: session options: %w", ErrMalformed, err)
	}
	signed = appendDate(signed, c.Date)
	o, err := c.Offline()
	if err != nil {
		return err
	}
	if o == nil {
		return c.Destination.Verify(signed, c.Signature)
	}
	if err := o.Verify(c.Destination, c.Date); err != nil {
		return err
	}
	return i2p.Verify(o.TransientType, o.TransientKey, signed, c.Signature)
}

// Offline returns the offline signature the options carry, nil without one.
func (c SessionConfig) Offline() (*i2p.OfflineSignature, error) {
	key, ok := c.Options.Get(OptTransientKey)
	if !ok {
		return nil, nil
	}
	bad := func(what string, err error) error {
		return fmt.Errorf("%w: SessionConfig offline signature: %s: %v", ErrMalformed, what, err)
	}
	o := &i2p.OfflineSignature{TransientType: i2p.SigDSASHA1}
	if t, k, found := strings.Cut(key, ":"); found {
		n, err := strconv.ParseUint(t, 10, 16)
		if err != nil {
			return nil, bad("transient key type", err)
		}
		o.TransientType, key = i2p.SigType(n), k
	}
	var err error
	if o.TransientKey, err = i2p.DecodeBase64(key); err != nil {
		return nil, bad("transient key", err)
	}
	if len(o.TransientKey) != o.TransientType.PublicKeyLen() {
		return nil, bad("transient key", fmt.Errorf("%d bytes for %s", len(o.TransientKey), o.TransientType))
	}
	exp, _ := c.Options.Get(OptOfflineExpiration)
	n, err := strconv.ParseUint(exp, 10, 32)
	if err != nil {
		return nil, bad("expiration", err)
	}
	o.Expires = uint32(n)
	sig, _ := c.Options.Get(OptOfflineSignature)
	if o.Signature, err = i2p.DecodeBase64(sig); err != nil {
		return nil, bad("signature", err)
	}
	return o, nil
}

// --- SessionStatus, DestroySession, Disconnect ---

// AppendSessionStatus appends a SessionStatus frame.
func AppendSessionStatus(dst []byte, sessionID uint16, status uint8) []byte {
	dst, at := beginFrame(dst, TypeSessionStatus)
	dst = binary.BigEndian.AppendUint16(dst, sessionID)
	return endFrame(append(dst, status), at)
}

// ParseSessionStatus parses a SessionStatus body.
func ParseSessionStatus(b []byte) (sessionID uint16, status uint8, err error) {
	r := newReader(b, "SessionStatus")
	sessionID, status = r.u16("session id"), r.u8("status")
	return sessionID, status, r.err
}

// AppendDestroySession appends a DestroySession frame.
func AppendDestroySession(dst []byte, sessionID uint16) []byte {
	dst, at := beginFrame(dst, TypeDestroySession)
	return endFrame(binary.BigEndian.AppendUint16(dst, sessionID), at)
}

// ParseDestroySession parses a DestroySession body.
func ParseDestroySession(b []byte) (uint16, error) {
	r := newReader(b, "DestroySession")
	id := r.u16("session id")
	return id, r.err
}

// AppendDisconnect appends a Disconnect frame.
func AppendDisconnect(dst []byte, reason string) []byte {
	dst, at := beginFrame(dst, TypeDisconnect)
	return endFrame(appendString(dst, reason), at)
}

// ParseDisconnect parses a Disconnect body.
func ParseDisconnect(b []byte) (string, error) {
	r := newReader(b, "Disconnect")
	s := r.str("reason")
	return s, r.err
}

// --- LeaseSet requests ---

// Lease is a tunnel through which a Destination can be reached.
type Lease struct {
	Gateway  i2p.Hash
	TunnelID uint32
	End      time.Time
}

// LeaseLen is the size of a Lease in RequestVariableLeaseSet and LeaseSet.
const LeaseLen = 32 + 4 + 8

// AppendRequestVariableLeaseSet appends a RequestVariableLeaseSet frame.
func AppendRequestVariableLeaseSet(dst []byte, sessionID uint16, leases []Lease) []byte {
	dst, at := beginFrame(dst, TypeRequestVariableLeaseSet)
	dst = binary.BigEndian.AppendUint16(dst, sessionID)
	dst = append(dst, byte(len(leases)))
	for _, l := range leases {
		dst = append(dst, l.Gateway[:]...)
		dst = binary.BigEndian.AppendUint32(dst, l.TunnelID)
		dst = appendDate(dst, l.End)
	}
	return endFrame(dst, at)
}

// ParseRequestVariableLeaseSet parses a RequestVariableLeaseSet body.
func ParseRequestVariableLeaseSet(b []byte) (uint16, []Lease, error) {
	r := newReader(b, "RequestVariableLeaseSet")
	id := r.u16("session id")
	n := int(r.u8("lease count"))
	leases := make([]Lease, 0, n)
	for range n {
		var l Lease
		copy(l.Gateway[:], r.take(32, "gateway"))
		l.TunnelID = r.u32("tunnel id")
		l.End = time.UnixMilli(int64(r.u64("end date")))
		if r.err != nil {
			break
		}
		leases = append(leases, l)
	}
	return id, leases, r.err
}

// AppendRequestLeaseSet appends the older RequestLeaseSet frame: the
// leases' gateways and tunnel ids, then one end date for all (that of the
// first lease).
func AppendRequestLeaseSet(dst []byte, sessionID uint16, leases []Lease) []byte {
	dst, at := beginFrame(dst, TypeRequestLeaseSet)
	dst = binary.BigEndian.AppendUint16(dst, sessionID)
	dst = append(dst, byte(len(leases)))
	var end time.Time
	for i, l := range leases {
		dst = append(dst, l.Gateway[:]...)
		dst = binary.BigEndian.AppendUint32(dst, l.TunnelID)
		if i == 0 {
			end = l.End
		}
	}
	return endFrame(appendDate(dst, end), at)
}

// ParseRequestLeaseSet parses the older RequestLeaseSet body: leases
// without their own end dates, one end date for all.
func ParseRequestLeaseSet(b []byte) (uint16, []Lease, error) {
	r := newReader(b, "RequestLeaseSet")
	id := r.u16("session id")
	n := int(r.u8("tunnel count"))
	leases := make([]Lease, 0, n)
	for range n {
		var l Lease
		copy(l.Gateway[:], r.take(32, "gateway"))
		l.TunnelID = r.u32("tunnel id")
		leases = append(leases, l)
	}
	end := time.UnixMilli(int64(r.u64("end date")))
	for i := range leases {
		leases[i].End = end
	}
	return id, leases, r.err
}

// --- Sending and receiving messages ---

// SendMessageExpires flags.
const (
	// FlagNoLeaseSet asks the router not to bundle our LeaseSet with the
	// message (bit 8, "do not send LeaseSet").
	FlagNoLeaseSet uint16 = 1 << 8
)

// OutMessage is a SendMessage or SendMessageExpires.
type OutMessage struct {
	SessionID uint16
	To        i2p.Destination
	Payload   []byte // the gzip envelope
	Nonce     uint32
	// Expires selects SendMessageExpires; zero sends a plain SendMessage.
	Expires time.Time
	Flags   uint16
}

// ParseSendMessage parses a SendMessage (expires false) or
// SendMessageExpires body. Payload aliases b.
func ParseSendMessage(b []byte, expires bool) (OutMessage, error) {
	r := newReader(b, "SendMessage")
	m := OutMessage{SessionID: r.u16("session id"), To: r.dest("destination")}
	m.Payload = r.take(int(r.u32("payload length")), "payload")
	m.Nonce = r.u32("nonce")
	if expires {
		m.Flags = r.u16("flags")
		e := r.take(6, "expiration")
		if e != nil {
			var ms uint64
			for _, c := range e {
				ms = ms<<8 | uint64(c)
			}
			m.Expires = time.UnixMilli(int64(ms))
		}
	}
	return m, r.err
}

// AppendMessagePayload appends a MessagePayload frame.
func AppendMessagePayload(dst []byte, sessionID uint16, messageID uint32, payload []byte) []byte {
	dst = AppendFrameHeader(dst, TypeMessagePayload, 10+len(payload))
	dst = binary.BigEndian.AppendUint16(dst, sessionID)
	dst = binary.BigEndian.AppendUint32(dst, messageID)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...)
}

// ParseMessagePayload parses a MessagePayload body; payload aliases b.
func ParseMessagePayload(b []byte) (sessionID uint16, messageID uint32, payload []byte, err error) {
	r := newReader(b, "MessagePayload")
	sessionID, messageID = r.u16("session id"), r.u32("message id")
	payload = r.take(int(r.u32("payload length")), "payload")
	return sessionID, messageID, payload, r.err
}

// MessageStatus reports what became of a sent message.
type MessageStatus struct {
	SessionID uint16
	MessageID uint32
	Status    uint8
	Size      uint32
	Nonce     uint32
}

// AppendMessageStatus appends a MessageStatus frame.
func AppendMessageStatus(dst []byte, m MessageStatus) []byte {
	dst, at := beginFrame(dst, TypeMessageStatus)
	dst = binary.BigEndian.AppendUint16(dst, m.SessionID)
	dst = binary.BigEndian.AppendUint32(dst, m.MessageID)
	dst = append(dst, m.Status)
	dst = binary.BigEndian.AppendUint32(dst, m.Size)
	dst = binary.BigEndian.AppendUint32(dst, m.Nonce)
	return endFrame(dst, at)
}

// ParseMessageStatus parses a MessageStatus body.
func ParseMessageStatus(b []byte) (MessageStatus, error) {
	r := newReader(b, "MessageStatus")
	m := MessageStatus{SessionID: r.u16("session id"), MessageID: r.u32("message id"), Status: r.u8("status"),
		Size: r.u32("size"), Nonce: r.u32("nonce")}
	return m, r.err
}

// --- HostLookup / HostReply ---

// Lookup types.
const (
	LookupHash = 0
	LookupName = 1
)

// HostLookup asks the router for a Destination by hash or host name.
type HostLookup struct {
	SessionID uint16
	RequestID uint32
	Timeout   time.Duration
	Type      uint8
	Hash      i2p.Hash
	Name      string
}

// AppendHostLookup appends a HostLookup frame.
func AppendHostLookup(dst []byte, m HostLookup) []byte {
	dst, at := beginFrame(dst, TypeHostLookup)
	dst = binary.BigEndian.AppendUint16(dst, m.SessionID)
	dst = binary.BigEndian.AppendUint32(dst, m.RequestID)
	dst = binary.BigEndian.AppendUint32(dst, uint32(m.Timeout/time.Millisecond))
	dst = append(dst, m.Type)
	if m.Type == LookupHash {
		dst = append(dst, m.Hash[:]...)
	} else {
		dst = appendString(dst, m.Name)
	}
	return endFrame(dst, at)
}

// ParseHostLookup parses a HostLookup body.
func ParseHostLookup(b []byte) (HostLookup, error) {
	r := newReader(b, "HostLookup")
	m := HostLookup{SessionID: r.u16("session id"), RequestID: r.u32("request id")}
	m.Timeout = time.Duration(r.u32("timeout")) * time.Millisecond
	m.Type = r.u8("type")
	switch m.Type {
	case LookupHash:
		copy(m.Hash[:], r.take(32, "hash"))
	case LookupName:
		m.Name = r.str("host name")
	default:
		if r.err == nil {
			r.err = fmt.Errorf("%w: HostLookup type %d", ErrMalformed, m.Type)
		}
	}
	return m, r.err
}

// AppendHostReply appends a HostReply frame: code 0 with the Destination,
// or a failure code without one.
func AppendHostReply(dst []byte, sessionID uint16, requestID uint32, code uint8, d i2p.Destination) []byte {
	dst, at := beginFrame(dst, TypeHostReply)
	dst = binary.BigEndian.AppendUint16(dst, sessionID)
	dst = binary.BigEndian.AppendUint32(dst, requestID)
	dst = append(dst, code)
	if code == 0 {
		dst = append(dst, d.Bytes()...)
	}
	return endFrame(dst, at)
}

// ParseHostReply parses a HostReply body.
func ParseHostReply(b []byte) (sessionID uint16, requestID uint32, code uint8, d i2p.Destination, err error) {
	r := newReader(b, "HostReply")
	sessionID, requestID, code = r.u16("session id"), r.u32("request id"), r.u8("result code")
	if r.err == nil && code == 0 {
		d = r.dest("destination")
	}
	return sessionID, requestID, code, d, r.err
}
