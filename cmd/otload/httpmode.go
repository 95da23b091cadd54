package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// runHTTP sends announces with one connection per request (as wrk with
// "Connection: close"), window of them in flight.
func runHTTP(ctx context.Context, w workload, announceURL, spawn string, pid int, asI2P bool) (report, error) {
	if spawn != "" {
		addr := "127.0.0.1:6969"
		cmd, err := spawnOpentracker(ctx, spawn, addr, w.torrents)
		if err != nil {
			return report{}, err
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		pid = cmd.Process.Pid
		if announceURL == "" {
			announceURL = "http://" + addr + "/announce"
		}
	}
	if announceURL == "" {
		return report{}, fmt.Errorf("%w: http mode needs --url or --spawn", errUsage)
	}
	// Pre-build one query per client.
	queries := make([]string, w.clients)
	zipf := mrand.NewZipf(mrand.New(mrand.NewPCG(5, 6)), 1.1, 1, uint64(w.torrents-1))
	for i := range queries {
		info := infoHash(zipf.Uint64())
		var pid [20]byte
		copy(pid[:], "-OL0001-")
		binary.BigEndian.PutUint32(pid[12:], uint32(i))
		q := url.Values{"info_hash": {string(info[:])}, "peer_id": {string(pid[:])}, "port": {strconv.Itoa(1024 + i%60000)},
			"left": {strconv.Itoa(i % 3)}, "compact": {"1"}, "numwant": {"50"}}
		if asI2P {
			k, err := i2p.NewIdentity(rand.Reader)
			if err != nil {
				return report{}, err
			}
			q.Set("ip", k.Destination.Base64()+".i2p")
		}
		queries[i] = announceURL + "?" + q.Encode()
	}
	tr := &http.Transport{DisableKeepAlives: true, MaxConnsPerHost: 0}
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	var lat latencies
	var measuring atomic.Bool
	var sent, answered, errs atomic.Int64
	runCtx, cancel := context.WithTimeout(ctx, w.warmup+w.duration)
	defer cancel()
	var next atomic.Uint64
	var wg sync.WaitGroup
	for range w.window {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for runCtx.Err() == nil {
				q := queries[next.Add(1)%uint64(len(queries))]
				start := time.Now()
				resp, err := client.Get(q)
				m := measuring.Load()
				if m {
					sent.Add(1)
				}
				if err != nil {
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !m {
					continue
				}
				if resp.StatusCode == 200 && len(b) > 0 && !contains(b, "failure reason") {
					answered.Add(1)
					lat.add(time.Since(start))
				} else {
					errs.Add(1)
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

func contains(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}
