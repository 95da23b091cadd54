// Command otload measures a BitTorrent tracker the way its clients load
// it, and measures opentracker with the very same workload, so the two
// are compared by one tool on one machine in one run.
//
//	otload udp  -opentracker /usr/bin/opentracker   BEP 15 over loopback UDP
//	otload http -opentracker /usr/bin/opentracker   HTTP announces
//	otload i2cp -spawn ./go-opentracker             otload plays the I2P router
//	otload http -spawn ./go-opentracker -i2p        go-opentracker's HTTP tracker
//	otload stream -spawn ./go-opentracker           HTTP over I2P streaming, otload the router
//	otload hashes -torrents 1000                    the workload's info hashes
//
// In i2cp mode otload listens as an I2CP router (package i2cptest); the
// tracker attaches to it (started by otload with -spawn, or by hand with
// --i2cp ADDR), and virtual clients — distinct I2P identities — send
// Datagram2 connects and Datagram3 announces through it, so the tracker
// does the whole path: I2CP framing, gzip envelope, datagram decode,
// connection-id check, swarm update, reply. -delivery each has the
// router write every frame in a write of its own, as a router does when
// messages reach it one by one (default: batch, the frames queued for
// the tracker go out together).
//
// In stream mode otload plays the router too, and each virtual client is
// a streaming Manager with an identity of its own: an announce is one
// stream (the request in its signed SYN, as i2pd's HTTP proxy sends it),
// so the tracker does the whole path of HTTP over I2P streaming: I2CP
// framing, gzip, the SYN's signature check, the stream, net/http, the
// announce and the reply. -hold N then opens N streams that never finish
// their request and reports the tracker's memory per open stream.
//
// Phases: connect (one per client; datagram modes), populate (-populate:
// every (client, torrent) pair announces started once), steady (the
// announce mix for -duration or -requests). -mem reports the tracker's
// RSS per peer once populated; -restart (with -spawn) restarts the tracker
// and times it back to serving its persisted peers. With the tracker's
// pid (known when otload starts it, or -pid) the report gives its CPU
// time and announces per tracker CPU-second, the fair figure while the
// generator shares the machine.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/go-i2p/go-opentracker/internal/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	mode     string
	workload loadgen.Config
	engine   loadgen.EngineConfig
	duration time.Duration
	requests int64
	populate bool
	mem      bool
	restart  bool
	settle   time.Duration
	jsonOut  bool

	pid         int
	name        string
	opentracker string
	spawn       string
	dataDir     string
	trackerCPUs string

	target    string
	path      string
	conns     int
	keepAlive bool
	i2pIP     bool

	listen   string
	port     uint
	register bool
	delivery delivery
	wait     time.Duration
	hold     int
}

var errUsage = errors.New("usage")

// delivery is how otload's router writes frames to the tracker: eachFrame
// false (the zero value, "batch") puts those queued together in one
// write, true ("each") gives every frame a write of its own.
type delivery struct{ eachFrame bool }

func (d *delivery) String() string {
	if d.eachFrame {
		return "each"
	}
	return "batch"
}

func (d *delivery) Set(v string) error {
	switch v {
	case "batch", "each":
		d.eachFrame = v == "each"
		return nil
	}
	return errors.New("batch or each")
}

