package i2cp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// tcpPair is both ends of a real loopback TCP connection.
func tcpPair(t *testing.T) (ours, peer net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	ours, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { ours.Close(); peer.Close() })
	_ = ours.SetDeadline(time.Now().Add(10 * time.Second))
	return ours, peer
}

// waitBuffered has the peer send b.
func waitBuffered(t *testing.T, peer net.Conn, b []byte) {
	t.Helper()
	if _, err := peer.Write(b); err != nil {
		t.Fatal(err)
	}
}

func TestDrainReaderWaitsOnlyWhenEmpty(t *testing.T) {
	ours, peer := tcpPair(t)
	d := newDrainReader(ours)
	if d.read == nil {
		t.Fatal("a TCP connection offers its descriptor")
	}
	waits := 0
	d.beforeWait = func() error {
		waits++
		// The peer answers only once we said we would wait: the read
		// below can only finish after this ran.
		_, err := peer.Write([]byte("second"))
		return err
	}
	// Nothing there yet: beforeWait runs once, then the read gets what
	// it sent.
	got, err := io.ReadAll(io.LimitReader(d, 6))
	if err != nil || string(got) != "second" || waits != 1 {
		t.Fatalf("read %q, %v after %d waits; want \"second\" after 1", got, err, waits)
	}
	// Input already there: no wait, so no beforeWait. The first byte
	// arriving is not the whole input, so keep reading until all is.
	waitBuffered(t, peer, []byte("third"))
	var buf bytes.Buffer
	d.beforeWait = nil
	p := make([]byte, 1)
	if _, err := d.Read(p); err != nil {
		t.Fatal(err)
	}
	buf.Write(p)
	d.beforeWait = func() error { waits++; return nil }
	for buf.Len() < 5 {
		n, err := d.Read(p)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(p[:n])
	}
	if buf.String() != "third" || waits != 1 {
		t.Fatalf("read %q after %d waits; want \"third\" with no new wait", buf.String(), waits)
	}
}

func TestDrainReaderErrors(t *testing.T) {
	ours, peer := tcpPair(t)
	d := newDrainReader(ours)
	boom := errors.New("write failed")
	d.beforeWait = func() error { return boom }
	if _, err := d.Read(make([]byte, 8)); !errors.Is(err, boom) {
		t.Fatalf("err %v, want beforeWait's", err)
	}
	d.beforeWait = func() error { return peer.Close() }
	if n, err := d.Read(make([]byte, 8)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("read %d, %v after the peer closed; want io.EOF", n, err)
	}
	_ = ours.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	d.beforeWait = func() error { return nil }
	if _, err := d.Read(make([]byte, 8)); err == nil {
		t.Fatal("a read past its deadline succeeded")
	}
}

func TestDrainReaderWithoutDescriptor(t *testing.T) {
	ours, peer := net.Pipe()
	defer ours.Close()
	defer peer.Close()
	d := newDrainReader(ours)
	if d.read != nil {
		t.Fatal("a pipe has no descriptor")
	}
	waits := 0
	d.beforeWait = func() error { waits++; return nil }
	go peer.Write([]byte("ab"))
	p := make([]byte, 2)
	if n, err := io.ReadFull(d, p); n != 2 || err != nil || waits == 0 {
		t.Fatalf("read %d, %v after %d waits", n, err, waits)
	}
}

// BenchmarkReadFrame reads frames a real TCP connection carries, through
// the reader's source, as the session's reader does.
func BenchmarkReadFrame(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	frame := AppendFrameHeader(nil, TypeMessagePayload, 600)
	frame = append(frame, make([]byte, 600)...)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		burst := bytes.Repeat(frame, 64)
		for {
			if _, err := c.Write(burst); err != nil {
				return
			}
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	d := newDrainReader(conn)
	d.beforeWait = func() error { return nil }
	br := bufio.NewReaderSize(d, 64<<10)
	buf := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, _, err := ReadFrame(br, buf); err != nil {
			b.Fatal(err)
		}
	}
}
