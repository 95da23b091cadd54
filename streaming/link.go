package streaming

import (
	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2p"
)

// ProtocolStreaming is the I2CP protocol number of streaming payloads.
const ProtocolStreaming = 6

// Link carries packets to other Destinations. Send must copy what it keeps
// of packet, must not block for long, and must not hand packets back to
// the Manager from inside the call.
type Link interface {
	Send(to i2p.Destination, fromPort, toPort uint16, packet []byte) error
}

// Identity is what a Manager signs with: its Destination, the key that
// signs now (the transient key when Offline delegates to one) and the
// offline block, if any.
type Identity struct {
	Destination i2p.Destination
	Key         i2p.SigningKey
	Offline     *i2p.OfflineSignature
}

// IdentityOf returns the Identity of a private key file.
func IdentityOf(k *i2p.PrivateKeys) Identity {
	return Identity{Destination: k.Destination, Key: k.Signer(), Offline: k.Offline}
}

// Session is what Attach needs of an I2CP session; *i2cp.Session has it.
type Session interface {
	Send(to i2p.Destination, protocol uint8, fromPort, toPort uint16, payload []byte) error
	Handle(protocol uint8, port uint16, h i2cp.Handler)
}

// sessionLink sends over an I2CP session with protocol 6.
type sessionLink struct{ s Session }

func (l sessionLink) Send(to i2p.Destination, fromPort, toPort uint16, packet []byte) error {
	return l.s.Send(to, ProtocolStreaming, fromPort, toPort, packet)
}

// Attach makes a Manager that sends over s and receives every protocol-6
// payload s gets, on any port.
func Attach(s Session, id Identity, cfg Config) (*Manager, error) {
	m, err := NewManager(sessionLink{s}, id, cfg)
	if err != nil {
		return nil, err
	}
	s.Handle(ProtocolStreaming, 0, func(msg *i2cp.Message) {
		m.HandlePacket(msg.FromPort, msg.ToPort, msg.Payload)
	})
	return m, nil
}
