package i2p

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestNewIdentity(t *testing.T) {
	k, err := NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d := k.Destination
	if d.SigType() != SigEd25519 || d.CryptoType() != CryptoElGamal || d.Len() != 391 {
		t.Fatalf("identity %v/%v len %d", d.SigType(), d.CryptoType(), d.Len())
	}
	// The public-key field and the unused signing-field bytes repeat one
	// 32-byte pattern, as the Java router's new Destinations do.
	raw := d.Bytes()
	for i := 32; i < 352; i++ {
		if raw[i] != raw[i%32] {
			t.Fatalf("padding byte %d breaks the repeated pattern", i)
		}
	}
	sig, err := k.SigningKey.Sign([]byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Verify([]byte("hello"), sig); err != nil {
		t.Fatal(err)
	}
	other, _ := NewIdentity(rand.Reader)
	if other.Destination.Hash() == d.Hash() {
		t.Fatal("two identities share a hash")
	}
}

func TestLeaseSetKeys(t *testing.T) {
	k, err := NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a, err := k.LeaseSetKeys()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := k.LeaseSetKeys()
	if !bytes.Equal(a.X25519Private, b.X25519Private) || !bytes.Equal(a.ElGamalPublic, b.ElGamalPublic) {
		t.Fatal("derivation is not deterministic")
	}
	x, err := ecdh.X25519().NewPrivateKey(a.X25519Private)
	if err != nil || !bytes.Equal(x.PublicKey().Bytes(), a.X25519Public) {
		t.Fatal("X25519 public key does not match its private key")
	}
	p := elGamalPrime()
	y := new(big.Int).Exp(big.NewInt(2), new(big.Int).SetBytes(a.ElGamalPrivate), p)
	if !bytes.Equal(y.FillBytes(make([]byte, 256)), a.ElGamalPublic) {
		t.Fatal("ElGamal public key does not match its private key")
	}
	other, _ := NewIdentity(rand.Reader)
	c, _ := other.LeaseSetKeys()
	if bytes.Equal(a.X25519Private, c.X25519Private) {
		t.Fatal("two identities derive the same LeaseSet key")
	}
}

// writeKeyFile writes k to path, the only file of its directory, and
// checks the file is private (0600) and no temporary file is left.
func writeKeyFile(t *testing.T, path string, k *PrivateKeys) {
	t.Helper()
	if err := WritePrivateKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestKeyFileWriteRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "eepPriv.dat")
	k, err := NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	writeKeyFile(t, path, k)
	back, err := ReadPrivateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Bytes(), k.Bytes()) {
		t.Fatal("key file round trip differs")
	}
	// Overwrite keeps a whole file at every instant: the rename is atomic.
	k2, _ := NewIdentity(rand.Reader)
	if err := WritePrivateKeyFile(path, k2); err != nil {
		t.Fatal(err)
	}
	back, err = ReadPrivateKeyFile(path)
	if err != nil || back.Destination.Hash() != k2.Destination.Hash() {
		t.Fatalf("overwrite: %v", err)
	}
	if _, err := ReadPrivateKeyFile(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing file read")
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, maxKeyFileLen+10), 0o600)
	if _, err := ReadPrivateKeyFile(big); err == nil {
		t.Fatal("oversized key file accepted")
	}
}

