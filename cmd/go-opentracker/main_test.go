package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/syncbuf"
	"github.com/go-i2p/go-opentracker/plugin"
	"github.com/go-i2p/go-opentracker/store"
)

func TestIdentityCreatedOnceAndKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var out1, out2, errs bytes.Buffer
	if code := run(context.Background(), []string{"--identity", "--data", dir}, &out1, &errs); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	keys, err := i2p.ReadPrivateKeyFile(filepath.Join(dir, plugin.KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out1.String(), keys.Destination.B32()) || !strings.Contains(out1.String(), keys.Destination.Base64()) {
		t.Fatalf("output does not show the identity:\n%s", out1.String())
	}
	if code := run(context.Background(), []string{"--identity", "--data", dir}, &out2, &errs); code != exitOK {
		t.Fatalf("second run exit %d", code)
	}
	if out1.String() != out2.String() {
		t.Fatal("identity changed between runs")
	}
}

func TestCorruptKeyFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, plugin.KeyFileName), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"--data", dir, "--http", "127.0.0.1:0", "--console", "127.0.0.1:0"}, &out, &errs); code != 65 {
		t.Fatalf("exit %d, want 65 (EX_DATAERR):\n%s", code, errs.String())
	}
	if b, _ := os.ReadFile(filepath.Join(dir, plugin.KeyFileName)); string(b) != "garbage" {
		t.Fatal("corrupt key file was replaced")
	}
}

// TestUsage: a bad command line exits 64 (EX_USAGE) with one line that
// says what is wrong and the usage hint, and nothing else.
func TestUsage(t *testing.T) {
	cases := []struct {
		args []string
		says string
	}{
		{[]string{"--nope"}, "flag provided but not defined: -nope"},
		{[]string{"serve-everything"}, "unknown command"},
		{[]string{"--log-level", "loud"}, `--log-level "loud": want one of debug, info, warn, error`},
		{[]string{"demo", "--clients", "-5"}, "--clients -5: must be 1..100000"},
		{[]string{"demo", "--clients", "0"}, "--clients 0: must be 1..100000"},
		{[]string{"demo", "--clients", "many"}, "invalid value"},
		{[]string{"--clients", "5"}, "--clients applies to the demo only"},
		{[]string{"demo", "--identity"}, "--identity and demo"},
		{[]string{"--http", "127.0.0.1:70000"}, `--http "127.0.0.1:70000": port 70000: must be 0..65535`},
		{[]string{"--console", "localhost"}, `--console "localhost": want host:port`},
		{[]string{"--i2cp", "127.0.0.1:0"}, "must be 1..65535"},
		{[]string{"--data", ""}, "--data: must not be empty"},
		{[]string{"--pprof", "0.0.0.0:6060"}, "loopback address only"},
		{[]string{"--version", "extra"}, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		var out, errs bytes.Buffer
		if code := run(context.Background(), c.args, &out, &errs); code != 64 {
			t.Errorf("%q: exit %d, want 64", c.args, code)
		}
		lines := strings.Split(strings.TrimSuffix(errs.String(), "\n"), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "go-opentracker: ") || !strings.Contains(lines[0], c.says) || lines[1] != usageHint || out.Len() != 0 {
			t.Errorf("%q: want one line with %q and the hint; stdout %q, stderr:\n%s", c.args, c.says, out.String(), errs.String())
		}
	}
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"--version"}, &out, &errs); code != exitOK || !strings.HasPrefix(out.String(), "go-opentracker ") {
		t.Fatalf("--version: %d %q", code, out.String())
	}
	// Accepted: a level in any case.
	if _, o, err := parse([]string{"--log-level", "DEBUG"}); err != nil || o.level != slog.LevelDebug {
		t.Fatalf("--log-level DEBUG: %v, %v", err, o.level)
	}
}

