package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// report is one run's result.
type report struct {
	Mode            string
	Sent, Answered  uint64
	Errors          uint64 // error responses
	Seconds         float64
	PerSecond       float64
	LossPercent     float64
	P50, P90, P99   time.Duration
	Max             time.Duration
	TrackerCPU      float64 // seconds during the measured window
	PerCPUSecond    float64
	TrackerRSSBytes int64
	GeneratorCPU    float64
}

func (r report) print(w io.Writer) {
	fmt.Fprintf(w, "mode %s: %d sent, %d answered (%d errors) in %.1fs\n", r.Mode, r.Sent, r.Answered, r.Errors, r.Seconds)
	fmt.Fprintf(w, "  answered/s      %.0f\n  loss            %.2f%%\n", r.PerSecond, r.LossPercent)
	fmt.Fprintf(w, "  latency         p50 %v  p90 %v  p99 %v  max %v\n", r.P50, r.P90, r.P99, r.Max)
	if r.TrackerCPU > 0 {
		fmt.Fprintf(w, "  tracker CPU     %.2fs  => %.0f announces per tracker CPU-second\n", r.TrackerCPU, r.PerCPUSecond)
		fmt.Fprintf(w, "  tracker RSS     %.1f MiB\n", float64(r.TrackerRSSBytes)/(1<<20))
	}
	fmt.Fprintf(w, "  generator CPU   %.2fs\n", r.GeneratorCPU)
}

// latencies collects samples from several goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	if len(l.d) < 2_000_000 {
		l.d = append(l.d, d)
	}
	l.mu.Unlock()
}

func (l *latencies) fill(r *report) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	at := func(q float64) time.Duration { return l.d[min(len(l.d)-1, int(q*float64(len(l.d))))] }
	r.P50, r.P90, r.P99, r.Max = at(0.50), at(0.90), at(0.99), l.d[len(l.d)-1]
}

// cpuSeconds reads utime+stime of a process from /proc (clock ticks of
// 1/100 s on Linux).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

func parseStatCPU(stat string) (float64, error) {
	// The command name may hold spaces and parentheses: fields start after the last ')'.
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc stat")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc stat: %d fields", len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed /proc stat times")
	}
	return float64(ut+st) / 100, nil
}

// rssBytes reads VmRSS of a process.
func rssBytes(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// measure wraps a measured window: CPU of the tracker and of ourselves.
type measure struct {
	pid         int
	start       time.Time
	cpu0, self0 float64
}

func startMeasure(pid int) *measure {
	m := &measure{pid: pid, start: time.Now()}
	if pid > 0 {
		m.cpu0, _ = cpuSeconds(pid)
	}
	m.self0, _ = cpuSeconds(os.Getpid())
	return m
}

func (m *measure) finish(r *report) {
	r.Seconds = time.Since(m.start).Seconds()
	r.PerSecond = float64(r.Answered) / r.Seconds
	if r.Sent > 0 {
		r.LossPercent = 100 * float64(r.Sent-min(r.Sent, r.Answered+r.Errors)) / float64(r.Sent)
	}
	if m.pid > 0 {
		cpu, _ := cpuSeconds(m.pid)
		r.TrackerCPU = cpu - m.cpu0
		if r.TrackerCPU > 0 {
			r.PerCPUSecond = float64(r.Answered) / r.TrackerCPU
		}
		r.TrackerRSSBytes = rssBytes(m.pid)
	}
	self, _ := cpuSeconds(os.Getpid())
	r.GeneratorCPU = self - m.self0
}
