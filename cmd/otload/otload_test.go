package main

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/tracker/udptracker"
)

func TestParseStatCPU(t *testing.T) {
	got, err := parseStatCPU("1234 (a (weird) name) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0 20 0 1 0 100 0 0")
	if err != nil || got != 4.0 {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := parseStatCPU("garbage"); err == nil {
		t.Fatal("garbage accepted")
	}
	if s, err := cpuSeconds(os.Getpid()); err != nil || s < 0 {
		t.Fatalf("own CPU: %v %v", s, err)
	}
	if rssBytes(os.Getpid()) <= 0 {
		t.Fatal("own RSS unreadable")
	}
}

func FuzzParseStatCPU(f *testing.F) {
	f.Add("1 (x) S 1 2 3 4 5 6 7 8 9 10 250 150 0")
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := parseStatCPU(s); err == nil && v < 0 {
			t.Fatal("negative CPU time")
		}
	})
}

// TestUDPMode drives a tiny in-test BEP 15 responder on loopback.
func TestUDPMode(t *testing.T) {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFromUDP(buf)
			if err != nil {
				return
			}
			h, err := udptracker.ParseHeader(buf[:n])
			if err != nil {
				continue
			}
			var out []byte
			if h.Action == udptracker.ActionConnect {
				out = udptracker.AppendConnectResponse(nil, h.TransactionID, 42, 60)
			} else {
				out = udptracker.AppendAnnounceResponseHeader(nil, h.TransactionID, 1800, 1, 1)
			}
			pc.WriteToUDP(out, from)
		}
	}()
	r, err := runUDP(context.Background(), workload{clients: 50, torrents: 10, duration: 300 * time.Millisecond, window: 16, warmup: 100 * time.Millisecond},
		pc.LocalAddr().String(), "", os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if r.Answered == 0 || r.P50 <= 0 || r.TrackerCPU < 0 {
		t.Fatalf("report %+v", r)
	}
}
