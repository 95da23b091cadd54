package i2p

import (
	"crypto/rand"
	"testing"

	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

func BenchmarkParseDestination(b *testing.B) {
	raw := testvectors.Hex(testvectors.Must(b).Destinations["sender"].Destination)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseDestination(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHashDestination(b *testing.B) {
	raw := testvectors.Hex(testvectors.Must(b).Destinations["sender"].Destination)
	b.ReportAllocs()
	for b.Loop() {
		_ = HashOf(raw)
	}
}

func BenchmarkParseDestinationBase64(b *testing.B) {
	s := testvectors.Must(b).Destinations["sender"].DestinationB64
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDestinationBase64(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendCompactNew: the compact form appended to a nil slice, as
// the store journals a Destination: "repeat" one of this program's
// Destinations (0.9.57 padding), "plain" the reference vector's.
func BenchmarkAppendCompactNew(b *testing.B) {
	k, err := NewIdentity(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	plain, _, err := ParseDestination(testvectors.Hex(testvectors.Must(b).Destinations["sender"].Destination))
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		d    Destination
	}{{"repeat", k.Destination}, {"plain", plain}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if len(c.d.AppendCompact(nil)) == 0 {
					b.Fatal("empty compact form")
				}
			}
		})
	}
}
