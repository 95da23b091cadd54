package datagram

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/testkeys"
	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

// keysOf parses a reference identity's private key file.
func keysOf(t testing.TB, v *testvectors.Vectors, name string) *i2p.PrivateKeys {
	t.Helper()
	k, err := i2p.ParsePrivateKeys(testvectors.Hex(v.Destinations[name].PrivateKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// mappingOf builds the options of a vector; Mapping.AppendTo sorts them.
func mappingOf(m map[string]string) i2p.Mapping {
	var out i2p.Mapping
	for k, v := range m {
		out = append(out, i2p.Pair{Key: k, Value: v})
	}
	return out
}

func optionsMap(t *testing.T, m i2p.Mapping) map[string]string {
	t.Helper()
	if m == nil {
		return nil
	}
	out := map[string]string{}
	for _, p := range m {
		out[p.Key] = p.Value
	}
	return out
}

// TestReferenceDatagram2 makes every reference Datagram2 byte for byte
// (Ed25519 is deterministic) and parses it to the reference's result.
func TestReferenceDatagram2(t *testing.T) {
	v := testvectors.Must(t)
	sender := keysOf(t, v, "sender")
	tracker := keysOf(t, v, "tracker")
	for name, vec := range v.Datagram2 {
		t.Run(name, func(t *testing.T) {
			to := tracker.Destination.Hash()
			if hex.EncodeToString(to[:]) != vec.ToHash {
				t.Fatalf("vector addressed to %s, not the tracker", vec.ToHash)
			}
			made, err := AppendDatagram2(nil, sender, to, mappingOf(vec.Options), testvectors.Hex(vec.Payload))
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(made) != vec.Datagram {
				t.Fatalf("made datagram differs:\n got %x\nwant %s", made, vec.Datagram)
			}
			var d Datagram2
			if err := ParseDatagram2(testvectors.Hex(vec.Datagram), to, time.Now(), &d); err != nil {
				t.Fatalf("reference accepted, we rejected: %v", err)
			}
			p := vec.Parsed
			if hex.EncodeToString(d.From.Bytes()) != p.SenderDest || hex.EncodeToString(d.From.Hash().Bytes()) != p.SenderHash || d.From.B32() != p.SenderB32 {
				t.Fatal("sender differs from the reference's parse")
			}
			if hex.EncodeToString(d.Payload) != p.Payload {
				t.Fatalf("payload %x, want %s", d.Payload, p.Payload)
			}
			opts, err := d.Options()
			if err != nil {
				t.Fatal(err)
			}
			if got := optionsMap(t, opts); !maps.Equal(got, p.Options) {
				t.Fatalf("options %v, want %v", got, p.Options)
			}
		})
	}
}

// TestReferenceDatagram2Negative rejects each negative vector at the
// receiver the reference used, for the reason the reference gives, and
// accepts the one the reference accepts at its intended receiver, to the
// same sender, payload and options.
func TestReferenceDatagram2Negative(t *testing.T) {
	v := testvectors.Must(t)
	for i, e := range loadDatagramVectors(t).Datagram2Negative {
		t.Run(e.Description, func(t *testing.T) {
			verdict := e.Result
			if verdict == nil {
				verdict = e.Parsed // entries made from inputs carry the full parse
			}
			var d Datagram2
			err := ParseDatagram2(testvectors.Hex(e.Datagram), receiverOf(t, v, e), time.Now(), &d)
			switch {
			case verdict.Accepted:
				if err != nil {
					t.Fatalf("reference accepted, we rejected: %v", err)
				}
				checkAccepted(t, &d, verdict, keysOf(t, v, e.From), testvectors.Hex(e.Payload))
			case verdict.Rejected:
				checkRejection(t, err, verdict)
			default:
				t.Fatalf("negative vector %d has no verdict", i)
			}
		})
	}
}

func TestReferenceDatagram3(t *testing.T) {
	v := testvectors.Must(t)
	sender := keysOf(t, v, "sender").Destination.Hash()
	for name, vec := range v.Datagram3 {
		t.Run(name, func(t *testing.T) {
			var d Datagram3
			err := ParseDatagram3(testvectors.Hex(vec.Datagram), &d)
			if vec.Result.Rejected {
				if !errors.Is(err, ErrBadVersion) {
					t.Fatalf("reference says %q, we said %v", vec.Result.Message, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantPayload, wantFrom := vec.Parsed.Payload, vec.Parsed.FromHash
			if vec.ParsedPayload != "" {
				wantPayload, wantFrom = vec.ParsedPayload, vec.ParsedFromHash
			}
			if hex.EncodeToString(d.From[:]) != wantFrom || hex.EncodeToString(d.Payload) != wantPayload {
				t.Fatal("parsed fields differ from the reference")
			}
			opts, err := d.Options()
			if err != nil {
				t.Fatal(err)
			}
			if got := optionsMap(t, opts); !maps.Equal(got, vec.Parsed.Options) {
				t.Fatalf("options %v, want %v", got, vec.Parsed.Options)
			}
			made, err := AppendDatagram3(nil, sender, mappingOf(vec.Options), d.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(made) != vec.Datagram {
				t.Fatalf("made datagram differs:\n got %x\nwant %s", made, vec.Datagram)
			}
		})
	}
}

// TestDatagram2SigTypes round-trips Datagram2 from senders of every type
// this project can sign with, with and without an offline signature.
func TestDatagram2SigTypes(t *testing.T) {
	to := i2p.HashOf([]byte("receiver"))
	payload := []byte("0123456789abcdef")
	for _, st := range []i2p.SigType{i2p.SigDSASHA1, i2p.SigECDSASHA256P256, i2p.SigECDSASHA384P384, i2p.SigECDSASHA512P521, i2p.SigEd25519} {
		t.Run(st.String(), func(t *testing.T) {
			keys := testkeys.New(t, st)
			b, err := AppendDatagram2(nil, keys, to, nil, payload)
			if err != nil {
				t.Fatal(err)
			}
			var d Datagram2
			if err := ParseDatagram2(b, to, time.Now(), &d); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(d.Payload, payload) || d.From.Hash() != keys.Destination.Hash() || d.HasOffline {
				t.Fatal("round trip differs")
			}
			if err := ParseDatagram2(b, i2p.HashOf([]byte("someone else")), time.Now(), &d); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("datagram for another receiver: %v", err)
			}
		})
	}
}

// TestVerifyDatagram2OtherSender: VerifyDatagram2 checks a Datagram2
// only against the sender it begins with; handed another Destination
// (or none) it refuses, whichever key signed.
func TestVerifyDatagram2OtherSender(t *testing.T) {
	to := i2p.HashOf([]byte("receiver"))
	alice, bob := testkeys.New(t, i2p.SigEd25519), testkeys.New(t, i2p.SigEd25519)
	b, err := AppendDatagram2(nil, alice, to, nil, []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	var d Datagram2
	if err := VerifyDatagram2(b, alice.Destination, to, time.Now(), &d); err != nil {
		t.Fatalf("own sender: %v", err)
	}
	for name, from := range map[string]i2p.Destination{"other": bob.Destination, "zero": {}} {
		if err := VerifyDatagram2(b, from, to, time.Now(), &d); !errors.Is(err, ErrBadSender) {
			t.Errorf("%s sender: %v, want %v", name, err, ErrBadSender)
		}
	}
	if _, _, err := PeekDatagram2(make([]byte, MaxSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("peek of an oversized datagram: %v, want %v", err, ErrTooLarge)
	}
}

func TestDatagram2Offline(t *testing.T) {
	to := i2p.HashOf([]byte("receiver"))
	long := testkeys.New(t, i2p.SigEd25519)
	transient, _ := i2p.GenerateSigningKey(i2p.SigECDSASHA256P256, rand.Reader)
	now := time.Now()
	off, err := i2p.NewOfflineSignature(long.SigningKey, transient, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	keys := *long
	keys.SigningKey = i2p.SigningKey{Type: i2p.SigEd25519, Private: make([]byte, 32)}
	keys.Offline = &off
	keys.TransientKey = transient
	b, err := AppendDatagram2(nil, &keys, to, i2p.Mapping{{Key: "k", Value: "v"}}, []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	var d Datagram2
	if err := ParseDatagram2(b, to, now, &d); err != nil {
		t.Fatal(err)
	}
	if !d.HasOffline || d.Offline.TransientType != i2p.SigECDSASHA256P256 || string(d.Payload) != "payload" {
		t.Fatal("offline datagram fields lost")
	}
	if err := ParseDatagram2(b, to, now.Add(2*time.Hour), &d); !errors.Is(err, ErrBadOffline) {
		t.Fatalf("expired offline block: %v", err)
	}
	// A transient key the Destination never delegated to.
	forged := bytes.Clone(b)
	i := bytes.Index(forged, off.TransientKey)
	forged[i] ^= 1
	if err := ParseDatagram2(forged, to, now, &d); !errors.Is(err, ErrBadOffline) {
		t.Fatalf("forged transient key: %v", err)
	}
}

func TestDatagramErrors(t *testing.T) {
	v := testvectors.Must(t)
	tracker := keysOf(t, v, "tracker").Destination.Hash()
	good := testvectors.Hex(v.Datagram2["connect"].Datagram)
	var d2 Datagram2
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"too large", make([]byte, MaxSize+1), ErrTooLarge},
		{"reserved flag bit", func() []byte { b := bytes.Clone(good); b[392] |= 0x40; return b }(), ErrBadFlags},
		{"options overrun", func() []byte { b := bytes.Clone(good); b[392] |= flagOptions; b[393], b[394] = 0xff, 0xff; return b }(), ErrBadOptions},
		{"bad certificate", func() []byte { b := bytes.Clone(good); b[384] = 3; return b }(), ErrBadSender},
		{"offline block truncated", func() []byte { b := bytes.Clone(good)[:430]; b[392] |= flagOffline; return b }(), ErrBadOffline},
	}
	for _, c := range cases {
		if err := ParseDatagram2(c.b, tracker, time.Now(), &d2); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	var d3 Datagram3
	if err := ParseDatagram3(make([]byte, 33), &d3); !errors.Is(err, ErrTooSmall) {
		t.Errorf("short Datagram3: %v", err)
	}
	if err := ParseDatagram3(make([]byte, MaxSize+1), &d3); !errors.Is(err, ErrTooLarge) {
		t.Errorf("large Datagram3: %v", err)
	}
	opt := append(make([]byte, 32), 0, 0x13, 0, 9)
	if err := ParseDatagram3(opt, &d3); !errors.Is(err, ErrBadOptions) {
		t.Errorf("Datagram3 options overrun: %v", err)
	}
	if _, err := AppendDatagram3(nil, i2p.Hash{}, nil, make([]byte, MaxSize)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized Datagram3 made: %v", err)
	}
}
