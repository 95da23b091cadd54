package plugin

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/go-i2p/go-opentracker/i2p"
)

// KeyFileName holds the tracker's identity in the data directory: the
// name zzzot and i2ptunnel use, so an operator moving from zzzot keeps the
// tracker's address by copying the file.
const KeyFileName = "eepPriv.dat"

// loadOrCreateIdentity reads DIR/eepPriv.dat, creating a new identity
// when there is none. An existing file is never replaced.
func loadOrCreateIdentity(dir string) (*i2p.PrivateKeys, bool, error) {
	path := filepath.Join(dir, KeyFileName)
	keys, err := i2p.ReadPrivateKeyFile(path)
	if err == nil {
		return keys, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	keys, err = i2p.NewIdentity(rand.Reader)
	if err != nil {
		return nil, false, err
	}
	if err := i2p.WritePrivateKeyFile(path, keys); err != nil {
		return nil, false, err
	}
	return keys, true, nil
}

// Addresses are what an operator hands out: the tracker's address, its
// Destination and its announce URLs.
type Addresses struct {
	B32          string // the .b32.i2p name
	Destination  string // base64
	UDPAnnounce  string
	HTTPAnnounce string // "" while http_address is not set
}

// Identify reads the configuration and the identity in dir, creating the
// directory and the identity where there are none (as Start would), and
// returns the addresses they give; created reports a new identity. A
// configuration file in error is an error that wraps ErrConfig.
func Identify(dir string) (a Addresses, created bool, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return a, false, fmt.Errorf("plugin: data directory: %w", err)
	}
	cfg, err := LoadConfig(dir)
	if err != nil {
		return a, false, fmt.Errorf("plugin: %w", err)
	}
	keys, created, err := loadOrCreateIdentity(dir)
	if err != nil {
		return a, false, fmt.Errorf("plugin: identity: %w", err)
	}
	return addresses(cfg, keys), created, nil
}

func addresses(cfg Config, keys *i2p.PrivateKeys) Addresses {
	b32 := keys.Destination.B32()
	return Addresses{B32: b32, Destination: keys.Destination.Base64(), UDPAnnounce: cfg.UDPAnnounceURL(b32), HTTPAnnounce: cfg.HTTPAnnounceURL()}
}
