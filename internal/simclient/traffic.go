package simclient

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker"
)

// Traffic describes a stream of simulated clients announcing to the
// tracker: what the demo shows on its console and what the browser test
// loads the console under.
type Traffic struct {
	// Clients is how many distinct clients announce. They join one at a
	// time, one per step, and then announce again in turn. Default 200.
	Clients int
	// Torrents is how many torrents they share, with Zipf-distributed
	// popularity as on real trackers. Default 60.
	Torrents int
	// Every is the pause between two steps. Default 20 ms.
	Every time.Duration
	// HTTPAddr, when set, is the tracker's HTTP listener (host:port):
	// every fifth client announces there, with its Base64 Destination in
	// ip, instead of over UDP.
	HTTPAddr string
	// Seed seeds the random choices (torrents, amounts left,
	// completions), so a run can be repeated.
	Seed   uint64
	Logger *slog.Logger
}

// simPeer is one simulated client of a Traffic run.
type simPeer struct {
	c      *Client
	info   [20]byte
	left   uint64
	http   bool
	joined bool
}

// RunTraffic keeps simulated clients announcing until ctx ends, one
// request (a UDP connect and announce, or an HTTP announce) per step.
// Clients only join and complete (a leecher turns seed); none stops, so
// while it runs the tracker's peers, swarms, seeds and downloads never
// shrink. It returns ctx's error, or the error that stopped it.
func (n *Network) RunTraffic(ctx context.Context, t Traffic) error {
	if t.Clients <= 0 {
		t.Clients = 200
	}
	if t.Torrents <= 1 {
		t.Torrents = 60
	}
	if t.Every <= 0 {
		t.Every = 20 * time.Millisecond
	}
	if t.Logger == nil {
		t.Logger = slog.New(slog.DiscardHandler)
	}
	rng := rand.New(rand.NewPCG(t.Seed, t.Seed^0x9e3779b97f4a7c15))
	infos := make([][20]byte, t.Torrents)
	for i := range infos {
		for j := range infos[i] {
			infos[i][j] = byte(rng.Uint32())
		}
	}
	zipf := rand.NewZipf(rng, 1.2, 1, uint64(t.Torrents-1))
	httpc := &http.Client{Timeout: 5 * time.Second}
	defer httpc.CloseIdleConnections()
	peers := make([]*simPeer, 0, min(t.Clients, 4096))
	tick := time.NewTicker(t.Every)
	defer tick.Stop()
	for step := 0; ; step++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		var s *simPeer
		if len(peers) < t.Clients {
			i := len(peers)
			c, err := n.NewClient(uint16(10000+i%50000), true)
			if err != nil {
				return fmt.Errorf("simclient: traffic: %w", err)
			}
			s = &simPeer{c: c, info: infos[zipf.Uint64()], left: uint64(rng.IntN(3)) << 20, http: t.HTTPAddr != "" && i%5 == 4}
			peers = append(peers, s)
		} else {
			s = peers[step%len(peers)]
		}
		event := tracker.EventNone
		if !s.joined {
			event = tracker.EventStarted
		}
		if s.left > 0 && rng.IntN(10) == 0 {
			s.left, event = 0, tracker.EventCompleted
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var err error
		if s.http {
			err = httpAnnounce(rctx, httpc, t.HTTPAddr, s.c.Keys.Destination, s.info, s.left, event)
		} else {
			if s.c.ConnID == 0 {
				err = s.c.Connect(rctx)
			}
			if err == nil {
				_, err = s.c.Announce(rctx, s.info, event, s.left, -1)
			}
		}
		cancel()
		if err != nil {
			t.Logger.Debug("simulated announce", "http", s.http, "err", err)
			continue
		}
		s.joined = true
	}
}

// httpAnnounce sends one HTTP announce the way an I2P client does (its
// Base64 Destination in ip, compact replies) as an I2P HTTP server tunnel
// passes it on: with X-I2P-DestB64 naming the client.
func httpAnnounce(ctx context.Context, c *http.Client, addr string, d i2p.Destination, info [20]byte, left uint64, event tracker.Event) error {
	h := d.Hash()
	q := url.Values{"info_hash": {string(info[:])}, "peer_id": {string(h[:20])}, "port": {"6881"},
		"left": {strconv.FormatUint(left, 10)}, "compact": {"1"}, "ip": {d.Base64() + ".i2p"}}
	if event != tracker.EventNone {
		q.Set("event", event.String())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/a?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-I2P-DestB64", d.Base64())
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("simclient: HTTP announce: %s", resp.Status)
	}
	return nil
}
