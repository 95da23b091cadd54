package datagram

import (
	"bytes"
	cryptorand "crypto/rand"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/testkeys"
)

// propertyRuns bounds each property test.
const propertyRuns = 200

// propertyRNG is the fixed-seed source of every property test's inputs, so
// a failure reproduces. (Keys and ECDSA/DSA signatures still draw from
// crypto/rand; none of the properties depend on their values.)
func propertyRNG(test string) *rand.Rand {
	var seed [32]byte
	copy(seed[:], test)
	return rand.New(rand.NewChaCha8(seed))
}

// randomBytes returns n bytes from rng.
func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// randomPayload is usually small, sometimes empty, sometimes several KiB.
func randomPayload(rng *rand.Rand) []byte {
	switch rng.IntN(8) {
	case 0:
		return nil
	case 1:
		return randomBytes(rng, 1024+rng.IntN(8192))
	}
	return randomBytes(rng, rng.IntN(200))
}

// randomString is any bytes, now and then at the 255-byte limit of an
// I2P String.
func randomString(rng *rand.Rand) string {
	if rng.IntN(16) == 0 {
		return string(randomBytes(rng, 255))
	}
	return string(randomBytes(rng, rng.IntN(24)))
}

// randomOptions returns no options half the time, otherwise up to eight
// entries in random order, duplicate keys possible.
func randomOptions(rng *rand.Rand) i2p.Mapping {
	if rng.IntN(2) == 0 {
		return nil
	}
	m := make(i2p.Mapping, 1+rng.IntN(8))
	for i := range m {
		m[i] = i2p.Pair{Key: randomString(rng), Value: randomString(rng)}
		if i > 0 && rng.IntN(8) == 0 {
			m[i].Key = m[i-1].Key
		}
	}
	return m
}

