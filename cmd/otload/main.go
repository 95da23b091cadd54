// Command otload is go-opentracker's load tool. It measures a tracker the
// way its clients load it, and measures opentracker with the same
// workload, so both are compared by one tool on one machine.
//
//	otload i2cp --tracker ./go-opentracker   play the router: spawn the tracker
//	                                          attached to a built-in I2CP router
//	                                          and drive Datagram2 connects and
//	                                          Datagram3 announces through it
//	otload udp --spawn /usr/bin/opentracker   BEP 15 over loopback UDP (opentracker)
//	otload http --url http://127.0.0.1:7662/a HTTP announces, one connection each
//
// Every mode uses the same workload: N clients, M torrents with Zipf
// popularity, announces at the highest rate the tracker answers (a window
// of requests in flight), for a bounded duration. The report gives
// answered/s, loss, latency percentiles, and — with the tracker's pid,
// known when otload spawns it — the tracker's CPU seconds and RSS, so
// "announces per tracker CPU-second" compares trackers fairly even though
// the load generator shares the machine.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// workload is what every mode drives.
type workload struct {
	clients  int
	torrents int
	duration time.Duration
	window   int
	warmup   time.Duration
	jsonOut  bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: otload i2cp|udp|http [flags]  (otload MODE -h for flags)")
		return 2
	}
	mode, args := args[0], args[1:]
	fl := flag.NewFlagSet("otload "+mode, flag.ContinueOnError)
	fl.SetOutput(stderr)
	var w workload
	fl.IntVar(&w.clients, "clients", 2000, "virtual clients (distinct identities / peers)")
	fl.IntVar(&w.torrents, "torrents", 500, "torrents (Zipf popularity)")
	fl.DurationVar(&w.duration, "duration", 10*time.Second, "measured duration")
	fl.DurationVar(&w.warmup, "warmup", 2*time.Second, "unmeasured warm-up after connecting")
	fl.IntVar(&w.window, "window", 512, "requests in flight")
	fl.BoolVar(&w.jsonOut, "json", false, "print the report as JSON")
	tracker := fl.String("tracker", "", "i2cp: path of the go-opentracker binary to spawn")
	spawn := fl.String("spawn", "", "udp/http: path of opentracker to spawn on loopback")
	addr := fl.String("addr", "127.0.0.1:6969", "udp: tracker address")
	url := fl.String("url", "", "http: announce URL (default: the spawned tracker's)")
	pid := fl.Int("pid", 0, "pid of an already running tracker, for CPU and RSS")
	ipParam := fl.Bool("i2p", false, "http: announce as I2P clients (ip = Base64 Destination), for go-opentracker")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	var rep report
	var err error
	switch mode {
	case "i2cp":
		rep, err = runI2CP(ctx, w, *tracker, stderr)
	case "udp":
		rep, err = runUDP(ctx, w, *addr, *spawn, *pid)
	case "http":
		rep, err = runHTTP(ctx, w, *url, *spawn, *pid, *ipParam)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(stderr, "otload:", err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	rep.Mode = mode
	if w.jsonOut {
		json.NewEncoder(stdout).Encode(rep)
	} else {
		rep.print(stdout)
	}
	return 0
}

var errUsage = errors.New("usage")
