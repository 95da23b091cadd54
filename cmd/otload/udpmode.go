package main

import (
	"context"
	"encoding/binary"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/tracker/udptracker"
)

// infoHash is the workload's k-th torrent, the same in every mode.
func infoHash(k uint64) (h [20]byte) {
	binary.BigEndian.PutUint64(h[:], k*0x9e3779b97f4a7c15+1)
	return h
}

// spawnOpentracker starts opentracker on loopback (TCP and UDP on the
// same port) and returns its process. Debian builds opentracker as a
// closed tracker (a whitelist of info hashes), so the workload's torrents
// are written to a whitelist file it is given.
func spawnOpentracker(ctx context.Context, bin, addr string, torrents int) (*exec.Cmd, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	wl, err := os.CreateTemp("", "otload-whitelist-")
	if err != nil {
		return nil, err
	}
	for k := range uint64(torrents) {
		h := infoHash(k)
		fmt.Fprintf(wl, "%x\n", h[:])
	}
	wl.Close()
	// opentracker drops to user nobody before it reads the list.
	if err := os.Chmod(wl.Name(), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "-i", host, "-p", port, "-P", port, "-w", wl.Name())
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("spawn opentracker: %w", err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return cmd, nil
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, fmt.Errorf("opentracker did not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runUDP drives BEP 15 over loopback UDP. Each socket is one group of
// clients (opentracker sees peers by address and port; each socket's
// clients use distinct announce ports and peer ids).
func runUDP(ctx context.Context, w workload, addr, spawn string, pid int) (report, error) {
	if spawn != "" {
		cmd, err := spawnOpentracker(ctx, spawn, addr, w.torrents)
		if err != nil {
			return report{}, err
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		pid = cmd.Process.Pid
	}
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return report{}, err
	}
	const sockets = 4
	type sock struct {
		c      *net.UDPConn
		cid    uint64
		sentAt [1 << 16]atomic.Int64 // by transaction id low 16 bits
	}
	var socks [sockets]*sock
	for i := range socks {
		c, err := net.DialUDP("udp", nil, raddr)
		if err != nil {
			return report{}, err
		}
		c.SetReadBuffer(4 << 20)
		defer c.Close()
		s := &sock{c: c}
		c.Write(udptracker.AppendConnectRequest(nil, 1))
		buf := make([]byte, 64)
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(buf)
		if err != nil || n < 16 {
			return report{}, fmt.Errorf("connect to %s: %v", addr, err)
		}
		s.cid = binary.BigEndian.Uint64(buf[8:])
		socks[i] = s
	}
	var lat latencies
	var measuring atomic.Bool
	var sent, answered, errs, inflight atomic.Int64
	runCtx, cancel := context.WithTimeout(ctx, w.warmup+w.duration)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range socks {
		wg.Add(2)
		go func() { // reader
			defer wg.Done()
			buf := make([]byte, 2048)
			for runCtx.Err() == nil {
				s.c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				n, err := s.c.Read(buf)
				if err != nil {
					continue
				}
				if n < 8 {
					continue
				}
				tx := binary.BigEndian.Uint32(buf[4:])
				at := s.sentAt[tx&0xffff].Swap(0)
				if at == 0 {
					continue
				}
				inflight.Add(-1)
				if !measuring.Load() {
					continue
				}
				if binary.BigEndian.Uint32(buf) == udptracker.ActionAnnounce {
					answered.Add(1)
					lat.add(time.Duration(time.Now().UnixNano() - at))
				} else {
					errs.Add(1)
				}
			}
		}()
		go func() { // writer
			defer wg.Done()
			zipf := mrand.NewZipf(mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 3)), 1.1, 1, uint64(w.torrents-1))
			payload := make([]byte, 0, 128)
			per := max(1, w.clients/sockets)
			for i := uint32(0); runCtx.Err() == nil; i++ {
				for inflight.Load() >= int64(w.window) {
					time.Sleep(20 * time.Microsecond)
					if runCtx.Err() != nil {
						return
					}
				}
				client := int(i) % per
				tx := i<<16>>16 | uint32(client)<<16
				if old := s.sentAt[tx&0xffff].Load(); old != 0 && time.Now().UnixNano()-old < int64(2*time.Second) {
					continue
				} else if old != 0 {
					s.sentAt[tx&0xffff].Store(0)
					inflight.Add(-1)
				}
				var a udptracker.Announce
				a.ConnectionID, a.TransactionID = s.cid, tx
				a.InfoHash = infoHash(zipf.Uint64())
				binary.BigEndian.PutUint32(a.PeerID[:], uint32(client))
				a.Left, a.NumWant, a.Port = uint64(client%3), 50, uint16(1024+client)
				payload = udptracker.AppendAnnounceRequest(payload[:0], &a)
				s.sentAt[tx&0xffff].Store(time.Now().UnixNano())
				inflight.Add(1)
				if _, err := s.c.Write(payload); err != nil && strings.Contains(err.Error(), "refused") {
					return
				}
				if measuring.Load() {
					sent.Add(1)
				}
			}
		}()
	}
	time.Sleep(w.warmup)
	m := startMeasure(pid)
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
