// Command go-opentracker runs the open BitTorrent tracker for I2P beside a
// router that serves I2CP. On first start it creates the tracker's identity
// in its data directory (eepPriv.dat, the standard I2P private key file) and
// from then on keeps it.
package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/go-i2p/go-opentracker/i2p"
)

// keyFileName is the file zzzot and i2ptunnel keep a server's keys in, so
// an operator moving from zzzot keeps the tracker's address by copying it.
const keyFileName = "eepPriv.dat"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("go-opentracker", flag.ContinueOnError)
	fl.SetOutput(stderr)
	dataDir := fl.String("data", defaultDataDir(), "data directory (identity, swarms); env GO_OPENTRACKER_DATA")
	if err := fl.Parse(args); err != nil {
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	keys, created, err := loadOrCreateIdentity(*dataDir)
	if err != nil {
		log.Error("identity", "err", err)
		return exitError
	}
	if created {
		log.Info("created a new tracker identity", "file", filepath.Join(*dataDir, keyFileName))
	}
	d := keys.Destination
	fmt.Fprintf(stdout, "tracker address: %s\n", d.B32())
	fmt.Fprintf(stdout, "announce URLs:   http://%s/a\n                 udp://%s:6969/\n", d.B32(), d.B32())
	fmt.Fprintf(stdout, "destination:     %s\n", d.Base64())
	return exitOK
}

// defaultDataDir is $GO_OPENTRACKER_DATA, else a per-user data directory.
func defaultDataDir() string {
	if d := os.Getenv("GO_OPENTRACKER_DATA"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "go-opentracker")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "go-opentracker")
	}
	return "go-opentracker-data"
}

// loadOrCreateIdentity reads DIR/eepPriv.dat, creating the directory and a
// new identity when there is none. An existing file is never replaced.
func loadOrCreateIdentity(dir string) (*i2p.PrivateKeys, bool, error) {
	path := filepath.Join(dir, keyFileName)
	keys, err := i2p.ReadPrivateKeyFile(path)
	if err == nil {
		return keys, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create data directory: %w", err)
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
