package datagram

import (
	"bytes"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

func FuzzParseDatagram2(f *testing.F) {
	v := loadVectors(f)
	for _, vec := range v.Datagram2 {
		f.Add(testvectors.Hex(vec.Datagram))
	}
	for _, vec := range v.Datagram2Negative {
		f.Add(testvectors.Hex(vec.Datagram))
	}
	to := keysOf(f, v, "tracker").Destination.Hash()
	now := time.Unix(1767225600, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Datagram2
		if err := ParseDatagram2(b, to, now, &d); err != nil {
			return
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
	v := loadVectors(f)
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
