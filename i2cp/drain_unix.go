//go:build unix

package i2cp

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// rawRead returns, for a connection with a descriptor, a read that runs
// beforeWait when the descriptor has nothing to read and then waits on
// the runtime's poller, as net.Conn's Read does; nil for any other.
func rawRead(conn net.Conn) func(p []byte, beforeWait func() error) (int, error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return func(p []byte, beforeWait func() error) (int, error) {
		var n int
		var rerr, werr error
		ran := false
		cerr := rc.Read(func(fd uintptr) bool {
			for {
				n, rerr = syscall.Read(int(fd), p)
				if !errors.Is(rerr, syscall.EINTR) {
					break
				}
			}
			if !errors.Is(rerr, syscall.EAGAIN) {
				return true
			}
			if !ran {
				ran = true
				if werr = beforeWait(); werr != nil {
					return true
				}
			}
			return false // wait until readable, then call again
		})
		switch {
		case werr != nil:
			return 0, werr
		case cerr != nil:
			return 0, cerr // closed, or past a deadline
		case rerr != nil:
			return 0, os.NewSyscallError("read", rerr)
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}
