package loadgen

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestProcOwnProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	p, err := NewProc(0)
	if err != nil {
		t.Fatal(err)
	}
	if p.PID() != os.Getpid() {
		t.Fatalf("pid %d, want %d", p.PID(), os.Getpid())
	}
	a, err := p.Sample()
	if err != nil {
		t.Fatal(err)
	}
	// Burn CPU until the kernel's tick-grained counter moves.
	x := uint64(1)
	deadline := time.Now().Add(5 * time.Second)
	var b ProcSample
	for time.Now().Before(deadline) {
		for i := range 1000000 {
			x = x*6364136223846793005 + uint64(i)
		}
		if b, err = p.Sample(); err != nil {
			t.Fatal(err)
		}
		if b.CPU > a.CPU {
			break
		}
	}
	if b.CPU <= a.CPU {
		t.Fatalf("CPU time did not grow: %v then %v (x=%d)", a.CPU, b.CPU, x)
	}
	if b.RSS == 0 || b.Peak < b.RSS {
		t.Errorf("RSS %d, peak %d", b.RSS, b.Peak)
	}
	u := UsageBetween(a, b, 0)
	if u.CPUSeconds <= 0 || u.RSSMax < u.RSSEnd {
		t.Errorf("usage %+v", u)
	}
	if clockTick() <= 0 {
		t.Error("no clock tick")
	}
	if _, err := NewProc(1 << 30); err == nil {
		t.Error("a process that does not exist was found")
	}
}

const statLine = "4242 (tricky) name (x)) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 5 0 99 123456 789 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"

func TestParseStat(t *testing.T) {
	ut, st, err := ParseStat([]byte(statLine))
	if err != nil || ut != 250 || st != 75 {
		t.Fatalf("ParseStat = %d, %d, %v; want 250, 75", ut, st, err)
	}
	for _, bad := range []string{"", "1 (x", "1 (x) S 1 2 3", "1 (x) S 1 2 3 4 5 6 7 8 9 10 -3 4"} {
		if _, _, err := ParseStat([]byte(bad)); err == nil {
			t.Errorf("ParseStat(%q) accepted", bad)
		}
	}
}

const statusText = "Name:\tx\nVmPeak:\t  900 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nRssAnon:\t     768 kB\nRssFile:\t     256 kB\nThreads:\t5\n"

func TestParseStatus(t *testing.T) {
	ms, err := ParseStatus([]byte(statusText))
	if err != nil || ms.RSS != 1024<<10 || ms.Peak != 2048<<10 || ms.Anon != 768<<10 {
		t.Fatalf("ParseStatus = %+v, %v", ms, err)
	}
	if ms, err := ParseStatus([]byte("Name:\tzombie\nState:\tZ\n")); err != nil || ms != (MemStatus{}) {
		t.Errorf("zombie: %+v %v", ms, err)
	}
	for _, bad := range []string{"VmRSS:\t12 MB\n", "VmHWM: x kB", "VmRSS: 99999999999999999999 kB", "RssAnon: 1 GB"} {
		if _, err := ParseStatus([]byte(bad)); err == nil {
			t.Errorf("ParseStatus(%q) accepted", bad)
		}
	}
}

func TestAuxvClockTicks(t *testing.T) {
	b := make([]byte, 48)
	b[0] = 6 // AT_PAGESZ
	b[8] = 0x10
	b[16] = 17 // AT_CLKTCK
	b[24] = 100
	if hz := auxvClockTicks(b); hz != 100 {
		t.Errorf("AT_CLKTCK = %d, want 100", hz)
	}
	if hz := auxvClockTicks(b[:7]); hz != 0 {
		t.Errorf("short auxv gave %d", hz)
	}
}
