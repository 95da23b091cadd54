package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker/udptracker"
)

// vclient is one virtual client of the i2cp mode.
type vclient struct {
	keys    *i2p.PrivateKeys
	hash    i2p.Hash
	port    uint16
	cid     atomic.Uint64
	tx      atomic.Uint32 // transaction id outstanding (0: none)
	sentAt  atomic.Int64
	torrent int
	left    uint64
}

// runI2CP plays the router for a spawned go-opentracker and drives it.
func runI2CP(ctx context.Context, w workload, trackerBin string, stderr io.Writer) (report, error) {
	if trackerBin == "" {
		return report{}, fmt.Errorf("%w: i2cp mode needs --tracker PATH (go build -o /tmp/go-opentracker ./cmd/go-opentracker)", errUsage)
	}
	router, err := i2cptest.NewRouter("127.0.0.1:0", i2cptest.Options{QueueLen: 1 << 17})
	if err != nil {
		return report{}, err
	}
	defer router.Close()
	dir, err := os.MkdirTemp("", "otload-tracker-")
	if err != nil {
		return report{}, err
	}
	defer os.RemoveAll(dir)
	cmd := exec.CommandContext(ctx, trackerBin, "--data", dir, "--i2cp", router.Addr(),
		"--http", "127.0.0.1:0", "--console", "127.0.0.1:0", "--log-level", "warn")
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return report{}, fmt.Errorf("spawn tracker: %w", err)
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()

	// The tracker's session appears on the router.
	var tracker i2p.Destination
	for deadline := time.Now().Add(20 * time.Second); tracker.IsZero(); {
		if s := router.Sessions(); len(s) > 0 {
			tracker = s[0]
			break
		}
		if time.Now().After(deadline) {
			return report{}, fmt.Errorf("the tracker never attached to the router")
		}
		time.Sleep(20 * time.Millisecond)
	}

	clients := make([]*vclient, w.clients)
	byHash := make(map[i2p.Hash]*vclient, w.clients)
	zipf := mrand.NewZipf(mrand.New(mrand.NewPCG(7, 9)), 1.1, 1, uint64(w.torrents-1))
	for i := range clients {
		k, err := i2p.NewIdentity(rand.Reader)
		if err != nil {
			return report{}, err
		}
		c := &vclient{keys: k, hash: k.Destination.Hash(), port: uint16(1024 + i%60000), torrent: int(zipf.Uint64())}
		if i%3 != 0 {
			c.left = 1 << 20
		}
		clients[i] = c
		byHash[c.hash] = c
		router.Register(k.Destination)
	}
	infos := make([][20]byte, w.torrents)
	for i := range infos {
		infos[i] = infoHash(uint64(i))
	}

	var lat latencies
	var measuring atomic.Bool
	var answered, errs, inflight atomic.Int64
	notify := make(chan struct{}, 1)
	router.OnSend(func(from i2p.Hash, to i2p.Destination, env []byte) {
		c := byHash[to.Hash()]
		if c == nil {
			return
		}
		var scratch []byte
		_, data, err := i2cp.ParseGzip(env, &scratch)
		if err != nil || len(data) < 8 {
			return
		}
		tx := binary.BigEndian.Uint32(data[4:])
		if !c.tx.CompareAndSwap(tx, 0) {
			return // late reply to a request already given up
		}
		switch binary.BigEndian.Uint32(data) {
		case udptracker.ActionConnect:
			if len(data) >= 16 {
				c.cid.Store(binary.BigEndian.Uint64(data[8:]))
			}
		case udptracker.ActionAnnounce:
			if measuring.Load() {
				answered.Add(1)
				lat.add(time.Duration(time.Now().UnixNano() - c.sentAt.Load()))
			}
		default:
			if measuring.Load() {
				errs.Add(1)
			}
		}
		inflight.Add(-1)
		select {
		case notify <- struct{}{}:
		default:
		}
	})
	trackerHash := tracker.Hash()
	send := func(c *vclient, proto uint8, payload []byte, buf []byte) []byte {
		var dg []byte
		if proto == datagram.ProtocolDatagram2 {
			dg, _ = datagram.AppendDatagram2(nil, c.keys, trackerHash, nil, payload)
		} else {
			dg, _ = datagram.AppendDatagram3(buf[:0], c.hash, nil, payload)
		}
		env := i2cp.AppendGzip(make([]byte, 0, i2cp.GzipLen(len(dg))), i2cp.Header{Protocol: proto, FromPort: c.port, ToPort: 6969}, dg)
		c.sentAt.Store(time.Now().UnixNano())
		inflight.Add(1)
		if err := router.Inject(trackerHash, env); err != nil {
			inflight.Add(-1)
		}
		return dg
	}

	// Connect every client (Datagram2), a window at a time.
	var txSeq atomic.Uint32
	for _, c := range clients {
		for inflight.Load() >= int64(w.window) {
			select {
			case <-notify:
			case <-time.After(50 * time.Millisecond):
			}
		}
		tx := txSeq.Add(1)
		c.tx.Store(tx)
		send(c, datagram.ProtocolDatagram2, udptracker.AppendConnectRequest(nil, tx), nil)
	}
	for deadline := time.Now().Add(10 * time.Second); inflight.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}

	// Announces: each generator goroutine owns a slice of the clients.
	var sent atomic.Int64
	var m *measure
	runCtx, cancel := context.WithTimeout(ctx, w.warmup+w.duration)
	defer cancel()
	warmEnd := time.Now().Add(w.warmup)
	var wg sync.WaitGroup
	gens := 2
	perGen := int64(w.window / gens)
	for g := range gens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload := make([]byte, 0, 128)
			buf := make([]byte, 0, 256)
			for i := g; runCtx.Err() == nil; i += gens {
				c := clients[i%len(clients)]
				if c.tx.Load() != 0 {
					if time.Now().UnixNano()-c.sentAt.Load() < int64(2*time.Second) {
						continue // still waiting on this client
					}
					c.tx.Store(0) // given up: lost
					inflight.Add(-1)
				}
				for inflight.Load() >= perGen*int64(gens) {
					select {
					case <-notify:
					case <-time.After(20 * time.Millisecond):
					}
					if runCtx.Err() != nil {
						return
					}
				}
				tx := txSeq.Add(1)
				c.tx.Store(tx)
				a := udptracker.Announce{Header: udptracker.Header{ConnectionID: c.cid.Load(), TransactionID: tx},
					InfoHash: infos[c.torrent], Left: c.left, NumWant: 50, Port: 6881}
				payload = udptracker.AppendAnnounceRequest(payload[:0], &a)
				send(c, datagram.ProtocolDatagram3, payload, buf)
				if measuring.Load() {
					sent.Add(1)
				}
			}
		}()
	}
	time.Sleep(time.Until(warmEnd))
	m = startMeasure(cmd.Process.Pid)
	measuring.Store(true)
	<-runCtx.Done()
	measuring.Store(false)
	var r report
	r.Sent, r.Answered, r.Errors = uint64(sent.Load()), uint64(answered.Load()), uint64(errs.Load())
	m.finish(&r)
	wg.Wait()
	lat.fill(&r)
	return r, nil
}
