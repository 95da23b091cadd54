package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/internal/simclient"
	"github.com/go-i2p/go-opentracker/plugin"
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
	if !o.dataGiven {
		dir, err := os.MkdirTemp("", "go-opentracker-demo-")
		if err != nil {
			log.Error("demo data directory", "err", err)
			return exitError
		}
		defer os.RemoveAll(dir)
		o.data = dir
	}
	o.i2cp = router.Addr()
	h := &host{dataDir: o.data, i2cpAddr: router.Addr(), simulated: true}
	fmt.Fprintf(stdout, "demo: router simulator on %s, data in %s\n", router.Addr(), o.data)
	return serveWith(ctx, o, stdout, log, h, 5*time.Second, func(p *plugin.Plugin, httpAddr, consoleAddr string) {
		fmt.Fprintf(stdout, "demo: %d simulated clients announce over UDP through the simulator, and every fifth one over HTTP\n"+
			"      to http://%s/a as an HTTP server tunnel would pass them on (with X-I2P-DestB64); on I2P,\n"+
			"      HTTP announces reach the tracker's own address over I2P streaming\n", o.demoClients, httpAddr)
		go demoTraffic(ctx, router, p, httpAddr, o.demoClients, log)
	})
}

// demoTraffic waits for the tracker to attach to the simulator, then
// keeps the simulated clients announcing until ctx ends.
func demoTraffic(ctx context.Context, router *i2cptest.Router, p *plugin.Plugin, httpAddr string, clients int, log *slog.Logger) {
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	err := router.WaitPublished(wctx, p.Identity().Destination.Hash())
	cancel()
	if err != nil {
		log.Error("demo: tracker never attached to the simulator", "err", err)
		return
	}
	network := simclient.NewNetwork(router, p.Identity().Destination, p.Config().TrackerPort)
	err = network.RunTraffic(ctx, simclient.Traffic{Clients: clients, HTTPAddr: httpAddr, Seed: 1, Logger: log})
	if err != nil && ctx.Err() == nil {
		log.Error("demo traffic", "err", err)
	}
}
