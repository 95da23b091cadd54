package i2cptest

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp"
)

// TestServeConnPipe: a router that listens nowhere answers GetDate on
// the router's end of a net.Pipe, and after Close refuses another one.
func TestServeConnPipe(t *testing.T) {
	r := NewInProcess(Options{})
	client, routerEnd := net.Pipe()
	defer client.Close()
	r.ServeConn(routerEnd)
	if err := client.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	frame, err := i2cp.AppendGetDate([]byte{i2cp.ProtocolByte}, i2cp.GetDate{Version: "0.9.67"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Write(frame); err != nil {
		t.Fatal(err)
	}
	typ, body, err := i2cp.ReadFrame(bufio.NewReader(client), nil)
	if err != nil || typ != i2cp.TypeSetDate {
		t.Fatalf("reply type %d, %v", typ, err)
	}
	if sd, err := i2cp.ParseSetDate(body); err != nil || sd.Version == "" {
		t.Fatalf("SetDate %+v %v", sd, err)
	}
	if err := r.Restart(); err == nil {
		t.Fatal("Restart of a router that never listened succeeded")
	}
	r.Close()

	late, lateRouterEnd := net.Pipe()
	defer late.Close()
	r.ServeConn(lateRouterEnd) // closes it before returning: the read cannot block
	if _, err := late.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("a connection served after Close reads %v, want EOF", err)
	}
}