// TestOfflineKeyFile writes and parses a key file whose long-term key is
// offline: the signing key is zero and a transient key signs.
func TestOfflineKeyFile(t *testing.T) {
	long, err := NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	transient, _ := GenerateSigningKey(SigECDSASHA256P256, rand.Reader)
	off, err := NewOfflineSignature(long.SigningKey, transient, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	k := &PrivateKeys{
		Destination:   long.Destination,
		EncryptionKey: long.EncryptionKey,
		SigningKey:    SigningKey{Type: SigEd25519, Private: make([]byte, 32)},
		Offline:       &off,
		TransientKey:  transient,
	}
	back, err := ParsePrivateKeys(k.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if back.Offline == nil || back.Offline.TransientType != SigECDSASHA256P256 || !bytes.Equal(back.TransientKey.Private, transient.Private) {
		t.Fatal("offline section lost")
	}
	if back.Signer().Type != SigECDSASHA256P256 {
		t.Fatal("signer is not the transient key")
	}
	if err := back.Offline.Verify(back.Destination, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := back.Offline.Verify(back.Destination, time.Now().Add(2*time.Hour)); err == nil {
		t.Fatal("expired offline signature accepted")
	}
	raw := k.Bytes()
	if _, err := ParsePrivateKeys(raw[:len(raw)-5]); err == nil {
		t.Fatal("truncated transient key accepted")
	}
	if _, err := ParsePrivateKeys(raw[:391+256+32+3]); err == nil {
		t.Fatal("truncated offline block accepted")
	}
}

func TestMappingRoundTrip(t *testing.T) {
	m := Mapping{{"zz", "last"}, {"a", "b"}, {"foo", "bar"}}
	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	// Written sorted by key, as the reference does.
	want := "\x00\x1a\x01a=\x01b;\x03foo=\x03bar;\x02zz=\x04last;"
	if string(b) != want {
		t.Fatalf("mapping bytes %q, want %q", b, want)
	}
	back, rest, err := ParseMapping(append(b, 9))
	if err != nil || len(rest) != 1 || len(back) != 3 {
		t.Fatalf("parse: %v %v", back, err)
	}
	if v, ok := back.Get("foo"); !ok || v != "bar" {
		t.Fatal("Get foo")
	}
	for _, bad := range []string{"\x00", "\x00\x05\x01a=\x01", "\x00\x04\x01a\x01b", "\x00\x05\x01a=\x01b", "\x00\x02\x05a"} {
		if _, _, err := ParseMapping([]byte(bad)); err == nil {
			t.Errorf("malformed mapping %q accepted", bad)
		}
	}
	long := Mapping{{string(make([]byte, 256)), "x"}}
	if _, err := long.Bytes(); err == nil {
		t.Fatal("256-byte key accepted")
	}
}

// TestOfflineKeyFileOnDisk writes a key file with an offline section
// through WritePrivateKeyFile and reads it back with ReadPrivateKeyFile, in
// a real directory.
func TestOfflineKeyFileOnDisk(t *testing.T) {
	for _, tt := range []SigType{SigEd25519, SigECDSASHA384P384} {
		t.Run(tt.String(), func(t *testing.T) {
			long, err := NewIdentity(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			transient, err := GenerateSigningKey(tt, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			expires := time.Unix(time.Now().Add(24*time.Hour).Unix(), 0)
			off, err := NewOfflineSignature(long.SigningKey, transient, expires)
			if err != nil {
				t.Fatal(err)
			}
			k := &PrivateKeys{
				Destination:   long.Destination,
				EncryptionKey: long.EncryptionKey,
				SigningKey:    SigningKey{Type: SigEd25519, Private: make([]byte, SigEd25519.PrivateKeyLen())},
				Offline:       &off,
				TransientKey:  transient,
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "offline.dat")
			writeKeyFile(t, path, k)
			back, err := ReadPrivateKeyFile(path)
			if err != nil {
				t.Fatal(err)
			}
			onDisk, _ := os.ReadFile(path)
			if !bytes.Equal(onDisk, k.Bytes()) || !bytes.Equal(back.Bytes(), onDisk) {
				t.Fatal("offline key file does not round-trip byte for byte")
			}
			o := back.Offline
			if o == nil || o.Expires != uint32(expires.Unix()) || o.TransientType != tt ||
				!bytes.Equal(o.TransientKey, off.TransientKey) || !bytes.Equal(o.Signature, off.Signature) {
				t.Fatalf("offline section read back as %+v", o)
			}
			if back.Signer().Type != tt || !bytes.Equal(back.Signer().Private, transient.Private) {
				t.Fatal("the transient key does not sign after the round trip")
			}
			if err := o.Verify(back.Destination, time.Now()); err != nil {
				t.Fatal(err)
			}
			sig, err := back.Signer().Sign([]byte("from disk"))
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(tt, o.TransientKey, []byte("from disk"), sig); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCheckKeys: a key file whose signing key signs for its Destination
// passes; one byte flipped in the signing key, the Destination's public
// key, the transient key or the offline signature is an ErrKeyMismatch.
func TestCheckKeys(t *testing.T) {
	k, err := NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.CheckKeys(); err != nil {
		t.Fatalf("a sound key file: %v", err)
	}
	flipped := func(raw []byte, at int) *PrivateKeys {
		t.Helper()
		b := bytes.Clone(raw)
		b[at] ^= 0x01
		back, err := ParsePrivateKeys(b)
		if err != nil {
			t.Fatalf("flip at %d: %v", at, err)
		}
		return back
	}
	raw := k.Bytes()
	signingAt := k.Destination.Len() + len(k.EncryptionKey)
	for name, at := range map[string]int{"signing private key": signingAt, "last signing key byte": len(raw) - 1, "signing public key": 384 - 1} {
		if err := flipped(raw, at).CheckKeys(); !errors.Is(err, ErrKeyMismatch) {
			t.Errorf("%s flipped: %v, want ErrKeyMismatch", name, err)
		}
	}
	// The padding and the unused encryption key sign nothing: CheckKeys
	// passes (the address changes, which the plugin's address file sees).
	if err := flipped(raw, 5).CheckKeys(); err != nil {
		t.Errorf("padding flipped: %v", err)
	}

	transient, _ := GenerateSigningKey(SigECDSASHA256P256, rand.Reader)
	off, err := NewOfflineSignature(k.SigningKey, transient, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	offline := &PrivateKeys{Destination: k.Destination, EncryptionKey: k.EncryptionKey,
		SigningKey: SigningKey{Type: SigEd25519, Private: make([]byte, 32)}, Offline: &off, TransientKey: transient}
	if err := offline.CheckKeys(); err != nil {
		t.Fatalf("a sound offline key file: %v", err)
	}
	raw = offline.Bytes()
	for name, at := range map[string]int{"transient private key": len(raw) - 1, "offline signature": len(raw) - transient.Type.PrivateKeyLen() - 1} {
		if err := flipped(raw, at).CheckKeys(); !errors.Is(err, ErrKeyMismatch) {
			t.Errorf("offline: %s flipped: %v, want ErrKeyMismatch", name, err)
		}
	}
}