// TestHelp: --help prints the commands, every flag and the data
// directory in use to stdout, and exits 0.
func TestHelp(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "somewhere")
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"--data", dir, "--help"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	help := out.String()
	want := []string{"demo [flags]", "--identity", "Data directory: " + dir, "Exit codes:"}
	newFlags(&options{}).VisitAll(func(f *flag.Flag) { want = append(want, "--"+f.Name+" ") })
	for _, w := range want {
		if !strings.Contains(help, w) {
			t.Errorf("--help lacks %q:\n%s", w, help)
		}
	}
	if errs.Len() != 0 {
		t.Errorf("--help wrote to stderr: %s", errs.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"demo", "-h"}, &out, &errs); code != 0 || !strings.Contains(out.String(), "Data directory: a new temporary directory") {
		t.Fatalf("demo -h: exit %d:\n%s", code, out.String())
	}
}

// startRun runs the command in the background and returns the console
// URL it prints, and what it prints.
func startRun(t *testing.T, args ...string) (consoleURL string, out *syncbuf.Buffer, stop func() int) {
	t.Helper()
	return startFunc(t, func(ctx context.Context, stdout, stderr io.Writer) int { return run(ctx, args, stdout, stderr) })
}

// startFunc runs fn in the background until its stop is called (which
// cancels fn's context and returns its exit code), once it has printed
// the console URL.
func startFunc(t *testing.T, fn func(ctx context.Context, stdout, stderr io.Writer) int) (consoleURL string, out *syncbuf.Buffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errs := &syncbuf.Buffer{}, &syncbuf.Buffer{}
	done := make(chan int, 1)
	go func() { done <- fn(ctx, out, errs) }()
	deadline := time.Now().Add(20 * time.Second)
	for consoleURL == "" {
		sc := bufio.NewScanner(strings.NewReader(out.String()))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "console:"); ok {
				consoleURL = strings.TrimSpace(v)
			}
		}
		select {
		case code := <-done:
			t.Fatalf("exited early with %d:\n%s\n%s", code, out.String(), errs.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no console URL printed:\n%s\n%s", out.String(), errs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return consoleURL, out, func() int { cancel(); return <-done }
}

type apiStatus struct {
	Router   struct{ State string }
	Totals   struct{ Peers, Swarms uint64 }
	Counters struct{ UDPAnnounces, HTTPAnnounces uint64 }
}

func status(t *testing.T, consoleURL string) apiStatus {
	t.Helper()
	resp, err := http.Get(consoleURL + "api/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s apiStatus
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return s
}

// TestNoRouter: with nothing listening on the I2CP address the tracker
// still starts, serves its console, and says it is disconnected.
func TestNoRouter(t *testing.T) {
	console, out, stop := startRun(t, "--data", t.TempDir(), "--i2cp", "127.0.0.1:1", "--http", "127.0.0.1:0", "--console", "127.0.0.1:0")
	// No http_address: the HTTP announce URL on the tracker's own address.
	if printed := out.String(); !strings.Contains(printed, ".b32.i2p/announce (zzzot's path /a works too)\n") || strings.Contains(printed, "tunnel)") {
		t.Errorf("printed:\n%s", printed)
	}
	deadline := time.Now().Add(10 * time.Second)
	for status(t, console).Router.State != "disconnected" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if st := status(t, console); st.Router.State != "disconnected" {
		t.Fatalf("router state %q", st.Router.State)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d", code)
	}
}

// TestDemo: the demo shows live traffic on the console within seconds.
func TestDemo(t *testing.T) {
	console, out, stop := startRun(t, "demo", "--http", "127.0.0.1:0", "--console", "127.0.0.1:0", "--clients", "30")
	deadline := time.Now().Add(20 * time.Second)
	var st apiStatus
	for time.Now().Before(deadline) {
		st = status(t, console)
		if st.Counters.UDPAnnounces > 10 && st.Counters.HTTPAnnounces > 2 && st.Totals.Peers > 5 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.Counters.UDPAnnounces <= 10 || st.Counters.HTTPAnnounces <= 2 || st.Router.State != "reachable" {
		t.Fatalf("demo traffic not visible: %+v", st)
	}
	// The console says why the HTTP URL on the tracker's address is not
	// where the demo's HTTP goes, and names where it goes.
	listener := regexp.MustCompile(`HTTP tracker: +http://([^/]+)/`).FindStringSubmatch(out.String())
	if listener == nil {
		t.Fatalf("no HTTP tracker line:\n%s", out.String())
	}
	resp, err := http.Get(console)
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	hint := regexp.MustCompile(`(?s)<p class="hint" id="demo-hint">(.*?)</p>`).FindSubmatch(page)
	if hint == nil || !strings.Contains(string(hint[1]), "simulator") || !strings.Contains(string(hint[1]), "<code>http://"+listener[1]+"/a</code>") {
		t.Fatalf("console without the demo's HTTP hint: %q", hint)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d", code)
	}
}

// TestHTTPAddressPrinted: with http_address set, the HTTP announce URL on
// the tunnel's address is printed beside the one on the tracker's own.
func TestHTTPAddressPrinted(t *testing.T) {
	dir := t.TempDir()
	tunnel := strings.Repeat("h", 52) + ".b32.i2p"
	if err := os.WriteFile(filepath.Join(dir, plugin.ConfigFileName), []byte("http_address: "+tunnel+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"--identity", "--data", dir}, &out, &errs); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	keys, err := i2p.ReadPrivateKeyFile(filepath.Join(dir, plugin.KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	b32 := keys.Destination.B32()
	want := "announce URLs:   udp://" + b32 + ":6969/\n                 http://" + b32 + "/announce (zzzot's path /a works too)\n" +
		"                 http://" + tunnel + "/announce (through the HTTP server tunnel)\n"
	if !strings.Contains(out.String(), want) {
		t.Fatalf("printed:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestStopFailureExits1: a stop that cannot flush and close in time
// exits 1, not 0; the store is still closed in the background.
func TestStopFailureExits1(t *testing.T) {
	dir := t.TempDir()
	o := options{data: dir, i2cp: "127.0.0.1:1", http: "127.0.0.1:0", console: "127.0.0.1:0", stopTimeout: -1}
	_, _, stop := startFunc(t, func(ctx context.Context, stdout, stderr io.Writer) int {
		return serve(ctx, o, stdout, slog.New(slog.NewTextHandler(stderr, nil)), nil)
	})
	if code := stop(); code != exitError {
		t.Fatalf("exit %d, want %d", code, exitError)
	}
	// The interrupted stop closes the store once the run ends: it can be
	// opened again (and the temporary directory removed after).
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := store.Open(filepath.Join(dir, "store"), store.Options{})
		if err == nil {
			st.Close()
			break
		}
		if !errors.Is(err, store.ErrLocked) || time.Now().After(deadline) {
			t.Fatalf("store after the interrupted stop: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// binary builds the command for the tests that run it as a process.
func binary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary with")
	}
	bin := filepath.Join(t.TempDir(), "go-opentracker")
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestExitCodes runs the built binary: a bad flag exits 64 (EX_USAGE), a
// bad config file 78 (EX_CONFIG), a damaged or newer data directory 65
// (EX_DATAERR) — codes the systemd unit does not restart on, and none of
// them 2, Go's code for a crash — --version and --help 0, and SIGTERM
// stops it cleanly with 0. The codes are spelled out: they are the
// unit's and the README's contract.
func TestExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := binary(t)
	exitCode := func(t *testing.T, args ...string) (int, string, string) {
		t.Helper()
		var out, errs bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &out, &errs
		cmd.Env = append(os.Environ(), "GO_OPENTRACKER_DATA="+t.TempDir())
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), out.String(), errs.String()
	}
	badConfig := func(t *testing.T, text string) string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, plugin.ConfigFileName), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	newerStore := func(t *testing.T) string {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "store"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "store", "SCHEMA"), []byte("99\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	// A key file whose padding has one byte flipped gives another
	// address than the one recorded beside it.
	flippedKey := func(t *testing.T) string {
		dir := t.TempDir()
		if _, _, err := plugin.Identify(dir); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, plugin.KeyFileName)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b[10] ^= 1
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	damagedStore := func(t *testing.T) string {
		dir := newerStore(t)
		if err := os.WriteFile(filepath.Join(dir, "store", "SCHEMA"), []byte("one\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	listen := []string{"--i2cp", "127.0.0.1:1", "--http", "127.0.0.1:0", "--console", "127.0.0.1:0"}
	cases := []struct {
		name   string
		args   []string
		code   int
		output string // in stdout or stderr
	}{
		{"bad flag", []string{"--nope"}, 64, "flag provided but not defined"},
		{"unknown command", []string{"serve-everything"}, 64, "unknown command"},
		{"version", []string{"--version"}, 0, "go-opentracker "},
		{"help", []string{"--help"}, 0, "Usage"},
		{"interval out of range", append([]string{"--data", badConfig(t, "interval: 5\n")}, listen...), 78, "interval: 5: must be 60..86400"},
		{"unparsable config", append([]string{"--data", badConfig(t, "interval: [\n")}, listen...), 78, plugin.ConfigFileName},
		{"unknown key", append([]string{"--data", badConfig(t, "intervall: 900\n")}, listen...), 78, "intervall"},
		{"store from a newer version", append([]string{"--data", newerStore(t)}, listen...), 65, "newer version"},
		{"damaged store", append([]string{"--data", damagedStore(t)}, listen...), 65, "damaged"},
		{"damaged key file", append([]string{"--data", flippedKey(t)}, listen...), 65, plugin.AddressFileName + " says the tracker's address is"},
		{"damaged key file with --identity", []string{"--identity", "--data", flippedKey(t)}, 65, "gives the address"},
		{"console beyond loopback without a password", []string{"--data", t.TempDir(), "--i2cp", "127.0.0.1:1", "--http", "127.0.0.1:0", "--console", "0.0.0.0:0"},
			78, "console_password"},
		{"bad config with --identity", []string{"--identity", "--data", badConfig(t, "http_address: http://x.i2p/\n")}, 78, "http_address"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := exitCode(t, c.args...)
			if code != c.code || !strings.Contains(out+errs, c.output) {
				t.Fatalf("exit %d, want %d; output lacks %q?\n%s%s", code, c.code, c.output, out, errs)
			}
		})
	}

	t.Run("SIGTERM", func(t *testing.T) {
		out := &syncbuf.Buffer{}
		cmd := exec.Command(bin, append([]string{"--data", t.TempDir()}, listen...)...)
		cmd.Stdout, cmd.Stderr = out, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(out.String(), "console:") {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("never served:\n%s", out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("after SIGTERM: %v", err)
		}
	})
}

// run is runWith without the hook main passes.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWith(ctx, args, stdout, stderr, nil)
}

// failingListener's Accept fails for good, as a listener whose
// descriptor broke does.
type failingListener struct{ net.Listener }

func (failingListener) Accept() (net.Conn, error) { return nil, errors.New("accept: broken listener") }

// TestListenerFailureEndsTheTracker: a listener that stops serving ends
// the tracker with exit 1 and says why, the state flushed, instead of
// serving on without it.
func TestListenerFailureEndsTheTracker(t *testing.T) {
	_, o, err := parse([]string{"--data", t.TempDir(), "--i2cp", "127.0.0.1:1", "--http", "127.0.0.1:0", "--console", "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	o.wrapListener = func(ln net.Listener) net.Listener { return failingListener{ln} }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&errs, nil))
	if code := serve(ctx, o, &out, log, nil); code != exitError || ctx.Err() != nil {
		t.Fatalf("exit %d (context: %v), want %d:\n%s", code, ctx.Err(), exitError, errs.String())
	}
	if !strings.Contains(errs.String(), "broken listener") || !strings.Contains(errs.String(), "tracker stopped; state flushed") {
		t.Fatalf("the log does not say which listener failed, or that the state was flushed:\n%s", errs.String())
	}
}

// TestConsoleRefusesRebinding: the binary's console answers requests
// addressed to its listener, by address or by the name it was given,
// and refuses one that names another host (a web page whose name was
// made to resolve to loopback).
func TestConsoleRefusesRebinding(t *testing.T) {
	consoleURL, _, stop := startRun(t, "--data", t.TempDir(), "--i2cp", "127.0.0.1:1", "--http", "127.0.0.1:0", "--console", "localhost:0")
	defer stop()
	u, err := url.Parse(consoleURL)
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]int{u.Host: http.StatusOK, "localhost:" + u.Port(): http.StatusOK, "evil.example:" + u.Port(): http.StatusMisdirectedRequest} {
		req, _ := http.NewRequest(http.MethodGet, consoleURL, nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: %s, want %d", host, resp.Status, want)
		}
	}
}

// TestConfigProblemsOneLineEach: a config file with several problems
// exits 78 and logs each on a line of its own.
func TestConfigProblemsOneLineEach(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, plugin.ConfigFileName), []byte("tracker_port: 70000\nintervall: 900\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"--data", dir, "--i2cp", "127.0.0.1:1", "--http", "127.0.0.1:0", "--console", "127.0.0.1:0"}, &out, &errs); code != 78 {
		t.Fatalf("exit %d, want 78:\n%s", code, errs.String())
	}
	lines := strings.Split(strings.TrimSpace(errs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `problem="tracker_port: 70000: must be 1..65535`) ||
		!strings.Contains(lines[1], "did you mean interval?") {
		t.Fatalf("want one line per problem:\n%s", errs.String())
	}
}

// TestRefusedSessionLogged: while the router refuses the session the log
// says so, and does not tell the operator to start a router.
func TestRefusedSessionLogged(t *testing.T) {
	router, err := i2cptest.NewRouter("127.0.0.1:0", i2cptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()
	router.SetRefuseSessions(true)
	_, o, err := parse([]string{"--data", t.TempDir(), "--i2cp", router.Addr(), "--http", "127.0.0.1:0", "--console", "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	o.explainAfter = 200 * time.Millisecond
	errs := &syncbuf.Buffer{}
	_, _, stop := startFunc(t, func(ctx context.Context, stdout, _ io.Writer) int {
		return serve(ctx, o, stdout, slog.New(slog.NewTextHandler(errs, nil)), nil)
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errs.String(), "router refuses the tracker's session") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if log := errs.String(); !strings.Contains(log, "router refuses the tracker's session") || strings.Contains(log, "start a router") {
		t.Fatalf("the log does not name the refusal:\n%s", log)
	}
}

// TestUnitRestartPolicy: the example unit restarts on a runtime failure
// (1) and a crash (2, Go's code for a panic; or a signal), and not on the
// codes that name the operator's mistakes, which the command uses.
func TestUnitRestartPolicy(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "contrib", "go-opentracker.service"))
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			settings[k] = v
		}
	}
	if settings["Restart"] != "on-failure" {
		t.Errorf("Restart=%s, want on-failure", settings["Restart"])
	}
	prevent := strings.Fields(settings["RestartPreventExitStatus"])
	want := []string{strconv.Itoa(exitUsage), strconv.Itoa(exitData), strconv.Itoa(exitConfig)}
	if strings.Join(prevent, " ") != strings.Join(want, " ") {
		t.Errorf("RestartPreventExitStatus=%s, want %s", settings["RestartPreventExitStatus"], strings.Join(want, " "))
	}
	for _, code := range []int{exitUsage, exitData, exitConfig} {
		if code == exitError || code == 2 {
			t.Errorf("exit code %d collides with a runtime failure or a crash", code)
		}
	}
}
