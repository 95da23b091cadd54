//go:build !unix

package i2cp

import "net"

// rawRead: off Unix every read goes through net.Conn, and beforeWait
// runs before each.
func rawRead(net.Conn) func(p []byte, beforeWait func() error) (int, error) { return nil }