const usage = `usage: otload udp|http|i2cp|stream|hashes [flags]   (otload MODE -h lists the flags)`

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return o, errUsage
	}
	switch args[0] {
	case "udp", "http", "i2cp", "stream", "hashes":
	default:
		fmt.Fprintln(stderr, usage)
		return o, errUsage
	}
	o.mode, args = args[0], args[1:]
	fl := flag.NewFlagSet("otload "+o.mode, flag.ContinueOnError)
	fl.SetOutput(stderr)
	c := &o.workload
	fl.IntVar(&c.Clients, "clients", 10000, "virtual clients (distinct peers)")
	fl.IntVar(&c.Torrents, "torrents", 1000, "torrents (Zipf popularity)")
	fl.IntVar(&c.SwarmsPerClient, "swarms", 1, "torrents each client is in")
	fl.Float64Var(&c.ZipfS, "zipf", 1.1, "Zipf exponent of torrent popularity (> 1)")
	fl.Uint64Var(&c.Seed, "seed", 1, "seed of every random choice")
	fl.Float64Var(&c.SeedFraction, "seeds", 0.3, "share of (client, torrent) pairs that are seeds")
	fl.Float64Var(&c.ScrapeFraction, "scrapes", 0, "share of steady requests that are scrapes (datagram modes)")
	numWant := fl.Int("numwant", 50, "peers asked for per announce (negative: the tracker's default)")
	fl.DurationVar(&o.duration, "duration", 10*time.Second, "steady phase duration (0: none)")
	fl.Int64Var(&o.requests, "requests", 0, "steady phase request count (0: bounded by -duration only)")
	fl.BoolVar(&o.populate, "populate", false, "announce every (client, torrent) pair once before the steady phase")
	fl.BoolVar(&o.mem, "mem", false, "populate, then report the tracker's RSS per peer (no steady phase unless -duration is given)")
	fl.BoolVar(&o.restart, "restart", false, "with -spawn: restart the tracker after the run and time it back to serving")
	fl.DurationVar(&o.settle, "settle", 2*time.Second, "with -mem: wait before reading the loaded RSS")
	fl.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	e := &o.engine
	fl.IntVar(&e.Workers, "workers", 4, "sender goroutines (datagram modes; one socket each in udp mode)")
	fl.IntVar(&e.Window, "window", 32, "requests in flight per worker (a power of two)")
	fl.Float64Var(&e.Rate, "rate", 0, "requests a second over all workers (0: as fast as the window allows)")
	fl.DurationVar(&e.Timeout, "timeout", 2*time.Second, "a request unanswered this long is lost")
	fl.IntVar(&o.pid, "pid", 0, "pid of a running tracker to sample (CPU, RSS)")
	fl.StringVar(&o.name, "name", "", "tracker name in the report")
	fl.StringVar(&o.opentracker, "opentracker", "", "udp, http: start this opentracker binary on a free loopback port")
	fl.StringVar(&o.spawn, "spawn", "", "i2cp, http, stream: start this go-opentracker binary attached to otload's router")
	fl.StringVar(&o.dataDir, "data", "", "with -spawn: the tracker's data directory (default: a fresh temporary one)")
	fl.StringVar(&o.trackerCPUs, "tracker-cpus", "", "run the started tracker under taskset -c LIST")
	fl.StringVar(&o.target, "target", "127.0.0.1:6969", "udp, http: the tracker's address (unless started by otload)")
	fl.StringVar(&o.path, "path", "/announce", "http: announce path")
	fl.IntVar(&o.conns, "conns", 16, "http, stream: concurrent requests")
	fl.IntVar(&o.hold, "hold", 0, "stream: after the run, hold this many streams open and report the tracker's memory per open stream")
	fl.BoolVar(&o.keepAlive, "keepalive", false, "http: reuse connections (default: one connection per request)")
	fl.BoolVar(&o.i2pIP, "i2p", false, "http: announce as I2P clients through a server tunnel (ip and X-I2P-DestB64 = a Base64 Destination per client; 32-byte peers)")
	fl.StringVar(&o.listen, "listen", "127.0.0.1:0", "i2cp: the router's I2CP listen address")
	fl.UintVar(&o.port, "port", 6969, "i2cp: the tracker's UDP tracker port on I2P")
	fl.BoolVar(&o.register, "register", true, "i2cp: the router answers lookups for the virtual clients")
	fl.Var(&o.delivery, "delivery", "i2cp: batch (frames queued together go out in one write) or each (one write a frame)")
	fl.DurationVar(&o.wait, "wait", 5*time.Minute, "i2cp without -spawn: how long to wait for the tracker's session")
	if err := fl.Parse(args); err != nil {
		return o, errUsage
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "otload: unexpected argument %q\n", fl.Arg(0))
		return o, errUsage
	}
	durationSet := false
	fl.Visit(func(f *flag.Flag) { durationSet = durationSet || f.Name == "duration" })
	if o.mem {
		o.populate = true
		if !durationSet {
			o.duration = 0
		}
	}
	c.NumWant = int32(max(*numWant, -1))
	if bad := checkOptions(o); bad != "" {
		fmt.Fprintln(stderr, "otload:", bad)
		return o, errUsage
	}
	return o, nil
}

// checkOptions says what is wrong with a combination of flags, or "".
func checkOptions(o options) string {
	c := &o.workload
	var bad string
	switch {
	case o.opentracker != "" && o.spawn != "":
		bad = "-opentracker and -spawn exclude each other"
	case (o.mode == "i2cp" || o.mode == "stream") && o.opentracker != "":
		bad = "opentracker does not speak I2CP: use udp or http mode"
	case o.mode == "udp" && o.spawn != "":
		bad = "go-opentracker serves UDP announces over I2P only: use i2cp mode"
	case o.restart && o.spawn == "":
		bad = "-restart needs -spawn"
	case (o.mode == "http" || o.mode == "stream") && c.ScrapeFraction > 0:
		bad = o.mode + " mode sends announces only"
	case o.hold < 0 || o.hold > 0 && o.mode != "stream":
		bad = "-hold is for stream mode"
	case o.port == 0 || o.port > 65535:
		bad = "-port out of range"
	case o.conns < 1 || o.conns > 4096:
		bad = "-conns out of 1..4096"
	case o.duration < 0 || o.requests < 0:
		bad = "negative -duration or -requests"
	}
	return bad
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if err != nil {
		return 2
	}
	if o.mode == "hashes" {
		w, err := loadgen.NewWorkload(o.workload)
		if err == nil {
			err = writeWhitelist(stdout, w)
		}
		if err != nil {
			fmt.Fprintln(stderr, "otload:", err)
			return 1
		}
		return 0
	}
	rep, err := measure(ctx, o, stderr)
	if rep != nil {
		if o.jsonOut {
			rep.WriteJSON(stdout)
		} else {
			rep.WriteText(stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "otload:", err)
		return 1
	}
	return 0
}

func newReport(o options, w *loadgen.Workload) *loadgen.Report {
	return &loadgen.Report{Tool: "otload", Date: time.Now().UTC().Format(time.RFC3339), Mode: o.mode, Tracker: o.name,
		CPUs: runtime.NumCPU(), Workload: w.Config()}
}
