package i2cptest

import "net"

// NewInProcess returns a router simulator that listens nowhere: it serves
// only the connections handed to ServeConn, as a router that hosts its
// I2CP clients in its own process does (one end of a net.Pipe each).
func NewInProcess(opts Options) *Router { return newRouter(opts) }

// ServeConn serves c, a client connection the caller has already
// accepted or made (the router's end of a net.Pipe, say), as the router
// serves the connections its listener accepts: from the protocol byte
// on, until either side closes it. It returns at once. After Close it
// closes c and serves nothing.
func (r *Router) ServeConn(c net.Conn) { r.serve(c) }
