package i2p

import (
	"bytes"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

func FuzzParseDestination(f *testing.F) {
	v := testvectors.Must(f)
	for _, id := range v.Destinations {
		f.Add(testvectors.Hex(id.Destination))
	}
	f.Add(make([]byte, MinDestinationLen))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, rest, err := ParseDestination(b)
		if err != nil {
			return
		}
		if d.Len()+len(rest) != len(b) || !bytes.Equal(d.Bytes(), b[:d.Len()]) {
			t.Fatal("destination and remainder do not add up to the input")
		}
		_ = d.SigningPublicKey()
		_ = d.EncryptionPublicKey()
		back, err := ParseDestinationBase64(d.Base64())
		if err != nil || !back.Equal(d) {
			t.Fatalf("base64 round trip: %v", err)
		}
	})
}

func FuzzParsePrivateKeys(f *testing.F) {
	v := testvectors.Must(f)
	for _, id := range v.Destinations {
		f.Add(testvectors.Hex(id.PrivateKeyFile))
	}
	// A key file with a zero signing key and an offline section.
	sender := testvectors.Hex(v.Destinations["sender"].PrivateKeyFile)
	off := append(bytes.Clone(sender[:len(sender)-32]), make([]byte, 32)...)
	off = append(off, 0xff, 0xff, 0xff, 0xff, 0, 7)
	off = append(off, make([]byte, 32+64+32)...)
	f.Add(off)
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePrivateKeys(b)
		if err != nil {
			return
		}
		if !bytes.Equal(k.Bytes(), b) {
			t.Fatal("key file does not serialize back to its input")
		}
	})
}

func FuzzParseMapping(f *testing.F) {
	f.Add([]byte("\x00\x1a\x01a=\x01b;\x03foo=\x03bar;\x02zz=\x04last;"))
	f.Add([]byte("\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, rest, err := ParseMapping(b)
		if err != nil {
			return
		}
		out, err := m.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != len(b)-len(rest) {
			t.Fatalf("re-encoded mapping is %d bytes, parsed %d", len(out), len(b)-len(rest))
		}
	})
}

func FuzzParseOfflineSignature(f *testing.F) {
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 7}, uint16(7))
	f.Fuzz(func(t *testing.T, b []byte, destSig uint16) {
		o, rest, err := ParseOfflineSignature(b, SigType(destSig))
		if err != nil {
			return
		}
		if o.Len()+len(rest) != len(b) {
			t.Fatal("offline block length does not add up")
		}
		var d Destination
		_ = o.Verify(d, time.Unix(0, 0))
	})
}

func FuzzParseCompactDestination(f *testing.F) {
	v := testvectors.Must(f)
	for _, id := range v.Destinations {
		if d, _, err := ParseDestination(testvectors.Hex(id.Destination)); err == nil {
			f.Add(d.AppendCompact(nil))
		}
	}
	f.Add([]byte{1, 1, 96})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseCompactDestination(b)
		if err != nil {
			return
		}
		back, err := ParseCompactDestination(d.AppendCompact(nil))
		if err != nil || !bytes.Equal(back.Bytes(), d.Bytes()) {
			t.Fatalf("round trip of a parsed compact form: %v", err)
		}
	})
}
