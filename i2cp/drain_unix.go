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
	r := &rawReader{rc: rc}
	r.try = r.tryRead
	return r.read
}

// rawReader holds one read's state, so that the function the runtime
// calls back is made once, not once a read (it would escape to the
// heap). Only the frame reader's goroutine uses it.
type rawReader struct {
	rc         syscall.RawConn
	try        func(fd uintptr) bool // r.tryRead
	p          []byte
	beforeWait func() error
	n          int
	rerr, werr error
	ran        bool
}

func (r *rawReader) read(p []byte, beforeWait func() error) (int, error) {
	r.p, r.beforeWait, r.n, r.rerr, r.werr, r.ran = p, beforeWait, 0, nil, nil, false
	cerr := r.rc.Read(r.try)
	n, rerr, werr := r.n, r.rerr, r.werr
	r.p, r.beforeWait = nil, nil
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

// tryRead reads the descriptor once; when it has nothing, it runs
// beforeWait (the first time) and returns false, and the runtime calls
// it again once the descriptor is readable.
func (r *rawReader) tryRead(fd uintptr) bool {
	for {
		r.n, r.rerr = syscall.Read(int(fd), r.p)
		if !errors.Is(r.rerr, syscall.EINTR) {
			break
		}
	}
	if !errors.Is(r.rerr, syscall.EAGAIN) {
		return true
	}
	if !r.ran {
		r.ran = true
		if r.werr = r.beforeWait(); r.werr != nil {
			return true
		}
	}
	return false
}
