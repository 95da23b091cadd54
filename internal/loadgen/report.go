package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is a whole run: what was measured against what, and how.
type Report struct {
	Tool       string         `json:"tool"`
	Date       string         `json:"date"` // RFC 3339, UTC
	Mode       string         `json:"mode"`
	Tracker    string         `json:"tracker"` // e.g. opentracker, go-opentracker
	Target     string         `json:"target"`  // its address
	TrackerPID int            `json:"tracker_pid,omitempty"`
	CPUs       int            `json:"cpus"`
	Workload   Config         `json:"workload"`
	Engine     EngineSummary  `json:"engine"`
	Phases     []*PhaseResult `json:"phases"`
	Memory     *Memory        `json:"memory,omitempty"`
	Restart    *Restart       `json:"restart,omitempty"`
	Notes      []string       `json:"notes,omitempty"`
}

// EngineSummary is the part of an EngineConfig worth reporting.
type EngineSummary struct {
	Workers     int     `json:"workers"`
	Window      int     `json:"window"`
	Rate        float64 `json:"rate"` // 0: as fast as the window allows
	TimeoutSecs float64 `json:"timeout_seconds"`
}

// Summary returns the engine's summary for a Report.
func (e *Engine) Summary() EngineSummary {
	return EngineSummary{Workers: e.cfg.Workers, Window: e.cfg.Window, Rate: e.cfg.Rate, TimeoutSecs: e.cfg.Timeout.Seconds()}
}

// Memory is the tracker's resident memory per peer once a workload is
// loaded.
type Memory struct {
	Clients      int     `json:"clients"`       // distinct peers
	Pairs        int     `json:"pairs"`         // (peer, swarm) entries
	TrackerPeers int64   `json:"tracker_peers"` // as the tracker counts them; -1 unknown
	RSSIdle      uint64  `json:"rss_idle_bytes"`
	RSSLoaded    uint64  `json:"rss_loaded_bytes"`
	BytesPerPeer float64 `json:"bytes_per_peer"` // (loaded - idle) / clients
	BytesPerPair float64 `json:"bytes_per_pair"` // (loaded - idle) / pairs
	// The same for anonymous memory (RssAnon): RSS without the pages of
	// mapped files (a store's memory-mapped tables and logs, which the
	// kernel can drop and read back).
	AnonIdle         uint64  `json:"anon_idle_bytes"`
	AnonLoaded       uint64  `json:"anon_loaded_bytes"`
	AnonBytesPerPeer float64 `json:"anon_bytes_per_peer"`
	AnonBytesPerPair float64 `json:"anon_bytes_per_pair"`
}

// NewMemory computes the per-peer figures from the tracker's samples
// before and after loading.
func NewMemory(clients, pairs int, trackerPeers int64, idle, loaded ProcSample) *Memory {
	m := &Memory{Clients: clients, Pairs: pairs, TrackerPeers: trackerPeers,
		RSSIdle: idle.RSS, RSSLoaded: loaded.RSS, AnonIdle: idle.Anon, AnonLoaded: loaded.Anon}
	per := func(a, b uint64, n int) float64 {
		if n <= 0 {
			return 0
		}
		return (float64(b) - float64(a)) / float64(n)
	}
	m.BytesPerPeer, m.BytesPerPair = per(idle.RSS, loaded.RSS, clients), per(idle.RSS, loaded.RSS, pairs)
	m.AnonBytesPerPeer, m.AnonBytesPerPair = per(idle.Anon, loaded.Anon, clients), per(idle.Anon, loaded.Anon, pairs)
	return m
}

