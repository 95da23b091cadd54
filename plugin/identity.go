package plugin

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-i2p/go-opentracker/i2p"
)

// KeyFileName holds the tracker's identity in the data directory: the
// name zzzot and i2ptunnel use, so an operator moving from zzzot keeps the
// tracker's address by copying the file.
const KeyFileName = "eepPriv.dat"

// AddressFileName, beside the key file, holds the address the key file
// gives (its .b32.i2p name), written when the identity is created or
// first loaded: a key file damaged later gives another address, or none
// a router accepts, and the start refuses it instead of coming up under
// a new address or being refused by the router for ever.
const AddressFileName = KeyFileName + ".b32"

// loadOrCreateIdentity reads DIR/eepPriv.dat, creating a new identity
// when there is none (and no address file says there was one). An
// existing file is never replaced. A key file that does not parse, does
// not give the address its address file holds, or whose signing key
// does not sign for its Destination is an error that wraps ErrData.
func loadOrCreateIdentity(dir string) (*i2p.PrivateKeys, bool, error) {
	path := filepath.Join(dir, KeyFileName)
	want, err := readAddressFile(dir)
	if err != nil {
		return nil, false, err
	}
	keys, err := i2p.ReadPrivateKeyFile(path)
	var pathErr *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist) && want != "":
		return nil, false, fmt.Errorf("%w: %s is missing, and %s says the tracker's address is %s: "+
			"put its key file back (or, to start under a new address, remove %s)", ErrData, path, AddressFileName, want, AddressFileName)
	case errors.Is(err, fs.ErrNotExist):
		return createIdentity(dir, path)
	case errors.As(err, &pathErr):
		return nil, false, err // cannot be read: not the file's fault
	case err != nil:
		return nil, false, fmt.Errorf("%w: the key file is damaged: %w", ErrData, err)
	}
	if err := checkIdentity(dir, path, keys, want); err != nil {
		return nil, false, err
	}
	return keys, false, nil
}

// createIdentity makes a new identity, its key file and address file.
func createIdentity(dir, path string) (*i2p.PrivateKeys, bool, error) {
	keys, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		return nil, false, err
	}
	if err := i2p.WritePrivateKeyFile(path, keys); err != nil {
		return nil, false, err
	}
	if err := writeAddressFile(dir, keys.Destination.B32()); err != nil {
		return nil, false, err
	}
	return keys, true, nil
}

// checkIdentity refuses a loaded key file that gives another address
// than want (when there is an address file), or whose signing key does
// not sign for its Destination; it writes the address file when there is
// none.
func checkIdentity(dir, path string, keys *i2p.PrivateKeys, want string) error {
	got := keys.Destination.B32()
	if want != "" && got != want {
		return fmt.Errorf("%w: %s gives the address %s, but %s says the tracker's address is %s: "+
			"the key file is damaged or was replaced; restore it from a backup "+
			"(or, to run under %s, remove %s)", ErrData, path, got, AddressFileName, want, got, AddressFileName)
	}
	if err := keys.CheckKeys(); err != nil {
		return fmt.Errorf("%w: %s (address %s) is damaged: %w; a router would refuse every session with it: "+
			"restore it from a backup", ErrData, path, got, err)
	}
	if want == "" {
		return writeAddressFile(dir, got)
	}
	return nil
}

// readAddressFile returns the address in DIR/eepPriv.dat.b32, or "" when
// there is no such file.
func readAddressFile(dir string) (string, error) {
	path := filepath.Join(dir, AddressFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the address file: %w", err)
	}
	h, err := i2p.ParseB32(strings.TrimSpace(string(b)))
	if err != nil || len(b) > 128 {
		return "", fmt.Errorf("%w: %s holds %q, not a .b32.i2p address: restore it, or remove it to record the key file's address again",
			ErrData, path, strings.TrimSpace(string(b[:min(len(b), 80)])))
	}
	return h.B32(), nil
}

// writeAddressFile records addr as the address the key file gives.
func writeAddressFile(dir, addr string) error {
	if err := writeFileAtomic(dir, AddressFileName, []byte(addr+"\n")); err != nil {
		return fmt.Errorf("write the address file: %w", err)
	}
	return nil
}

// Addresses are what an operator hands out: the tracker's address, its
// Destination and its announce URLs.
type Addresses struct {
	B32          string // the .b32.i2p name
	Destination  string // base64
	UDPAnnounce  string
	HTTPAnnounce string // on the tracker's own address, over I2P streaming
	// TunnelAnnounce is the HTTP announce URL on the operator's HTTP
	// server tunnel; "" while http_address is not set.
	TunnelAnnounce string
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
	return Addresses{B32: b32, Destination: keys.Destination.Base64(), UDPAnnounce: cfg.UDPAnnounceURL(b32),
		HTTPAnnounce: cfg.HTTPAnnounceURL(b32), TunnelAnnounce: cfg.TunnelAnnounceURL()}
}
