package i2cptest

import (
	"bufio"
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp"
)

// writeLog is a net.Conn that keeps a copy of each of its writes.
type writeLog struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes = append(w.writes, append([]byte(nil), p...))
	w.mu.Unlock()
	return w.Conn.Write(p)
}

// TestWriteEach: with WriteEach, replies the router has queued together
// still reach the client one frame per write. The client sends its
// GetDates at once and reads only after, so the SetDates queue up.
func TestWriteEach(t *testing.T) {
	const frames = 50
	r := NewInProcess(Options{WriteEach: true})
	defer r.Close()
	client, routerEnd := net.Pipe()
	defer client.Close()
	log := &writeLog{Conn: routerEnd}
	r.ServeConn(log)
	if err := client.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	req := []byte{i2cp.ProtocolByte}
	for range frames {
		var err error
		if req, err = i2cp.AppendGetDate(req, i2cp.GetDate{Version: "0.9.67"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.Write(req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(client)
	for i := range frames {
		if typ, _, err := i2cp.ReadFrame(br, nil); err != nil || typ != i2cp.TypeSetDate {
			t.Fatalf("reply %d: type %d, %v", i, typ, err)
		}
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.writes) != frames {
		t.Fatalf("%d frames came in %d writes, want one each", frames, len(log.writes))
	}
	for i, w := range log.writes {
		if len(w) < 5 || int(binary.BigEndian.Uint32(w))+5 != len(w) {
			t.Fatalf("write %d is %d bytes, not one whole frame", i, len(w))
		}
	}
}
