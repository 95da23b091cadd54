package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-i2p/go-opentracker/plugin"
)

// maxDemoClients bounds --clients: the simulator keeps every client's
// state in memory.
const maxDemoClients = 100_000

// logLevels are the --log-level values, in the order the help lists them.
var logLevels = []string{"debug", "info", "warn", "error"}

type options struct {
	data, i2cp, http, console string
	dataGiven                 bool // --data was on the command line
	logLevel                  string
	level                     slog.Level
	pprof                     string
	version                   bool
	identityOnly              bool
	// serving, if set, is called once the tracker serves (main uses it
	// to lower the GC target and narrow GOMAXPROCS after the restore).
	serving     func()
	demoClients int
	// stopTimeout overrides stopTimeout (tests); negative: already expired.
	stopTimeout time.Duration
	// explainAfter overrides when the router link is first explained
	// (tests).
	explainAfter time.Duration
	// wrapListener, if set, wraps the listeners before they serve
	// (tests).
	wrapListener func(net.Listener) net.Listener
}

// newFlags defines every flag on o, with its default.
func newFlags(o *options) *flag.FlagSet {
	fl := flag.NewFlagSet("go-opentracker", flag.ContinueOnError)
	// parse reports errors itself: one line, then the usage hint.
	fl.SetOutput(io.Discard)
	fl.Usage = func() {}
	fl.StringVar(&o.data, "data", envOr("GO_OPENTRACKER_DATA", defaultDataDir()), "data directory (identity, store, config); env GO_OPENTRACKER_DATA")
	fl.StringVar(&o.i2cp, "i2cp", envOr("GO_OPENTRACKER_I2CP", plugin.DefaultI2CPAddr), "router I2CP address, host:port or unix:/path; env GO_OPENTRACKER_I2CP")
	fl.StringVar(&o.http, "http", "127.0.0.1:7662", "HTTP tracker and public pages (what the router's HTTP server tunnel exposes)")
	fl.StringVar(&o.console, "console", "127.0.0.1:7663", "operator console (keep it on loopback; a password is required elsewhere)")
	fl.StringVar(&o.logLevel, "log-level", "info", strings.Join(logLevels, ", "))
	fl.StringVar(&o.pprof, "pprof", "", "serve Go profiles (CPU, heap) on this loopback address, e.g. 127.0.0.1:6060; off when empty")
	fl.BoolVar(&o.version, "version", false, "print the version and exit")
	fl.BoolVar(&o.identityOnly, "identity", false, "create or load the identity, print the addresses and exit")
	fl.IntVar(&o.demoClients, "clients", 200, fmt.Sprintf("demo: number of simulated clients, 1..%d", maxDemoClients))
	return fl
}

// parse reads the command line. It returns flag.ErrHelp for --help (the
// options hold what was parsed before it), and otherwise an error that
// says what is wrong in one line.
func parse(args []string) (cmd string, o options, err error) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	fl := newFlags(&o)
	if err := fl.Parse(args); err != nil {
		return cmd, o, err
	}
	given := map[string]bool{}
	fl.Visit(func(f *flag.Flag) { given[f.Name] = true })
	o.dataGiven = given["data"]
	switch {
	case fl.NArg() > 0:
		return cmd, o, fmt.Errorf("unexpected argument %q", fl.Arg(0))
	case cmd != "" && cmd != "demo":
		return cmd, o, fmt.Errorf("unknown command %q (want no command, or demo)", cmd)
	case given["clients"] && cmd != "demo":
		return cmd, o, errors.New("--clients applies to the demo only (go-opentracker demo --clients N)")
	case cmd == "demo" && o.identityOnly:
		return cmd, o, errors.New("--identity and demo do not go together: the demo's identity is thrown away")
	}
	return cmd, o, o.check()
}

// check refuses values out of range.
func (o *options) check() error {
	if o.demoClients < 1 || o.demoClients > maxDemoClients {
		return fmt.Errorf("--clients %d: must be 1..%d", o.demoClients, maxDemoClients)
	}
	level, err := parseLevel(o.logLevel)
	if err != nil {
		return err
	}
	o.level = level
	if o.data == "" {
		return errors.New("--data: must not be empty")
	}
	if path, ok := strings.CutPrefix(o.i2cp, "unix:"); ok {
		if path == "" {
			return errors.New("--i2cp unix:: want unix:/path/to/socket")
		}
	} else if err := checkAddr("--i2cp", o.i2cp, false); err != nil {
		return err
	}
	for _, a := range []struct{ name, addr string }{{"--http", o.http}, {"--console", o.console}, {"--pprof", o.pprof}} {
		if a.name == "--pprof" && a.addr == "" {
			continue
		}
		if err := checkAddr(a.name, a.addr, true); err != nil {
			return err
		}
	}
	if o.pprof != "" && !isLoopback(o.pprof) {
		return fmt.Errorf("--pprof %s: profiles are served on a loopback address only", o.pprof)
	}
	return nil
}

// parseLevel reads a --log-level value, in any case.
func parseLevel(s string) (slog.Level, error) {
	for _, name := range logLevels {
		if strings.EqualFold(s, name) {
			var l slog.Level
			err := l.UnmarshalText([]byte(name))
			return l, err
		}
	}
	return 0, fmt.Errorf("--log-level %q: want one of %s", s, strings.Join(logLevels, ", "))
}

// checkAddr checks a host:port flag; listen allows port 0 (any free
// port), a dial address does not.
func checkAddr(name, addr string, listen bool) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s %q: want host:port, like 127.0.0.1:7662", name, addr)
	}
	lo := 1
	if listen {
		lo = 0
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < lo || n > 65535 {
		return fmt.Errorf("%s %q: port %s: must be %d..65535", name, addr, port, lo)
	}
	return nil
}

// usage prints the summary --help shows: the commands, every flag with
// its default, and the data directory the options name.
func usage(w io.Writer, o options, cmd string) {
	fmt.Fprint(w, `Usage:
  go-opentracker [flags]              run the tracker beside an I2P router (I2CP)
  go-opentracker demo [flags]         run it against a built-in router simulator,
                                      with simulated clients, to see the console
  go-opentracker --identity [flags]   create or load the identity, print the
                                      tracker's address and announce URLs, exit
  go-opentracker --version            print the version
  go-opentracker --help               print this summary

Flags:
`)
	var defaults options
	fl := newFlags(&defaults)
	fl.VisitAll(func(f *flag.Flag) {
		kind, text := flag.UnquoteUsage(f)
		head := "  --" + f.Name
		if kind != "" {
			head += " " + kind
		}
		fmt.Fprintf(w, "%-22s %s", head, text)
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
	data := o.data
	if cmd == "demo" && !o.dataGiven {
		data = "a new temporary directory, removed at exit (--data keeps one)"
	}
	fmt.Fprintf(w, "\nData directory: %s\n", data)
	fmt.Fprintf(w, "Exit codes: 0 clean stop, 1 runtime failure, 64 usage, 65 damaged data directory, 78 configuration.\n")
}

// usageHint follows a command-line error.
const usageHint = "Run 'go-opentracker --help' for usage."
