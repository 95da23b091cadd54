package plugin

import (
	"encoding/hex"
	"sort"
	"time"

	"github.com/go-i2p/go-opentracker/console"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker/ratelimit"
	"github.com/go-i2p/go-opentracker/webui"
)

// consoleSource shows the plugin on the console.
type consoleSource struct{ p *Plugin }

func (c consoleSource) Status() console.Status {
	p := c.p
	p.mu.Lock()
	r, keys, fullScrape := p.run, p.keys, p.cfg.FullScrape
	p.mu.Unlock()
	out := console.Status{Version: p.manifest.Version, FullScrape: fullScrape}
	if r == nil {
		out.Router.State = "stopped"
		return out
	}
	tr, st, sess, udp, httpH := r.tracker, r.store, r.session, r.udp, r.http
	out.Started = r.started
	h := r.health(time.Now())
	out.Router = console.RouterStatus{Address: p.opts.I2CPAddr, State: h.State, Detail: h.Detail, Since: h.Since, Healthy: h.Healthy,
		Simulator: p.opts.SimulatedRouter}
	if out.Router.Address == "" {
		out.Router.Address = "provided by the host"
	}
	udpURL, httpURL, tunnelURL := p.URLs()
	out.Identity = console.Identity{B32: keys.Destination.B32(), Base64: keys.Destination.Base64(), UDPAnnounce: udpURL, HTTPAnnounce: httpURL,
		TunnelAnnounce: tunnelURL, HTTPListener: p.opts.HTTPListener}
	t := tr.Totals()
	out.Totals = console.Totals{Swarms: t.Swarms, Peers: t.Peers, Seeds: t.Seeds, Leechers: t.Leechers, Completed: t.Completed}
	us, hs := udp.Stats().Snapshot(), httpH.Stats().Snapshot()
	out.Counters = console.Counters{UDPConnects: us.Connects, UDPAnnounces: us.Announces, UDPScrapes: us.Scrapes,
		HTTPAnnounces: hs.Announces, HTTPScrapes: hs.Scrapes, FullScrapes: hs.FullScrapes, FullScrapeBytes: hs.FullScrapeBytes}
	add := func(where string, m map[string]uint64) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if m[k] > 0 {
				out.Problems = append(out.Problems, console.Problem{Where: where, Reason: k, Count: m[k]})
			}
		}
	}
	add("udp", us.Drops)
	add("udp", us.Errors)
	// Served, but not as asked: BEP 41 options cut where they overran; peers
	// a non-compact reply left out for want of their Destination.
	add("udp", map[string]uint64{"bad_bep41_options": us.BadOptions})
	add("http", hs.Failures)
	add("http", map[string]uint64{"peers_omitted_no_destination": hs.Omitted})
	ts := tr.Stats().Snapshot()
	add("tracker", ts.Refused)
	add("tracker", map[string]uint64{"evicted_single_peer_swarms": ts.Evicted})
	ls := r.limits.Stats()
	add("rate_limit", ls.Refused)
	add("access_list", map[string]uint64{"reload_errors": r.access.Stats().ReloadErrors.Load()})
	out.Woodpeckers = woodpeckers(r.limits)
	is := sess.Stats()
	add("i2cp", map[string]uint64{"unclaimed": is.DroppedUnclaimed, "malformed": is.DroppedMalformed, "send_queue_full": is.DroppedQueueFull,
		"not_ready": is.DroppedNotReady, "lookup_failures": is.LookupFailures, "delivery_failures": is.MessageFailures,
		"handler_panics": is.HandlerPanics})
	ks := r.stream.stats()
	out.Streams = console.StreamStatus{Open: ks.Open, Accepted: ks.Accepted, Refused: streamRefused(ks)}
	add("streaming", streamProblems(ks))
	ss2 := st.Stats()
	out.Store = console.StoreStatus{Path: st.Path(), SizeBytes: ss2.SizeBytes, LastFlush: ss2.LastFlush, Pending: ss2.Pending,
		Dropped: ss2.Dropped, RestoreDuration: ss2.RestoreDuration, RestoredPeers: int(ss2.RestoredPeers)}
	out.Bids = bidStatus(tr)
	if ss2.FlushErrors > 0 {
		out.Store.Err = "flush errors: changes are kept pending and retried"
	}
	if out.Store.JournalPaused = ss2.Disk.Paused; ss2.Disk.Paused {
		out.Store.Err = "journal paused, announces answered from memory: " + ss2.Disk.Reason
	}
	return out
}

// woodpeckersShown is how many of the senders refused most the console
// and /stats list.
const woodpeckersShown = 20

func woodpeckers(l *ratelimit.Limits) []console.Woodpecker {
	rows := l.Woodpeckers(woodpeckersShown)
	out := make([]console.Woodpecker, len(rows))
	for i, w := range rows {
		by := make(map[string]uint64, ratelimit.NumKinds)
		for k, n := range w.Refused {
			by[ratelimit.Kind(k).String()] = n
		}
		out[i] = console.Woodpecker{Peer: i2p.Hash(w.Peer).B32(), Refused: by, Total: w.Total, Last: w.Last}
	}
	return out
}

func (c consoleSource) Swarms(offset, limit int) ([]console.SwarmRow, int) {
	tr := c.p.Tracker()
	if tr == nil {
		return nil, 0
	}
	rows, total := tr.Busiest(offset, limit)
	out := make([]console.SwarmRow, len(rows))
	for i, r := range rows {
		out[i] = console.SwarmRow{InfoHash: hex.EncodeToString(r.InfoHash[:]), Seeds: r.Seeders, Leechers: r.Leechers, Completed: r.Complete}
	}
	return out, total
}

// Settings shows the saved value of each setting and, for one that waits
// for a restart, the value in force.
func (c consoleSource) Settings() []console.Setting {
	c.p.mu.Lock()
	cfg, saved := c.p.cfg, c.p.saved
	c.p.mu.Unlock()
	out := make([]console.Setting, len(settings))
	for i, s := range settings {
		out[i] = console.Setting{Key: s.key, Label: s.label, Help: s.help, Value: s.get(&saved), Kind: s.kind,
			Min: s.min, Max: s.max, NeedsRestart: s.restart}
		if running := s.get(&cfg); running != out[i].Value {
			out[i].Running, out[i].AwaitsRestart = running, true
		}
	}
	return out
}

func (c consoleSource) SetSetting(key, value string) (bool, error) {
	return c.p.applySetting(key, value)
}

// publicInfo feeds the public help page.
func (p *Plugin) publicInfo() webui.Info {
	p.mu.Lock()
	r, cfg, keys := p.run, p.cfg, p.keys
	p.mu.Unlock()
	info := webui.Info{Name: p.manifest.Name, Version: p.manifest.Version}
	if r == nil {
		return info
	}
	t := r.tracker.Totals()
	udpURL, httpURL, tunnelURL := p.URLs()
	info.B32, info.UDPAnnounce, info.HTTPAnnounce, info.TunnelAnnounce = keys.Destination.B32(), udpURL, httpURL, tunnelURL
	info.UDPEnabled, info.HTTPEnabled = cfg.UDP, cfg.HTTP
	info.Swarms, info.Peers, info.Seeds, info.Leechers, info.Completed = t.Swarms, t.Peers, t.Seeds, t.Leechers, t.Completed
	return info
}
