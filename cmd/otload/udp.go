package main

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/go-i2p/go-opentracker/internal/loadgen"
)

// maxPortsPerAddress is how many virtual clients share one source
// address: a tracker on IP knows a peer by address and announced port.
const maxPortsPerAddress = 65535

// sourceIP is UDP worker i's loopback source address: 127.1.x.y, so each
// worker's clients are peers of their own address.
func sourceIP(i int) net.IP { return net.IPv4(127, 1, byte(i/250), byte(1+i%250)) }

// clientPort is the port client c announces over UDP: its ordinal among
// the clients of its worker, from 1.
func clientPort(c int32, workers int) uint16 { return uint16(1 + int(c)/workers) }

// udpNet is BEP 15 over loopback UDP: one connected socket per worker,
// each with a reader goroutine that hands replies to the engine.
type udpNet struct {
	conns []*net.UDPConn
	wg    sync.WaitGroup
}

func dialUDP(target string, workers int, e *loadgen.Engine) (*udpNet, error) {
	raddr, err := net.ResolveUDPAddr("udp4", target)
	if err != nil {
		return nil, fmt.Errorf("udp target: %w", err)
	}
	if !raddr.IP.IsLoopback() {
		return nil, fmt.Errorf("udp target %s is not on loopback", target)
	}
	n := &udpNet{}
	for i := range workers {
		c, err := net.DialUDP("udp4", &net.UDPAddr{IP: sourceIP(i)}, raddr)
		if err != nil {
			n.close()
			return nil, fmt.Errorf("udp socket %d: %w", i, err)
		}
		c.SetReadBuffer(4 << 20)
		c.SetWriteBuffer(4 << 20)
		n.conns = append(n.conns, c)
		n.wg.Add(1)
		go n.read(c, e)
	}
	return n, nil
}

func (n *udpNet) read(c *net.UDPConn, e *loadgen.Engine) {
	defer n.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		k, err := c.Read(buf)
		switch {
		case err == nil:
			e.Deliver(buf[:k])
		case errors.Is(err, net.ErrClosed):
			return
		default:
			// ECONNREFUSED from an ICMP error: nobody listens (yet).
			time.Sleep(time.Millisecond)
		}
	}
}

// asyncConns returns the per-worker senders.
func (n *udpNet) asyncConns() []loadgen.AsyncConn {
	out := make([]loadgen.AsyncConn, len(n.conns))
	for i, c := range n.conns {
		out[i] = udpConn{c}
	}
	return out
}

func (n *udpNet) close() {
	for _, c := range n.conns {
		c.Close()
	}
	n.wg.Wait()
}

type udpConn struct{ c *net.UDPConn }

func (u udpConn) Send(_ int32, _ loadgen.Kind, payload []byte) error {
	_, err := u.c.Write(payload)
	return err
}
