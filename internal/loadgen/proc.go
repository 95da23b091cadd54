package loadgen

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// ProcSample is what /proc says about a process at one moment.
type ProcSample struct {
	At    time.Time
	CPU   time.Duration // user + system time of all its threads so far
	RSS   uint64        // resident set size, bytes (VmRSS)
	Peak  uint64        // peak resident set size, bytes (VmHWM)
	Anon  uint64        // resident anonymous memory, bytes (RssAnon): RSS less mapped files
	Valid bool
}

// Proc reads /proc for one process.
type Proc struct {
	pid  int
	tick time.Duration // one clock tick of /proc/PID/stat
	root string
}

// NewProc returns a reader for pid (0: this process). It checks that the
// process exists.
func NewProc(pid int) (*Proc, error) {
	p := &Proc{pid: pid, tick: clockTick(), root: "/proc"}
	if pid == 0 {
		p.pid = os.Getpid()
	}
	if _, err := p.Sample(); err != nil {
		return nil, err
	}
	return p, nil
}

// PID is the process id read.
func (p *Proc) PID() int { return p.pid }

// Sample reads the process's CPU time and memory now.
func (p *Proc) Sample() (ProcSample, error) {
	dir := p.root + "/" + strconv.Itoa(p.pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return ProcSample{}, fmt.Errorf("loadgen: read process %d: %w", p.pid, err)
	}
	now := time.Now()
	ut, st, err := ParseStat(stat)
	if err != nil {
		return ProcSample{}, fmt.Errorf("loadgen: process %d: %w", p.pid, err)
	}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return ProcSample{}, fmt.Errorf("loadgen: read process %d: %w", p.pid, err)
	}
	ms, err := ParseStatus(status)
	if err != nil {
		return ProcSample{}, fmt.Errorf("loadgen: process %d: %w", p.pid, err)
	}
	return ProcSample{At: now, CPU: time.Duration(ut+st) * p.tick, RSS: ms.RSS, Peak: ms.Peak, Anon: ms.Anon, Valid: true}, nil
}

// ErrProcFormat wraps every /proc parse error.
var ErrProcFormat = errors.New("unexpected /proc format")

// ParseStat returns utime and stime (fields 14 and 15, in clock ticks)
// of a /proc/PID/stat line. The command name (field 2) sits in
// parentheses and may hold spaces and parentheses itself, so fields are
// counted from the last ')'.
func ParseStat(b []byte) (utime, stime uint64, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("%w: stat without a command name", ErrProcFormat)
	}
	// After ')' come fields 3 (state), 4, ...; utime is field 14.
	rest := b[i+1:]
	const utimeField = 14 - 3
	var vals [2]uint64
	for f := 0; f <= utimeField+1; f++ {
		rest = bytes.TrimLeft(rest, " ")
		j := bytes.IndexByte(rest, ' ')
		if j < 0 {
			j = len(rest)
		}
		tok := rest[:j]
		rest = rest[j:]
		if len(tok) == 0 {
			return 0, 0, fmt.Errorf("%w: stat has %d fields after the name, need %d", ErrProcFormat, f, utimeField+2)
		}
		if f >= utimeField {
			v, err := strconv.ParseUint(string(bytes.TrimRight(tok, "\n")), 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("%w: stat field %d: %v", ErrProcFormat, f+3, err)
			}
			vals[f-utimeField] = v
		}
	}
	return vals[0], vals[1], nil
}

// MemStatus is the memory part of /proc/PID/status, in bytes.
type MemStatus struct {
	RSS  uint64 // VmRSS
	Peak uint64 // VmHWM
	Anon uint64 // RssAnon: what the process holds itself, without the pages of files it maps
}

// ParseStatus returns VmRSS, VmHWM and RssAnon from /proc/PID/status. A
// process without them (a zombie, a kernel thread) reports zero.
func ParseStatus(b []byte) (MemStatus, error) {
	var ms MemStatus
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		var dst *uint64
		var name []byte
		for _, f := range []struct {
			name string
			dst  *uint64
		}{{"VmRSS:", &ms.RSS}, {"VmHWM:", &ms.Peak}, {"RssAnon:", &ms.Anon}} {
			if bytes.HasPrefix(line, []byte(f.name)) {
				dst, name = f.dst, []byte(f.name)
				break
			}
		}
		if dst == nil {
			continue
		}
		v, err := parseKB(line[len(name):])
		if err != nil {
			return MemStatus{}, fmt.Errorf("%w: %q: %v", ErrProcFormat, line, err)
		}
		*dst = v
	}
	return ms, nil
}

// parseKB reads "   1234 kB" as bytes.
func parseKB(b []byte) (uint64, error) {
	b = bytes.TrimSpace(b)
	num, ok := bytes.CutSuffix(b, []byte("kB"))
	if !ok {
		return 0, errors.New("no kB unit")
	}
	v, err := strconv.ParseUint(string(bytes.TrimSpace(num)), 10, 64)
	if err != nil {
		return 0, err
	}
	if v > 1<<50 {
		return 0, errors.New("value out of range")
	}
	return v << 10, nil
}

// clockTick is the unit of /proc/PID/stat times: 1/AT_CLKTCK seconds,
// from this process's auxiliary vector; Linux's USER_HZ of 100 if that
// cannot be read.
func clockTick() time.Duration {
	if b, err := os.ReadFile("/proc/self/auxv"); err == nil {
		if hz := auxvClockTicks(b); hz > 0 && hz <= 1e6 {
			return time.Second / time.Duration(hz)
		}
	}
	return 10 * time.Millisecond
}

// auxvClockTicks finds AT_CLKTCK in a 64-bit native-endian auxv.
func auxvClockTicks(b []byte) uint64 {
	const atClkTck = 17
	for len(b) >= 16 {
		k := binary.NativeEndian.Uint64(b)
		v := binary.NativeEndian.Uint64(b[8:])
		if k == 0 {
			break
		}
		if k == atClkTck {
			return v
		}
		b = b[16:]
	}
	return 0
}

// Usage is what a process used between two samples.
type Usage struct {
	CPUSeconds float64 `json:"cpu_seconds"`
	RSSStart   uint64  `json:"rss_start_bytes"`
	RSSEnd     uint64  `json:"rss_end_bytes"`
	RSSMax     uint64  `json:"rss_max_bytes"` // the most RSS sampled in between
	HWM        uint64  `json:"vm_hwm_bytes"`  // VmHWM at the end: the peak since the process started
}

// UsageBetween computes the usage from a to b; peak is the largest RSS
// sampled in between (0 if none).
func UsageBetween(a, b ProcSample, peak uint64) Usage {
	if !a.Valid || !b.Valid {
		return Usage{}
	}
	return Usage{
		CPUSeconds: (b.CPU - a.CPU).Seconds(),
		RSSStart:   a.RSS,
		RSSEnd:     b.RSS,
		RSSMax:     max(peak, a.RSS, b.RSS),
		HWM:        b.Peak,
	}
}
