package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/simclient"
	"github.com/go-i2p/go-opentracker/plugin"
	"github.com/go-i2p/go-opentracker/tracker/udptracker"
)

// runDemo runs the real tracker against the built-in router simulator on
// loopback, with simulated clients announcing over UDP and HTTP, so a
// newcomer sees a live console without any I2P router. Its data goes to a
// fresh temporary directory unless --data is given explicitly.
func runDemo(ctx context.Context, o options, stdout io.Writer, log *slog.Logger) int {
	router, err := i2cptest.NewRouter("127.0.0.1:0", i2cptest.Options{Logger: log})
	if err != nil {
		log.Error("demo router", "err", err)
		return exitError
	}
	defer router.Close()
	if o.data == "" || o.data == envOr("GO_OPENTRACKER_DATA", defaultDataDir()) {
		dir, err := os.MkdirTemp("", "go-opentracker-demo-")
		if err != nil {
			log.Error("demo data directory", "err", err)
			return exitError
		}
		defer os.RemoveAll(dir)
		o.data = dir
	}
	o.i2cp = router.Addr()
	h := &host{dataDir: o.data, i2cpAddr: router.Addr()}
	fmt.Fprintf(stdout, "demo: router simulator on %s, data in %s\n", router.Addr(), o.data)
	return serveWith(ctx, o, stdout, log, h, 5*time.Second, func(p *plugin.Plugin, httpAddr, consoleAddr string) {
		go demoTraffic(ctx, router, p, httpAddr, o.demoClients, log)
	})
}

// demoTraffic keeps simulated clients announcing: most over UDP through
// the simulator, some over HTTP to the tracker's listener. Torrent
// popularity is Zipf-distributed, as on real trackers.
func demoTraffic(ctx context.Context, router *i2cptest.Router, p *plugin.Plugin, httpAddr string, clients int, log *slog.Logger) {
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	err := router.WaitPublished(wctx, p.Identity().Destination.Hash())
	cancel()
	if err != nil {
		log.Error("demo: tracker never attached to the simulator", "err", err)
		return
	}
	network := simclient.NewNetwork(router, p.Identity().Destination, p.Config().TrackerPort)
	const torrents = 60
	infos := make([][20]byte, torrents)
	for i := range infos {
		rand.Read(infos[i][:])
	}
	zipf := mrand.NewZipf(mrand.New(mrand.NewPCG(1, 2)), 1.2, 1, torrents-1)
	type sim struct {
		c    *simclient.Client
		info [20]byte
		left uint64
		udp  bool
	}
	sims := make([]*sim, 0, clients)
	for i := range clients {
		c, err := network.NewClient(uint16(10000+i), true)
		if err != nil {
			log.Error("demo client", "err", err)
			return
		}
		sims = append(sims, &sim{c: c, info: infos[zipf.Uint64()], left: uint64(mrand.IntN(3)) * 1 << 20, udp: i%5 != 0})
	}
	httpc := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		s := sims[n%len(sims)]
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		event := udptracker.EventNone
		if s.c.ConnID == 0 {
			event = udptracker.EventStarted
		}
		if s.left > 0 && mrand.IntN(10) == 0 {
			s.left, event = 0, udptracker.EventCompleted
		}
		if s.udp {
			if s.c.ConnID == 0 {
				if err := s.c.Connect(rctx); err != nil {
					log.Debug("demo: connect", "err", err)
				}
			}
			if _, err := s.c.Announce(rctx, s.info, event, s.left, -1); err != nil {
				log.Debug("demo: announce", "err", err)
			}
		} else {
			s.c.ConnID = 1
			httpAnnounce(rctx, httpc, httpAddr, s.c.Keys.Destination, s.info, s.left, event)
		}
		cancel()
	}
}

func httpAnnounce(ctx context.Context, c *http.Client, addr string, d i2p.Destination, info [20]byte, left uint64, event uint32) {
	h := d.Hash()
	q := url.Values{"info_hash": {string(info[:])}, "peer_id": {string(h[:20])}, "port": {"6881"},
		"left": {fmt.Sprint(left)}, "compact": {"1"}, "ip": {d.Base64() + ".i2p"}}
	if event == udptracker.EventCompleted {
		q.Set("event", "completed")
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/a?"+q.Encode(), nil)
	resp, err := c.Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
