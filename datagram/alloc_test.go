package datagram

import (
	"testing"

	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

// TestParseDatagram3Allocs guards the promise that a Datagram3 parses
// without a heap allocation: every announce and scrape takes this path.
// The race detector adds no allocations to it (checked with -race), so the
// guard holds in both modes.
func TestParseDatagram3Allocs(t *testing.T) {
	v := testvectors.Must(t)
	for name, vec := range v.Datagram3 {
		if vec.Result.Rejected {
			continue
		}
		raw := testvectors.Hex(vec.Datagram)
		var d Datagram3
		allocs := testing.AllocsPerRun(100, func() {
			if err := ParseDatagram3(raw, &d); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: ParseDatagram3 allocates %.1f times per call, want 0", name, allocs)
		}
	}
}
