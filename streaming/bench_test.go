package streaming

import (
	"context"
	"io"
	"testing"
	"time"
)

// BenchmarkHTTPExchange: one short HTTP exchange per iteration (early
// dial with the request, response, both CLOSEs) between two Managers over
// a lossless in-memory link: every packet signed or verified as on the
// network. Compare with BenchmarkParseVerify for the signature share.
func BenchmarkHTTPExchange(b *testing.B) {
	n := newMemNet(1, 0, 0, 0)
	cfg := fastConfig()
	cfg.AckDelay, cfg.FlushDelay = time.Millisecond, 50*time.Millisecond
	// One client opens every stream: the path is measured, not the limits.
	cfg.MaxConnsPerMinute, cfg.MaxConnsPerHour, cfg.MaxTotalConnsPerMinute = -1, -1, -1
	srv, cli := n.node(b, cfg), n.node(b, cfg)
	l, err := srv.Listen()
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, len(testRequest))
				io.ReadFull(c, buf)
				c.Write([]byte(testResponse))
				c.Close()
			}()
		}
	}()
	d := Dialer{Manager: cli, Port: 80, Early: true}
	b.SetBytes(int64(len(testRequest) + len(testResponse)))
	for b.Loop() {
		c, err := d.Dial(context.Background(), srv.Destination())
		if err != nil {
			b.Fatal(err)
		}
		c.Write([]byte(testRequest))
		c.CloseWrite()
		if got, err := io.ReadAll(c); err != nil || string(got) != testResponse {
			b.Fatalf("%q %v", got, err)
		}
		c.Close()
	}
}

// BenchmarkHandleAck: one unsigned packet for an open stream per
// iteration (a NO_ACK keep-alive carrying nothing), through HandlePacket:
// the routing and per-stream work every data packet and ACK pays.
func BenchmarkHandleAck(b *testing.B) {
	n := newMemNet(1, 0, 0, 0)
	cfg := fastConfig()
	srv, cli := n.node(b, cfg), n.node(b, cfg)
	l, err := srv.Listen()
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	d := Dialer{Manager: cli, Port: 80}
	if _, err := d.Dial(context.Background(), srv.Destination()); err != nil {
		b.Fatal(err)
	}
	c, err := l.AcceptContext(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	c.mu.Lock()
	p := &Packet{SendStreamID: c.localID, ReceiveStreamID: c.remoteID, Flags: FlagNoACK}
	c.mu.Unlock()
	raw, err := p.AppendTo(nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		srv.HandlePacket(0, 80, raw)
	}
}
