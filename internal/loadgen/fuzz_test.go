package loadgen

import (
	"testing"

	"github.com/go-i2p/go-opentracker/tracker/udptracker"
)

func FuzzParseReply(f *testing.F) {
	f.Add(udptracker.AppendConnectResponse(nil, 1, 2, 60), 6)
	f.Add(append(udptracker.AppendAnnounceResponseHeader(nil, 1, 2, 3, 4), make([]byte, 12)...), 6)
	f.Add(append(udptracker.AppendAnnounceResponseHeader(nil, 1, 2, 3, 4), make([]byte, 64)...), 32)
	f.Add(udptracker.AppendScrapeEntry(udptracker.AppendScrapeResponseHeader(nil, 1), 1, 2, 3), 6)
	f.Add(udptracker.AppendErrorResponse(nil, 1, "no"), 0)
	f.Fuzz(func(t *testing.T, b []byte, peerLen int) {
		var r Reply
		if err := ParseReply(b, peerLen%64, &r); err != nil {
			return
		}
		n := r.NumPeers(peerLen % 64)
		if peerLen%64 > 0 && n*(peerLen%64) != len(r.Peers) {
			t.Fatalf("%d peers of %d bytes in %d bytes", n, peerLen%64, len(r.Peers))
		}
		for i := range len(r.Entries) / 12 {
			r.ScrapeEntry(i)
		}
	})
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte(statLine))
	f.Add([]byte("1 (a b) R 0 0 0 0 0 0 0 0 0 0 1 2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseStat(b)
	})
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte(statusText))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := ParseStatus(b)
		if err == nil && (ms.RSS > 1<<60 || ms.Peak > 1<<60 || ms.Anon > 1<<60) {
			t.Fatalf("implausible %+v", ms)
		}
	})
}
