package datagram

import (
	"bytes"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/testkeys"
	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

func FuzzParseDatagram2(f *testing.F) {
	v := testvectors.Must(f)
	for _, vec := range v.Datagram2 {
		f.Add(testvectors.Hex(vec.Datagram))
	}
	for _, vec := range v.Datagram2Negative {
		f.Add(testvectors.Hex(vec.Datagram))
	}
	to := keysOf(f, v, "tracker").Destination.Hash()
	now := time.Unix(1767225600, 0)
	// Valid datagrams beyond the reference's Ed25519 ones: senders of
	// other types, and offline blocks (valid for a year after now) whose
	// transient key is of another type than the Destination's.
	opts := i2p.Mapping{{Key: "k", Value: "v"}}
	payload := testvectors.Hex(v.Payloads.Connect)
	for _, c := range []struct {
		dest, transient i2p.SigType // transient only when offline
		offline         bool
	}{
		{dest: i2p.SigECDSASHA256P256},
		{dest: i2p.SigEd25519, transient: i2p.SigECDSASHA256P256, offline: true},
		{dest: i2p.SigECDSASHA256P256, transient: i2p.SigEd25519, offline: true},
		{dest: i2p.SigDSASHA1, transient: i2p.SigEd25519ph, offline: true},
	} {
		keys := testkeys.New(f, c.dest)
		if c.offline {
			keys = offlineKeys(f, keys, c.transient, now.AddDate(1, 0, 0))
		}
		b, err := AppendDatagram2(nil, keys, to, opts, payload)
		if err != nil {
			f.Fatal(err)
		}
		var d Datagram2
		if err := ParseDatagram2(b, to, now, &d); err != nil {
			f.Fatalf("seed %v/%v does not parse: %v", c.dest, c.transient, err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		from, offline, perr := PeekDatagram2(b)
		var d, v Datagram2
		err := ParseDatagram2(b, to, now, &d)
		// Verifying with the peeked sender decides as parsing does.
		if perr == nil && (VerifyDatagram2(b, from, to, now, &v) == nil) != (err == nil) {
			t.Fatalf("verify with the peeked sender disagrees with the parse: %v", err)
		}
		if err != nil {
			return
		}
		// What scheduling reads of an accepted datagram is what it holds.
		if perr != nil || from.Hash() != d.From.Hash() || offline != d.HasOffline {
			t.Fatalf("peek disagrees with the parse: %v", perr)
		}
		// Anything accepted was signed by its sender for us: its payload
		// sits inside the input and its sender is a parsed Destination.
		if !bytes.Contains(b, d.Payload) || d.From.IsZero() {
			t.Fatal("accepted datagram with inconsistent fields")
		}
		if _, err := d.Options(); err != nil && d.RawOptions == nil {
			t.Fatal("options error without options")
		}
	})
}

func FuzzParseDatagram3(f *testing.F) {
	v := testvectors.Must(f)
	for _, vec := range v.Datagram3 {
		f.Add(testvectors.Hex(vec.Datagram))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Datagram3
		if err := ParseDatagram3(b, &d); err != nil {
			return
		}
		opts, err := d.Options()
		if err != nil {
			return
		}
		again, err := AppendDatagram3(nil, d.From, opts, d.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != len(b) && len(opts) > 0 {
			// Options may be re-sorted but never change size.
			t.Fatalf("re-made datagram is %d bytes, input %d", len(again), len(b))
		}
	})
}
