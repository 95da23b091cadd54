// The reader's source: reads from the connection that, before they wait
// for input, let the reader write the replies it has gathered.
//
// Invariants: beforeWait runs on the reader's goroutine, at most once per
// Read, and only when that Read would otherwise wait; on a connection
// with no descriptor to try a read on (a net.Pipe, say) it runs before
// every Read.

package i2cp

import "net"

// drainReader reads the connection for the frame reader. Replies then go
// out when the input already received is used up, in one write, not
// after every read: a router that writes frames one at a time while the
// tracker is busy gets the replies of all of them together.
type drainReader struct {
	conn net.Conn
	// read, when the connection has a descriptor, reads it and runs its
	// argument once before it waits for input; nil otherwise.
	read func(p []byte, beforeWait func() error) (int, error)
	// beforeWait, when set, runs before a read that would wait.
	beforeWait func() error
}

func newDrainReader(conn net.Conn) *drainReader {
	return &drainReader{conn: conn, read: rawRead(conn)}
}

// Read reads into p; a read that would wait first runs beforeWait.
func (d *drainReader) Read(p []byte) (int, error) {
	if d.beforeWait == nil || len(p) == 0 {
		return d.conn.Read(p)
	}
	if d.read != nil {
		return d.read(p, d.beforeWait)
	}
	if err := d.beforeWait(); err != nil {
		return 0, err
	}
	return d.conn.Read(p)
}
