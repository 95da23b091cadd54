package i2p

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// maxKeyFileLen bounds what ReadPrivateKeyFile accepts.
const maxKeyFileLen = 64 << 10

// PrivateKeys is the content of a private key file (eepPriv.dat, the format
// routers and i2ptunnel keep): Destination | encryption private key |
// signing private key, and — when the signing key is all zero — an offline
// section (expires | transient sig type | transient public key | signature |
// transient private key).
type PrivateKeys struct {
	Destination   Destination
	EncryptionKey []byte     // as long as the crypto type's private key
	SigningKey    SigningKey // all zero bytes when Offline is set
	Offline       *OfflineSignature
	TransientKey  SigningKey // the key that signs when Offline is set
}

// Signer returns the key that signs for this Destination now: the
// transient key when an offline signature delegates to one.
func (k *PrivateKeys) Signer() SigningKey {
	if k.Offline != nil {
		return k.TransientKey
	}
	return k.SigningKey
}

// ParsePrivateKeys parses a private key file's bytes. Trailing bytes are an
// error: a key file holds exactly one identity.
func ParsePrivateKeys(b []byte) (*PrivateKeys, error) {
	dest, rest, err := ParseDestination(b)
	if err != nil {
		return nil, fmt.Errorf("i2p: key file destination: %w", err)
	}
	encLen, sigLen := dest.CryptoType().PrivateKeyLen(), dest.SigType().PrivateKeyLen()
	if len(rest) < encLen+sigLen {
		return nil, fmt.Errorf("i2p: key file truncated: %d bytes after the destination, need %d for %v/%v keys",
			len(rest), encLen+sigLen, dest.CryptoType(), dest.SigType())
	}
	k := &PrivateKeys{
		Destination:   dest,
		EncryptionKey: bytes.Clone(rest[:encLen]),
		SigningKey:    SigningKey{Type: dest.SigType(), Private: bytes.Clone(rest[encLen : encLen+sigLen])},
	}
	rest = rest[encLen+sigLen:]
	if allZero(k.SigningKey.Private) {
		off, after, err := ParseOfflineSignature(rest, dest.SigType())
		if err != nil {
			return nil, fmt.Errorf("i2p: key file offline section: %w", err)
		}
		tLen := off.TransientType.PrivateKeyLen()
		if len(after) < tLen {
			return nil, fmt.Errorf("i2p: key file transient key truncated: %d bytes, need %d", len(after), tLen)
		}
		off.TransientKey = bytes.Clone(off.TransientKey)
		off.Signature = bytes.Clone(off.Signature)
		k.Offline = &off
		k.TransientKey = SigningKey{Type: off.TransientType, Private: bytes.Clone(after[:tLen])}
		rest = after[tLen:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("i2p: key file has %d unexpected trailing bytes", len(rest))
	}
	return k, nil
}

// ErrKeyMismatch marks a key file whose signing private key does not
// sign for its Destination: a router would refuse every session with it.
var ErrKeyMismatch = errors.New("i2p: the key file's signing private key does not match its Destination's public key")

// keyProbe is the message CheckKeys signs.
const keyProbe = "go-opentracker: does this key sign for its Destination?"

// CheckKeys signs a probe message with the key that signs for the
// Destination and verifies the signature as a router would: with the
// Destination's signing public key, or, for offline keys, with the
// transient public key after checking that the Destination's key signed
// the delegation (its expiry is not checked here). An error wraps
// ErrKeyMismatch.
func (k *PrivateKeys) CheckKeys() error {
	msg := []byte(keyProbe)
	sig, err := k.Signer().Sign(msg)
	if err != nil {
		return fmt.Errorf("%w: cannot sign: %w", ErrKeyMismatch, err)
	}
	if k.Offline == nil {
		if err := k.Destination.Verify(msg, sig); err != nil {
			return fmt.Errorf("%w: %w", ErrKeyMismatch, err)
		}
		return nil
	}
	if err := k.Destination.Verify(k.Offline.signedPart(), k.Offline.Signature); err != nil {
		return fmt.Errorf("%w: the offline signature: %w", ErrKeyMismatch, err)
	}
	if err := Verify(k.Offline.TransientType, k.Offline.TransientKey, msg, sig); err != nil {
		return fmt.Errorf("%w: the transient key: %w", ErrKeyMismatch, err)
	}
	return nil
}

// Bytes serializes the key file.
func (k *PrivateKeys) Bytes() []byte {
	out := bytes.Clone(k.Destination.Bytes())
	out = append(out, k.EncryptionKey...)
	out = append(out, k.SigningKey.Private...)
	if k.Offline != nil {
		out = k.Offline.AppendTo(out)
		out = append(out, k.TransientKey.Private...)
	}
	return out
}

// ReadPrivateKeyFile reads and parses a private key file.
func ReadPrivateKeyFile(path string) (*PrivateKeys, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("i2p: open key file: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxKeyFileLen+1)); err != nil {
		return nil, fmt.Errorf("i2p: read key file %s: %w", path, err)
	}
	if buf.Len() > maxKeyFileLen {
		return nil, fmt.Errorf("i2p: key file %s larger than %d bytes", path, maxKeyFileLen)
	}
	k, err := ParsePrivateKeys(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// WritePrivateKeyFile writes k to path atomically (a temporary file in the
// same directory, synced, then renamed) with mode 0600.
func WritePrivateKeyFile(path string, k *PrivateKeys) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("i2p: create key file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("i2p: chmod key file: %w", err)
	}
	_, werr := tmp.Write(k.Bytes())
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("i2p: write key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("i2p: install key file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the rename durable where the filesystem allows
		d.Close()
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
