//go:build linux

package httpserver

import (
	"bytes"
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// deferAcceptSeconds is how long the kernel holds a new connection that
// has sent nothing yet (TCP_DEFER_ACCEPT): the accept loop then finds the
// request already there and reads it without waiting.
const deferAcceptSeconds = 5

// acceptBurst is the most connections one accept round takes before it
// lets go of the listener and answers them.
const acceptBurst = 16

// serveFast answers on a TCP listener without a goroutine per connection:
// GOMAXPROCS workers take turns accepting a burst of connections each
// (accept4 on the non-blocking listener, waiting in Go's poller when none
// is pending) and answer each with one read, one write and one close
// when its request came whole and asked to close. A connection that does
// more goes on as a net.Conn to serveConnFast or net/http.
func (s *Server) serveFast(ln net.Listener, resp Responder) error {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return s.serveConns(ln, resp)
	}
	// A listener's own RawConn cannot wait for readiness; a duplicate of
	// its descriptor, as an *os.File in the runtime's poller, can.
	f, err := tl.File()
	if err != nil {
		return s.serveConns(ln, resp)
	}
	if !s.holdDup(f) {
		f.Close()
		return ErrServerClosed
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return s.serveConns(ln, resp)
	}
	_ = rc.Control(func(fd uintptr) {
		// Best effort: without it the first read may find nothing and the
		// connection takes the goroutine path.
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_DEFER_ACCEPT, deferAcceptSeconds)
	})
	workers := runtime.GOMAXPROCS(0)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.acceptLoop(rc, resp)
		}()
	}
	err = <-errs
	f.Close() // the other workers stop too
	ln.Close()
	wg.Wait()
	return err
}

// acceptLoop is one worker: accept a burst, answer it, repeat, until the
// listener closes.
func (s *Server) acceptLoop(rc syscall.RawConn, resp Responder) error {
	w := &worker{s: s, resp: resp, in: make([]byte, maxHead)}
	var fds [acceptBurst]int
	var backoff time.Duration
	for {
		n := 0
		var acceptErr error
		err := rc.Read(func(lfd uintptr) bool {
			for n < len(fds) {
				fd, _, err := syscall.Accept4(int(lfd), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
				switch {
				case err == nil:
					fds[n] = fd
					n++
				case err == syscall.EAGAIN:
					return n > 0 // nothing pending: wait in the poller
				case err == syscall.EINTR, err == syscall.ECONNABORTED:
				default:
					acceptErr = err // out of descriptors, say
					return true
				}
			}
			return true
		})
		if err != nil {
			return err // the listener closed
		}
		for _, fd := range fds[:n] {
			w.serve(fd)
		}
		if acceptErr != nil {
			backoff = s.pause(backoff, acceptErr)
		} else {
			backoff = 0
		}
	}
}

// worker holds one accept loop's buffers.
type worker struct {
	s          *Server
	resp       Responder
	in         []byte
	reply, out []byte
}

// serve answers the connection fd: in full when its request came whole
// and asked to close, else it passes the connection on.
func (w *worker) serve(fd int) {
	n, err := syscall.Read(fd, w.in)
	if err == syscall.EAGAIN || err == syscall.EINTR {
		w.passOn(fd, carried{}) // nothing yet: wait for it in a goroutine
		return
	}
	if err != nil || n <= 0 {
		syscall.Close(fd)
		return
	}
	in := w.in[:n]
	var req Request
	hl, err := ParseRequest(in, &req)
	switch err {
	case nil:
	case ErrIncomplete:
		w.passOn(fd, carried{buffered: in})
		return
	default:
		w.toStd(fd, in)
		return
	}
	var ok bool
	w.reply, w.out, ok = w.s.answer(w.resp, &req, w.reply, w.out)
	if !ok {
		w.toStd(fd, in)
		return
	}
	rest := in[hl:]
	if req.Close {
		rest = nil // anything after a closing request is not read
	}
	written, err := syscall.Write(fd, w.reply)
	switch {
	case err == syscall.EAGAIN || err == syscall.EINTR || (err == nil && written < len(w.reply)):
		w.passOn(fd, carried{out: w.reply[max(written, 0):], buffered: rest, closeAfter: req.Close, answered: true})
	case err != nil || req.Close:
		syscall.Close(fd)
	default:
		w.passOn(fd, carried{buffered: rest, answered: true}) // kept alive: a goroutine waits for more
	}
}

// passOn turns fd into a net.Conn served by serveConnFast; the slices in
// from are copied.
func (w *worker) passOn(fd int, from carried) {
	c := w.hold(fd)
	if c == nil {
		return
	}
	from.out, from.buffered = bytes.Clone(from.out), bytes.Clone(from.buffered)
	go w.s.serveConnFast(c, w.resp, from)
}

// toStd passes fd and the bytes read from it to net/http.
func (w *worker) toStd(fd int, in []byte) {
	c := w.hold(fd)
	if c != nil && !w.s.handOff(c, in) {
		c.Close()
	}
}

// hold makes a net.Conn of fd holding one of the server's slots; it is
// nil, and fd closed, when the connection fails or is refused.
func (w *worker) hold(fd int) net.Conn {
	l := &w.s.held
	if l.open.Load() >= l.max {
		l.refusedTotal.Add(1) // refused before it costs a second descriptor
		syscall.Close(fd)
		return nil
	}
	c, err := fdConn(fd)
	if err != nil {
		w.s.logger().Debug("HTTP server: connection", "err", err)
		return nil
	}
	h, _ := w.s.hold(c)
	return h
}

// fdConn makes a net.Conn of an accepted socket (the runtime's poller
// takes it over); fd is closed either way.
func fdConn(fd int) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), "tcp")
	if f == nil {
		syscall.Close(fd)
		return nil, errors.New("accepted descriptor is invalid")
	}
	defer f.Close()
	return net.FileConn(f)
}

// descriptorBudget is want, lowered to leave room in the process's
// descriptor limit for the store, the other listeners and the accept
// loop's own descriptors.
func descriptorBudget(want int) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > uint64(1<<30) {
		return want
	}
	cur := int(lim.Cur)
	return max(min(want, max(cur/2, cur-256)), 1)
}
