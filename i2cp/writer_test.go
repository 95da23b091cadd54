package i2cp

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// readSendMessage reads one frame as the router would and parses it as
// a SendMessage (or SendMessageExpires).
func readSendMessage(t *testing.T, br *bufio.Reader) (byte, OutMessage) {
	t.Helper()
	typ, body, err := ReadFrame(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseSendMessage(body, typ == TypeSendMessageExpires)
	if err != nil {
		t.Fatalf("frame of type %d: %v", typ, err)
	}
	return typ, m
}

// newUpSession makes a Session for a fresh identity as if a router had
// created session id for it (no connection); keepalives stay quiet.
func newUpSession(t testing.TB, cfg Config, id int32) (*Session, i2p.Destination) {
	t.Helper()
	keys, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = time.Hour
	}
	s, err := NewSession(keys, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.sessionID.Store(id)
	return s, keys.Destination
}

// TestWriterDropsStaleFrames: frames queued for an earlier session (a Send
// or a lookup that raced a disconnect) are counted and dropped, never
// written to the next connection; frames for the session now up go out.
func TestWriterDropsStaleFrames(t *testing.T) {
	s, dest := newUpSession(t, Config{}, 5)
	if err := s.Send(dest, 18, 1, 2, []byte("for session 5")); err != nil {
		t.Fatal(err)
	}
	s.down(errors.New("link lost")) // drops the queued data frame
	s.ctrl <- AppendHostLookup(nil, HostLookup{SessionID: 5, RequestID: 1, Type: LookupHash})
	s.sessionID.Store(6) // the link came back as session 6
	if err := s.Send(dest, 18, 1, 2, []byte("for session 6")); err != nil {
		t.Fatal(err)
	}

	client, router := net.Pipe()
	defer router.Close()
	ctx, cancel := context.WithCancel(context.Background())
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		var rx atomic.Uint64
		done <- s.writeLoop(ctx, stop, newLink(client, bufio.NewWriter(client)), &rx)
	}()
	br := bufio.NewReader(router)
	typ, m := readSendMessage(t, br)
	if m.SessionID != 6 {
		t.Fatalf("first frame written: type %d session %d", typ, m.SessionID)
	}
	// The writer may take the stale control frame after the data frame.
	st := s.Stats()
	for i := 0; i < 200 && st.DroppedStale < 2; i++ {
		time.Sleep(5 * time.Millisecond)
		st = s.Stats()
	}
	if st.DroppedStale != 2 || st.Sent != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Stopping with the session up says goodbye.
	cancel()
	typ, body, err := ReadFrame(br, nil)
	if err != nil || typ != TypeDestroySession {
		t.Fatalf("goodbye: type %d %v", typ, err)
	}
	if id, _ := ParseDestroySession(body); id != 6 {
		t.Fatalf("DestroySession for %d", id)
	}
	go io.Copy(io.Discard, router)
	if err := <-done; err != context.Canceled {
		t.Fatalf("writer ended with %v", err)
	}
}
