//go:build !linux

package httpserver

import "net"

// serveFast serves ln with a goroutine per connection: the accept loop
// that answers without one is Linux-only.
func (s *Server) serveFast(ln net.Listener, resp Responder) error {
	return s.serveConns(ln, resp)
}

// descriptorBudget is want: the descriptor limit is read on Linux only.
func descriptorBudget(want int) int { return want }
