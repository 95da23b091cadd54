package i2p

import (
	"bytes"
	"crypto/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

func TestCompactDestination(t *testing.T) {
	k, err := NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 352)
	rand.Read(random)
	plain, err := NewDestination(CryptoElGamal, random[:256], SigEd25519, random[:32], random[256:])
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		d    Destination
		size int
	}{
		{"0.9.57 padding", k.Destination, 3 + 32 + 391 - 352},
		{"random padding", plain, 1 + 391},
	}
	v := testvectors.Must(t)
	for _, id := range v.Destinations {
		d, _, err := ParseDestination(testvectors.Hex(id.Destination))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct {
			name string
			d    Destination
			size int
		}{"vector of sig type " + strconv.Itoa(int(id.SigType)), d, 0})
	}
	for _, c := range cases {
		b := c.d.AppendCompact([]byte("x"))
		if b[0] != 'x' || (c.size != 0 && len(b)-1 != c.size) {
			t.Fatalf("%s: compact form %d bytes, want %d", c.name, len(b)-1, c.size)
		}
		back, err := ParseCompactDestination(b[1:])
		if err != nil || !bytes.Equal(back.Bytes(), c.d.Bytes()) || back.Hash() != c.d.Hash() {
			t.Fatalf("%s: round trip: %v", c.name, err)
		}
	}
}

func TestCompactDestinationErrors(t *testing.T) {
	k, err := NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	good := k.Destination.AppendCompact(nil)
	for name, b := range map[string][]byte{
		"empty":          nil,
		"unknown form":   {7, 1, 2},
		"short":          good[:20],
		"prefix too big": append([]byte{1, 0x01, 0x81}, good[3:]...),
		"prefix small":   append([]byte{1, 0, 10}, good[3:]...),
		"trailing":       append(append([]byte(nil), good...), 0),
		"cut":            good[:len(good)-1],
	} {
		if _, err := ParseCompactDestination(b); err == nil || !strings.Contains(err.Error(), "compact destination") {
			t.Fatalf("%s: %v", name, err)
		}
	}
}
