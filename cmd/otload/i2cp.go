package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/loadgen"
)

// i2cpNet plays the router for the tracker: virtual clients (I2P
// identities that are not I2CP sessions) inject gzip-enveloped datagrams
// into the tracker's session, and the tracker's raw replies come back
// through the router's OnSend hook.
type i2cpNet struct {
	router   *i2cptest.Router
	tracker  i2p.Hash
	port     uint16 // the tracker's UDP tracker port on I2P
	seed     uint64
	register bool
	hashes   []i2p.Hash // each client's, known from its first connect
	e        *loadgen.Engine
	scratch  sync.Pool
	// bad counts envelopes from the tracker that were not raw datagrams.
	bad atomic.Uint64
}

func newI2CPNet(r *i2cptest.Router, tracker i2p.Hash, port uint16, w *loadgen.Workload, e *loadgen.Engine, register bool) *i2cpNet {
	n := &i2cpNet{router: r, tracker: tracker, port: port, seed: w.Config().Seed, register: register,
		hashes: make([]i2p.Hash, w.Clients()), e: e}
	n.scratch.New = func() any { b := make([]byte, 0, 4096); return &b }
	r.OnSend(n.onSend)
	return n
}

func (n *i2cpNet) onSend(_ i2p.Hash, _ i2p.Destination, env []byte) {
	sp := n.scratch.Get().(*[]byte)
	defer n.scratch.Put(sp)
	h, data, err := i2cp.ParseGzip(env, sp)
	if err != nil || h.Protocol != datagram.ProtocolRaw {
		n.bad.Add(1)
		return
	}
	n.e.Deliver(data)
}

// identity makes client c's keys, the same for a seed in every run (so a
// restarted tracker sees the same peers), and notes its hash.
func (n *i2cpNet) identity(c int32) (*i2p.PrivateKeys, error) {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], n.seed)
	binary.LittleEndian.PutUint32(s[8:], uint32(c))
	copy(s[12:], "otload i2cp client")
	k, err := i2p.NewIdentity(rand.NewChaCha8(s))
	if err != nil {
		return nil, err
	}
	n.hashes[c] = k.Destination.Hash()
	if n.register {
		n.router.Register(k.Destination)
	}
	return k, nil
}

func (n *i2cpNet) asyncConns(workers int) []loadgen.AsyncConn {
	out := make([]loadgen.AsyncConn, workers)
	for i := range out {
		out[i] = &i2cpConn{n: n, dg: make([]byte, 0, 1024), env: make([]byte, 0, 1024)}
	}
	return out
}

// i2cpConn is one worker's sender.
type i2cpConn struct {
	n       *i2cpNet
	dg, env []byte
}

func (c *i2cpConn) Send(client int32, kind loadgen.Kind, payload []byte) error {
	n := c.n
	var (
		err   error
		proto uint8 = datagram.ProtocolDatagram3
	)
	if kind == loadgen.KindConnect {
		keys, err := n.identity(client)
		if err != nil {
			return err
		}
		proto = datagram.ProtocolDatagram2
		if c.dg, err = datagram.AppendDatagram2(c.dg[:0], keys, n.tracker, nil, payload); err != nil {
			return err
		}
	} else if c.dg, err = datagram.AppendDatagram3(c.dg[:0], n.hashes[client], nil, payload); err != nil {
		return err
	}
	c.env = i2cp.AppendGzip(c.env[:0], i2cp.Header{Protocol: proto, FromPort: 6881, ToPort: n.port}, c.dg)
	return n.router.Inject(n.tracker, c.env)
}

// waitSession waits for the first published session on the router: the
// tracker's, when otload does not start it.
func waitSession(ctx context.Context, r *i2cptest.Router, timeout time.Duration) (i2p.Hash, error) {
	deadline := time.Now().Add(timeout)
	for {
		if s := r.Sessions(); len(s) > 0 {
			return s[0].Hash(), nil
		}
		if time.Now().After(deadline) {
			return i2p.Hash{}, fmt.Errorf("no tracker attached to the router at %s within %v", r.Addr(), timeout)
		}
		select {
		case <-ctx.Done():
			return i2p.Hash{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