// Restart is how long a restarted tracker took to serve its persisted
// peers again.
type Restart struct {
	Seconds       float64 `json:"seconds"` // process start to the first answered announce that sees the restored swarm
	PeersBefore   int64   `json:"peers_before"`
	PeersRestored int64   `json:"peers_restored"` // as the tracker counts them after the restart; -1 unknown
	RSSAfter      uint64  `json:"rss_after_bytes"`
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r as a readable table.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "otload %s → %s at %s", r.Mode, r.Tracker, r.Target)
	if r.TrackerPID > 0 {
		fmt.Fprintf(&b, " (pid %d)", r.TrackerPID)
	}
	fmt.Fprintf(&b, ", %s, %d CPUs\n", r.Date, r.CPUs)
	c := r.Workload
	fmt.Fprintf(&b, "workload: %d clients, %d torrents (Zipf s=%.2f), %d swarm(s) each, %.0f%% seeds, numwant %d, seed %d\n",
		c.Clients, c.Torrents, c.ZipfS, c.SwarmsPerClient, c.SeedFraction*100, c.NumWant, c.Seed)
	rate := "as fast as the window allows"
	if r.Engine.Rate > 0 {
		rate = fmt.Sprintf("%.0f/s", r.Engine.Rate)
	}
	fmt.Fprintf(&b, "engine:   %d workers, window %d each, rate %s, timeout %gs\n\n", r.Engine.Workers, r.Engine.Window, rate, r.Engine.TimeoutSecs)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tkind\tsent\tanswered\trefused\tlost\tanswered/s\tper tracker CPU-s\tp50\tp90\tp99\tmax\tpeers/reply\t")
	for _, p := range r.Phases {
		for _, k := range p.Kinds {
			per := "-"
			if k.PerTrackerCPUSecond > 0 {
				per = fmt.Sprintf("%.0f", k.PerTrackerCPUSecond)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%.1f\t\n", p.Phase, k.Kind, k.Sent, k.Answered, k.Refused, k.Lost+k.SendErrors,
				k.PerSecond, per, ms(k.Latency.P50), ms(k.Latency.P90), ms(k.Latency.P99), ms(k.Latency.Max), k.PeersPerReply)
		}
	}
	tw.Flush()
	b.WriteString("\n")
	for _, p := range r.Phases {
		fmt.Fprintf(&b, "%s (%.2f s):", p.Phase, p.Seconds)
		if p.Tracker != nil {
			t := p.Tracker
			fmt.Fprintf(&b, " tracker %.2f CPU-s (%.2f cores), RSS %s → %s (max %s);", t.CPUSeconds, cores(t.CPUSeconds, p.Seconds),
				mib(t.RSSStart), mib(t.RSSEnd), mib(t.RSSMax))
		}
		fmt.Fprintf(&b, " otload %.2f CPU-s (%.2f cores)", p.Generator.CPUSeconds, cores(p.Generator.CPUSeconds, p.Seconds))
		if p.Late+p.Malformed+p.Unexpected > 0 {
			fmt.Fprintf(&b, "; late %d, malformed %d, unexpected %d", p.Late, p.Malformed, p.Unexpected)
		}
		b.WriteString("\n")
	}
	if m := r.Memory; m != nil {
		fmt.Fprintf(&b, "memory: %d peers in %d (peer, swarm) entries (tracker counts %d); RSS idle %s, loaded %s: %.1f bytes/peer, %.1f bytes/entry\n",
			m.Clients, m.Pairs, m.TrackerPeers, mib(m.RSSIdle), mib(m.RSSLoaded), m.BytesPerPeer, m.BytesPerPair)
		fmt.Fprintf(&b, "memory without mapped files (RssAnon): idle %s, loaded %s: %.1f bytes/peer, %.1f bytes/entry\n",
			mib(m.AnonIdle), mib(m.AnonLoaded), m.AnonBytesPerPeer, m.AnonBytesPerPair)
	}
	if rs := r.Restart; rs != nil {
		fmt.Fprintf(&b, "restart: serving again after %.2f s; peers before %d, after %d; RSS %s\n", rs.Seconds, rs.PeersBefore, rs.PeersRestored, mib(rs.RSSAfter))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ms(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	default:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	}
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func cores(cpu, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return cpu / secs
}
