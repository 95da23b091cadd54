package udptracker

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/dchest/siphash"

	"github.com/go-i2p/go-opentracker/i2p"
)

// Lifetime bounds of a connection id, in seconds (proposal 160).
const (
	MinLifetime     = 60
	MaxLifetime     = 65535
	DefaultLifetime = 1200
	// lifetimeSlack is how much longer than the advertised lifetime an id
	// stays valid, so a client that uses it to the last second succeeds.
	lifetimeSlack = 60
)

// ConnIDs issues and checks stateless connection ids: 8 bytes of
// SipHash-2-4, keyed by a persisted secret, over the sender's hash and the
// epoch now / (lifetime + 60). The current and the previous epoch are
// accepted, so an id is valid for at least lifetime + 60 seconds and at
// most twice that. Nothing is stored per client, and ids survive restarts
// as long as the secret does.
type ConnIDs struct {
	k0, k1   uint64
	lifetime uint16
	period   int64
}

// NewConnIDs makes an issuer from a secret of at least 16 bytes and the
// lifetime to advertise (clamped to 60..65535; 0 means the default 1200).
func NewConnIDs(secret []byte, lifetime int) (*ConnIDs, error) {
	if len(secret) < 16 {
		return nil, fmt.Errorf("udptracker: connection-id secret is %d bytes, need 16", len(secret))
	}
	if lifetime == 0 {
		lifetime = DefaultLifetime
	}
	lifetime = min(max(lifetime, MinLifetime), MaxLifetime)
	return &ConnIDs{
		k0:       binary.LittleEndian.Uint64(secret),
		k1:       binary.LittleEndian.Uint64(secret[8:]),
		lifetime: uint16(lifetime),
		period:   int64(lifetime) + lifetimeSlack,
	}, nil
}

// Lifetime is the lifetime advertised in connect responses, in seconds.
func (c *ConnIDs) Lifetime() uint16 { return c.lifetime }

// Epoch is the length of one epoch, lifetime + 60 s: an id issued at t is
// valid until the end of the epoch after t's.
func (c *ConnIDs) Epoch() time.Duration { return time.Duration(c.period) * time.Second }

func (c *ConnIDs) at(sender *i2p.Hash, epoch int64) uint64 {
	var msg [i2p.HashLen + 8]byte
	copy(msg[:], sender[:])
	binary.BigEndian.PutUint64(msg[i2p.HashLen:], uint64(epoch))
	return siphash.Hash(c.k0, c.k1, msg[:])
}

// Issue returns the connection id for sender at now.
func (c *ConnIDs) Issue(sender *i2p.Hash, now time.Time) uint64 {
	return c.at(sender, now.Unix()/c.period)
}

// Valid reports whether id was issued to sender in the current or the
// previous epoch.
func (c *ConnIDs) Valid(id uint64, sender *i2p.Hash, now time.Time) bool {
	e := now.Unix() / c.period
	return id == c.at(sender, e) || id == c.at(sender, e-1)
}
