package plugin

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-i2p/go-opentracker/i2p"
)

// TestAddressFile: the address of a new identity is kept beside its key
// file, and an existing key file without one gets it on first load.
func TestAddressFile(t *testing.T) {
	dir := t.TempDir()
	a, created, err := Identify(dir)
	if err != nil || !created {
		t.Fatalf("created %v: %v", created, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, AddressFileName))
	if err != nil || string(b) != a.B32+"\n" {
		t.Fatalf("address file %q (%v), want %q", b, err, a.B32)
	}
	if err := os.Remove(filepath.Join(dir, AddressFileName)); err != nil {
		t.Fatal(err)
	}
	if again, _, err := Identify(dir); err != nil || again.B32 != a.B32 {
		t.Fatalf("reload: %v %v", again.B32, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, AddressFileName)); err != nil || string(b) != a.B32+"\n" {
		t.Fatalf("address file not written on load: %q %v", b, err)
	}
}

// TestDamagedKeyFileRefused: a key file flipped in its padding (another
// address) or its signing key (a router would refuse it), one that does
// not parse, and a key file gone while its address file stays are
// refused with ErrData and a message that names the file and the
// addresses; the files stay as they were.
func TestDamagedKeyFileRefused(t *testing.T) {
	keys, err := i2p.NewIdentity(bytes.NewReader(bytes.Repeat([]byte{7, 1, 9}, 1000)))
	if err != nil {
		t.Fatal(err)
	}
	raw := keys.Bytes()
	want := keys.Destination.B32()
	signingAt := keys.Destination.Len() + len(keys.EncryptionKey)
	flip := func(at int) []byte { b := bytes.Clone(raw); b[at] ^= 0x40; return b }
	cases := []struct {
		name string
		file []byte // nil: no key file
		says []string
	}{
		{"padding flipped", flip(10), []string{KeyFileName, AddressFileName, "says the tracker's address is " + want, "gives the address "}},
		{"signing key flipped", flip(signingAt + 3), []string{KeyFileName, want, "signing private key does not match", "refuse every session"}},
		{"truncated", raw[:len(raw)-5], []string{KeyFileName, "damaged", "truncated"}},
		{"gone", nil, []string{KeyFileName + " is missing", want}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, AddressFileName), []byte(want+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if c.file != nil {
				if err := os.WriteFile(filepath.Join(dir, KeyFileName), c.file, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, _, err := Identify(dir)
			if !errors.Is(err, ErrData) {
				t.Fatalf("%v, want ErrData", err)
			}
			for _, s := range c.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("the error does not say %q:\n%v", s, err)
				}
			}
			b, err := os.ReadFile(filepath.Join(dir, KeyFileName))
			if c.file == nil && !errors.Is(err, os.ErrNotExist) || c.file != nil && !bytes.Equal(b, c.file) {
				t.Error("the key file was changed")
			}
			if b, _ := os.ReadFile(filepath.Join(dir, AddressFileName)); string(b) != want+"\n" {
				t.Errorf("the address file was changed: %q", b)
			}
		})
	}
	// Without an address file, a flipped signing key is still refused.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, KeyFileName), flip(signingAt), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Identify(dir); !errors.Is(err, ErrData) || !errors.Is(err, i2p.ErrKeyMismatch) {
		t.Fatalf("signing key flipped, no address file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, AddressFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("an address file was written for a damaged key file")
	}
	// An address file that is not an address is refused too.
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, AddressFileName), []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Identify(dir); !errors.Is(err, ErrData) || !strings.Contains(err.Error(), "not a .b32.i2p address") {
		t.Fatalf("garbage address file: %v", err)
	}
}
