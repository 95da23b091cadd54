package i2p

import (
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