// wantOptions is what a parser must return for opts: the entries in the
// order they are written (sorted by key, stable), or nil when none.
func wantOptions(opts i2p.Mapping) i2p.Mapping {
	if len(opts) == 0 {
		return nil
	}
	out := slices.Clone(opts)
	slices.SortStableFunc(out, func(a, b i2p.Pair) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// TestDatagram3RoundTripProperty makes Datagram3s of random senders,
// options and payloads and parses each back to the same fields.
func TestDatagram3RoundTripProperty(t *testing.T) {
	rng := propertyRNG(t.Name())
	for i := range propertyRuns {
		var from i2p.Hash
		copy(from[:], randomBytes(rng, len(from)))
		opts, payload := randomOptions(rng), randomPayload(rng)
		prefix := randomBytes(rng, rng.IntN(4))
		b, err := AppendDatagram3(bytes.Clone(prefix), from, opts, payload)
		if err != nil {
			t.Fatalf("run %d: make: %v", i, err)
		}
		if !bytes.HasPrefix(b, prefix) || len(b) != len(prefix)+Datagram3MinSize+optionsLen(t, opts)+len(payload) {
			t.Fatalf("run %d: appended %d bytes to %x", i, len(b)-len(prefix), prefix)
		}
		b = b[len(prefix):]
		var d Datagram3
		if err := ParseDatagram3(b, &d); err != nil {
			t.Fatalf("run %d: parse: %v", i, err)
		}
		if d.From != from || !bytes.Equal(d.Payload, payload) {
			t.Fatalf("run %d: sender or payload differs", i)
		}
		got, err := d.Options()
		if err != nil || !slices.Equal(got, wantOptions(opts)) {
			t.Fatalf("run %d: options %q, want %q (%v)", i, got, wantOptions(opts), err)
		}
	}
}

// optionsLen is the serialized size of opts in a datagram (0 when none).
func optionsLen(t *testing.T, opts i2p.Mapping) int {
	t.Helper()
	if len(opts) == 0 {
		return 0
	}
	b, err := opts.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

// The signature types this project can sign with: every one may own a
// Destination except type 8, which the specification keeps offline and so
// appears only as a transient key here.
var (
	destSigTypes      = []i2p.SigType{i2p.SigDSASHA1, i2p.SigECDSASHA256P256, i2p.SigECDSASHA384P384, i2p.SigECDSASHA512P521, i2p.SigEd25519}
	transientSigTypes = append(slices.Clone(destSigTypes), i2p.SigEd25519ph)
)

// TestDatagram2RoundTripProperty makes Datagram2s from senders of every
// signing type, with and without an offline block whose transient key is
// of every signing type, with random options and payloads, and parses each
// back at its receiver to the same fields. Every tenth run also checks
// that another receiver and a flipped byte are refused.
func TestDatagram2RoundTripProperty(t *testing.T) {
	rng := propertyRNG(t.Name())
	now := time.Now()
	expires := now.Add(time.Hour)
	online := map[i2p.SigType]*i2p.PrivateKeys{}
	offline := map[[2]i2p.SigType]*i2p.PrivateKeys{}
	for _, st := range destSigTypes {
		online[st] = testkeys.New(t, st)
		for _, tt := range transientSigTypes {
			offline[[2]i2p.SigType{st, tt}] = offlineKeys(t, online[st], tt, expires)
		}
	}
	for i := range propertyRuns {
		st := destSigTypes[i%len(destSigTypes)]
		keys := online[st]
		if (i/len(destSigTypes))%2 == 1 {
			keys = offline[[2]i2p.SigType{st, transientSigTypes[rng.IntN(len(transientSigTypes))]}]
		}
		var to i2p.Hash
		copy(to[:], randomBytes(rng, len(to)))
		opts, payload := randomOptions(rng), randomPayload(rng)
		b, err := AppendDatagram2(nil, keys, to, opts, payload)
		if err != nil {
			t.Fatalf("run %d (%v): make: %v", i, st, err)
		}
		var d Datagram2
		if err := ParseDatagram2(b, to, now, &d); err != nil {
			t.Fatalf("run %d (%v, offline %v): parse: %v", i, st, keys.Offline != nil, err)
		}
		if !d.From.Equal(keys.Destination) || !bytes.Equal(d.Payload, payload) {
			t.Fatalf("run %d: sender or payload differs", i)
		}
		got, err := d.Options()
		if err != nil || !slices.Equal(got, wantOptions(opts)) {
			t.Fatalf("run %d: options %q, want %q (%v)", i, got, wantOptions(opts), err)
		}
		if d.HasOffline != (keys.Offline != nil) {
			t.Fatalf("run %d: offline block present %v", i, d.HasOffline)
		}
		if o := keys.Offline; o != nil && (d.Offline.Expires != o.Expires || d.Offline.TransientType != o.TransientType ||
			!bytes.Equal(d.Offline.TransientKey, o.TransientKey) || !bytes.Equal(d.Offline.Signature, o.Signature)) {
			t.Fatalf("run %d: offline block differs", i)
		}
		if i%10 != 0 {
			continue
		}
		other := to
		other[rng.IntN(len(other))] ^= 1 << rng.IntN(8)
		if err := ParseDatagram2(b, other, now, &d); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("run %d: accepted at another receiver: %v", i, err)
		}
		// Flip a bit after the sender: in the flags, options, offline
		// block, payload or signature. Nothing may survive that.
		flipped := bytes.Clone(b)
		at := keys.Destination.Len() + 1 + rng.IntN(len(b)-keys.Destination.Len()-1)
		flipped[at] ^= 1 << rng.IntN(8)
		if err := ParseDatagram2(flipped, to, now, &d); err == nil {
			t.Fatalf("run %d: datagram with byte %d flipped accepted", i, at)
		}
	}
}

// offlineKeys returns long's identity with its signing key offline and a
// fresh transient key of type tt delegated until expires.
func offlineKeys(t testing.TB, long *i2p.PrivateKeys, tt i2p.SigType, expires time.Time) *i2p.PrivateKeys {
	t.Helper()
	transient, err := i2p.GenerateSigningKey(tt, cryptorand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	off, err := i2p.NewOfflineSignature(long.SigningKey, transient, expires)
	if err != nil {
		t.Fatal(err)
	}
	keys := *long
	keys.SigningKey = i2p.SigningKey{Type: long.SigningKey.Type, Private: make([]byte, len(long.SigningKey.Private))}
	keys.Offline = &off
	keys.TransientKey = transient
	return &keys
}
