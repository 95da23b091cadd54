package i2pdtest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// SAMSession is a SAM STREAM session: the control connection that keeps
// it alive and the Destination it got.
type SAMSession struct {
	ID          string
	Destination i2p.Destination
	addr        string
	control     net.Conn
}

// samCommand writes one command line and reads one reply line, both
// bounded by deadline.
func samCommand(c net.Conn, r *bufio.Reader, deadline time.Time, line string) (map[string]string, error) {
	c.SetDeadline(deadline)
	if _, err := fmt.Fprintf(c, "%s\n", line); err != nil {
		return nil, err
	}
	reply, err := r.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("SAM %q: %w", line, err)
	}
	kv := map[string]string{}
	for _, f := range strings.Fields(reply) {
		if k, v, ok := strings.Cut(f, "="); ok {
			kv[k] = v
		}
	}
	if kv["RESULT"] != "OK" {
		return kv, fmt.Errorf("SAM %q: %s", line, strings.TrimSpace(reply))
	}
	return kv, nil
}

// samHello opens a SAM connection and says HELLO.
func samHello(ctx context.Context, addr string, deadline time.Time) (net.Conn, *bufio.Reader, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	r := bufio.NewReader(c)
	if _, err := samCommand(c, r, deadline, "HELLO VERSION MIN=3.0 MAX=3.1"); err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, r, nil
}

// NewSAMSession creates a transient STREAM session with zero-hop tunnels
// and a legacy LeaseSet; options adds to the SESSION CREATE line
// ("SIGNATURE_TYPE=7", say; without it i2pd makes a DSA-SHA1
// Destination). i2pd answers once the session's tunnels are ready, some
// 20 s offline; ctx bounds the wait. The session lives until Close.
func NewSAMSession(ctx context.Context, addr, id, options string) (*SAMSession, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Minute)
	}
	c, r, err := samHello(ctx, addr, deadline)
	if err != nil {
		return nil, err
	}
	create := "SESSION CREATE STYLE=STREAM ID=" + id + " DESTINATION=TRANSIENT " + options +
		" inbound.length=0 outbound.length=0 i2cp.leaseSetType=1"
	if _, err := samCommand(c, r, deadline, create); err != nil {
		c.Close()
		return nil, err
	}
	kv, err := samCommand(c, r, deadline, "NAMING LOOKUP NAME=ME")
	if err != nil {
		c.Close()
		return nil, err
	}
	dest, err := i2p.ParseDestinationBase64(kv["VALUE"])
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("SAM NAMING LOOKUP NAME=ME: %w", err)
	}
	c.SetDeadline(time.Time{})
	return &SAMSession{ID: id, Destination: dest, addr: addr, control: c}, nil
}

// Connect opens a stream to a Base64 Destination (or a name i2pd
// resolves) with STREAM CONNECT. i2pd answers OK at once, reachable or
// not; the stream's bytes follow on the returned connection.
func (s *SAMSession) Connect(ctx context.Context, to string) (net.Conn, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Minute)
	}
	c, r, err := samHello(ctx, s.addr, deadline)
	if err != nil {
		return nil, err
	}
	if _, err := samCommand(c, r, deadline, "STREAM CONNECT ID="+s.ID+" DESTINATION="+to+" SILENT=false"); err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	if r.Buffered() > 0 {
		return &bufferedConn{Conn: c, r: r}, nil
	}
	return c, nil
}

// Close ends the session.
func (s *SAMSession) Close() error { return s.control.Close() }

// bufferedConn reads what the SAM reader already holds first.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }
