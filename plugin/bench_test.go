package plugin

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/simclient"
	"github.com/go-i2p/go-opentracker/tracker/udptracker"
)

// BenchmarkUDPAnnounceEndToEnd: announces through the whole path — the
// simulator frames a gzip'd Datagram3 over TCP, the plugin's session
// decodes it, the transport checks the connection id and updates the
// swarm, and the raw reply goes back over TCP. 256 requests in flight.
func BenchmarkUDPAnnounceEndToEnd(b *testing.B) {
	t := &testing.T{}
	e := start(t, b.TempDir(), newRouter(t))
	const n = 1000
	clients := make([]*simclient.Client, n)
	for i := range clients {
		c, _ := e.net.NewClient(uint16(2000+i), true)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := c.Connect(ctx); err != nil {
			b.Fatal(err)
		}
		cancel()
		clients[i] = c
	}
	var replies atomic.Int64
	done := make(chan struct{}, 1<<16)
	e.host.router.OnSend(func(from i2p.Hash, to i2p.Destination, env []byte) { replies.Add(1); done <- struct{}{} })
	tracker := e.plugin.Identity().Destination.Hash()
	envs := make([][]byte, n)
	for i, c := range clients {
		a := udptracker.Announce{Header: udptracker.Header{ConnectionID: c.ConnID, TransactionID: 1}, InfoHash: [20]byte{byte(i % 50)}, Left: uint64(i % 2), NumWant: 50}
		dg, _ := datagram.AppendDatagram3(nil, c.Hash(), nil, udptracker.AppendAnnounceRequest(nil, &a))
		envs[i] = i2cp.AppendGzip(nil, i2cp.Header{Protocol: datagram.ProtocolDatagram3, FromPort: c.Port, ToPort: 6969}, dg)
	}
	b.ReportAllocs()
	b.ResetTimer()
	inflight := 0
	for i := 0; i < b.N; i++ {
		e.host.router.Inject(tracker, envs[i%n])
		if inflight++; inflight >= 256 {
			<-done
			inflight--
		}
	}
	for ; inflight > 0; inflight-- {
		<-done
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "announces/s")
	_ = binary.BigEndian
}
