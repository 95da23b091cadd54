package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/loadgen"
)

// process is a tracker otload started and must stop.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// command runs bin with args, under taskset when cpus names a CPU list
// (taskset execs the tracker: the pid stays the tracker's).
func command(bin string, args []string, cpus string) *exec.Cmd {
	if cpus != "" {
		return exec.Command("taskset", append([]string{"-c", cpus, bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

func start(cmd *exec.Cmd) (*process, error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the process to end (SIGTERM), and kills it after grace.
func (p *process) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// freeLoopbackPort finds a port free for both TCP and UDP on 127.0.0.1.
func freeLoopbackPort() (int, error) {
	for range 20 {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		ln.Close()
		if err == nil {
			pc.Close()
			return port, nil
		}
	}
	return 0, errors.New("no loopback port free for both TCP and UDP")
}

// writeWhitelist writes the workload's info hashes, one 40-hex line each:
// the access list of a closed opentracker.
func writeWhitelist(w io.Writer, wl *loadgen.Workload) error {
	bw := bufio.NewWriter(w)
	for t := range int32(wl.Config().Torrents) {
		h := wl.InfoHash(t)
		fmt.Fprintf(bw, "%x\n", h[:])
	}
	return bw.Flush()
}

// opentracker is a spawned opentracker on loopback.
type opentracker struct {
	*process
	dir  string
	port int
}

// startOpentracker starts opentracker on 127.0.0.1 (TCP and UDP on one
// port) in a temporary directory. Debian builds it as a closed tracker,
// so the workload's info hashes go to a whitelist it reads from there
// (after it chroots to that directory and drops to user nobody when run
// as root). 127.0.0.1 may read its /stats.
func startOpentracker(bin string, w *loadgen.Workload, cpus string) (*opentracker, error) {
	dir, err := os.MkdirTemp("", "otload-opentracker-")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*opentracker, error) { os.RemoveAll(dir); return nil, err }
	if err := os.Chmod(dir, 0o755); err != nil {
		return fail(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "whitelist"), os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fail(err)
	}
	err = writeWhitelist(f, w)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	port, err := freeLoopbackPort()
	if err != nil {
		return fail(err)
	}
	p := strconv.Itoa(port)
	cmd := command(bin, []string{"-i", "127.0.0.1", "-p", p, "-P", p, "-A", "127.0.0.1", "-d", dir, "-w", "whitelist"}, cpus)
	cmd.Dir = dir
	proc, err := start(cmd)
	if err != nil {
		return fail(err)
	}
	ot := &opentracker{process: proc, dir: dir, port: port}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.DialTimeout("tcp4", ot.addr(), 200*time.Millisecond); err == nil {
			c.Close()
			return ot, nil
		}
		if proc.exited() || time.Now().After(deadline) {
			ot.stop()
			return nil, fmt.Errorf("opentracker did not listen on %s (exit: %v)", ot.addr(), proc.err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (o *opentracker) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(o.port)) }

func (o *opentracker) statsURL() string { return "http://" + o.addr() + "/stats?mode=peer" }

func (o *opentracker) stop() {
	o.process.stop(5 * time.Second)
	os.RemoveAll(o.dir)
}

// goTracker is a spawned go-opentracker attached to otload's router.
type goTracker struct {
	*process
	httpAddr, consoleAddr string
	hash                  i2p.Hash
}

// startGoTracker starts the go-opentracker binary with data directory dir,
// attached over I2CP to routerAddr, its HTTP tracker and console on free
// loopback ports, and reads the addresses it prints.
func startGoTracker(bin, dir, routerAddr, cpus string, stderr io.Writer) (*goTracker, error) {
	cmd := command(bin, []string{"--data", dir, "--i2cp", routerAddr, "--http", "127.0.0.1:0", "--console", "127.0.0.1:0", "--log-level", "warn"}, cpus)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = stderr
	proc, err := start(cmd)
	if err != nil {
		return nil, err
	}
	t := &goTracker{process: proc}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, out)
	}()
	timeout := time.After(60 * time.Second)
	for t.consoleAddr == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.stop()
				return nil, fmt.Errorf("%s ended before it served (exit: %v)", bin, proc.err)
			}
			t.parseLine(line)
		case <-timeout:
			t.stop()
			return nil, fmt.Errorf("%s did not print its addresses within 60 s", bin)
		}
	}
	go func() {
		for range lines {
		}
	}()
	if t.hash.IsZero() || t.httpAddr == "" {
		t.stop()
		return nil, fmt.Errorf("%s did not print its tracker address and HTTP listener", bin)
	}
	return t, nil
}

// parseLine reads the lines go-opentracker prints when it serves.
func (t *goTracker) parseLine(line string) {
	key, val, ok := strings.Cut(line, ":")
	if !ok {
		return
	}
	val = strings.TrimSpace(val)
	switch key {
	case "tracker address":
		if h, err := i2p.ParseB32(val); err == nil {
			t.hash = h
		}
	case "HTTP tracker":
		t.httpAddr = hostOfURL(val)
	case "console":
		t.consoleAddr = hostOfURL(val)
	}
}

// hostOfURL returns host:port of "http://host:port/ ...".
func hostOfURL(s string) string {
	s, _, _ = strings.Cut(s, " ")
	s = strings.TrimPrefix(s, "http://")
	s, _, _ = strings.Cut(s, "/")
	return s
}

func (t *goTracker) statsURL() string { return "http://" + t.consoleAddr + "/stats?mode=peer" }

func (t *goTracker) stop() { t.process.stop(60 * time.Second) }

// peerCount reads the first line of an opentracker-style /stats?mode=peer
// page (go-opentracker's console serves the same); -1 when unknown.
func peerCount(ctx context.Context, url string) int64 {
	if url == "" {
		return -1
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return -1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil || resp.StatusCode != http.StatusOK {
		return -1
	}
	first, _, _ := strings.Cut(string(b), "\n")
	n, err := strconv.ParseInt(strings.TrimSpace(first), 10, 64)
	if err != nil {
		return -1
	}
	return n
}
