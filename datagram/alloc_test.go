package datagram

import (
	"testing"
	"time"

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

// TestVerifyDatagram2Allocs guards what VerifyDatagram2 saves a connect:
// the sender PeekDatagram2 read is used as it is, not copied again.
func TestVerifyDatagram2Allocs(t *testing.T) {
	v := testvectors.Must(t)
	to := keysOf(t, v, "tracker").Destination.Hash()
	raw := testvectors.Hex(v.Datagram2["connect"].Datagram)
	from, _, err := PeekDatagram2(raw)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var d Datagram2
	allocs := testing.AllocsPerRun(20, func() {
		if err := VerifyDatagram2(raw, from, to, now, &d); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("VerifyDatagram2 allocates %.1f times per call, want 0", allocs)
	}
}
