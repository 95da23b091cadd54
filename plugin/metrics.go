package plugin

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/go-i2p/go-opentracker/console"
	"github.com/go-i2p/go-opentracker/streaming"
)

// metricsHandler serves /metrics in the Prometheus text format from a
// private registry: a collector that reads the counters at scrape time.
func metricsHandler(p *Plugin, con *console.Console) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{p, con}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// collector reads the run's numbers at each scrape: the plugin's, and
// the refusals the console counts itself (con may be nil).
type collector struct {
	p   *Plugin
	con *console.Console
}

var (
	descSwarms    = prometheus.NewDesc("opentracker_swarms", "Torrents tracked.", nil, nil)
	descPeers     = prometheus.NewDesc("opentracker_peers", "Distinct peers.", nil, nil)
	descSeeds     = prometheus.NewDesc("opentracker_seeds", "Seeding (peer, torrent) entries.", nil, nil)
	descLeechers  = prometheus.NewDesc("opentracker_leechers", "Leeching (peer, torrent) entries.", nil, nil)
	descCompleted = prometheus.NewDesc("opentracker_downloads_completed", "Downloads completed in the swarms tracked (falls when a swarm expires).", nil, nil)
	descRequests  = prometheus.NewDesc("opentracker_requests_total", "Requests answered, by transport and kind.", []string{"transport", "kind"}, nil)
	descProblems  = prometheus.NewDesc("opentracker_problems_total", "Requests dropped or refused, by where and reason.", []string{"where", "reason"}, nil)
	descRouter    = prometheus.NewDesc("opentracker_router_up", "1 while the tracker is reachable: a probe datagram from another session on its router arrived after the LeaseSet was published (the console badge and /api/status healthy say the same).", nil, nil)
	descStoreSize = prometheus.NewDesc("opentracker_store_bytes", "Bytes the store uses on disk (allocated blocks, as du counts them).", nil, nil)
	descPending   = prometheus.NewDesc("opentracker_store_pending", "Changes waiting for the next flush.", nil, nil)
	descDropped   = prometheus.NewDesc("opentracker_store_dropped_total", "Changes not journaled: the pending set was full.", nil, nil)
	descPaused    = prometheus.NewDesc("opentracker_store_journal_paused", "1 while the journal waits for free disk space.", nil, nil)
	descAccess    = prometheus.NewDesc("opentracker_access_list_entries", "Entries in the access lists (allowed_torrents absent: -1).", []string{"list"}, nil)

	descHTTPOpen    = prometheus.NewDesc("opentracker_http_connections_open", "HTTP connections held open (kept alive, partial heads, net/http).", nil, nil)
	descHTTPRefused = prometheus.NewDesc("opentracker_http_connections_refused_total", "HTTP connections closed unserved, by the bound reached.", []string{"reason"}, nil)
	descHTTPAccept  = prometheus.NewDesc("opentracker_http_accept_errors_total", "Failed accepts on the HTTP listener (out of descriptors, say).", nil, nil)

	descBids      = prometheus.NewDesc("opentracker_bids", "Standing bids (docs/bids.md).", nil, nil)
	descBidEvents = prometheus.NewDesc("opentracker_bid_events_total", "Bids placed, changed, refused and ended, by event.", []string{"event"}, nil)

	descStreamOpen     = prometheus.NewDesc("opentracker_stream_open", "I2P streams open now.", nil, nil)
	descStreamAccepted = prometheus.NewDesc("opentracker_stream_accepted_total", "I2P streams accepted (HTTP on the tracker's own address).", nil, nil)
	descStreamPackets  = prometheus.NewDesc("opentracker_stream_packets_total", "Streaming packets, by direction.", []string{"direction"}, nil)
	descStreamRefused  = prometheus.NewDesc("opentracker_stream_refused_total", "SYNs refused, by reason.", []string{"reason"}, nil)
	descStreamDropped  = prometheus.NewDesc("opentracker_stream_dropped_total", "Streaming packets dropped, by reason.", []string{"reason"}, nil)
	descStreamRtx      = prometheus.NewDesc("opentracker_stream_retransmits_total", "Streaming packets sent again.", nil, nil)
	descStreamResets   = prometheus.NewDesc("opentracker_stream_resets_total", "RESETs, by direction.", []string{"direction"}, nil)
	descStreamTimeouts = prometheus.NewDesc("opentracker_stream_timeouts_total", "Streams failed by the resend limit or inactivity.", nil, nil)
	descStreamDupSYNs  = prometheus.NewDesc("opentracker_stream_duplicate_syns_total", "Retransmitted SYNs mapped to their stream.", nil, nil)
	descStream429      = prometheus.NewDesc("opentracker_stream_replies_429_total", "Refused SYNs answered with an HTTP 429 (the rest with a RESET).", nil, nil)
	descStreamVerified = prometheus.NewDesc("opentracker_stream_signatures_verified_total", "Streaming packet signatures checked.", nil, nil)
	descStreamPeers    = prometheus.NewDesc("opentracker_stream_rate_peers", "Remote Destinations the stream rate limits remember.", nil, nil)
)

func (collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSwarms, descPeers, descSeeds, descLeechers, descCompleted, descRequests, descProblems, descRouter,
		descStoreSize, descPending, descDropped, descPaused, descAccess, descHTTPOpen, descHTTPRefused, descHTTPAccept,
		descStreamOpen, descStreamAccepted, descStreamPackets, descStreamRefused,
		descStreamDropped, descStreamRtx, descStreamResets, descStreamTimeouts, descStreamDupSYNs, descStream429, descStreamPeers, descStreamVerified, descBids, descBidEvents} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	st := consoleSource{c.p}.Status()
	g := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	k := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	g(descSwarms, st.Totals.Swarms)
	g(descPeers, st.Totals.Peers)
	g(descSeeds, st.Totals.Seeds)
	g(descLeechers, st.Totals.Leechers)
	g(descCompleted, st.Totals.Completed)
	k(descRequests, st.Counters.UDPConnects, "udp", "connect")
	k(descRequests, st.Counters.UDPAnnounces, "udp", "announce")
	k(descRequests, st.Counters.UDPScrapes, "udp", "scrape")
	k(descRequests, st.Counters.HTTPAnnounces, "http", "announce")
	k(descRequests, st.Counters.HTTPScrapes, "http", "scrape")
	for _, pr := range st.Problems {
		k(descProblems, pr.Count, pr.Where, pr.Reason)
	}
	if c.con != nil {
		for _, pr := range c.con.Problems() {
			k(descProblems, pr.Count, pr.Where, pr.Reason)
		}
	}
	up := uint64(0)
	if st.Router.Healthy {
		up = 1
	}
	g(descRouter, up)
	g(descStoreSize, uint64(max(st.Store.SizeBytes, 0)))
	g(descPending, uint64(st.Store.Pending))
	k(descDropped, st.Store.Dropped)
	paused := uint64(0)
	if st.Store.JournalPaused {
		paused = 1
	}
	g(descPaused, paused)
	if srv := c.p.trackerServer.Load(); srv != nil {
		hs := srv.Stats()
		g(descHTTPOpen, uint64(max(hs.Open, 0)))
		k(descHTTPRefused, hs.RefusedTotal, "total")
		k(descHTTPRefused, hs.RefusedPeer, "peer")
		k(descHTTPAccept, hs.AcceptErrors)
	}
	c.p.mu.Lock()
	r := c.p.run
	c.p.mu.Unlock()
	if r != nil {
		allowed, denied, deniedDests := r.access.Sizes()
		for list, n := range map[string]int{"allowed_torrents": allowed, "denied_torrents": denied, "denied_destinations": deniedDests} {
			ch <- prometheus.MustNewConstMetric(descAccess, prometheus.GaugeValue, float64(n), list)
		}
	}
	if tr := c.p.Tracker(); tr != nil {
		bs := tr.BidStats()
		g(descBids, bs.Held)
		for event, n := range bs.Counts {
			k(descBidEvents, n, event)
		}
	}
	if s, ok := c.p.streamStats(); ok {
		collectStreams(s, g, k)
	}
}

// collectStreams sends the streaming counters through gauge and counter.
func collectStreams(s streaming.Stats, gauge, counter func(*prometheus.Desc, uint64, ...string)) {
	gauge(descStreamOpen, uint64(s.Open))
	counter(descStreamAccepted, s.Accepted)
	counter(descStreamPackets, s.PacketsIn, "in")
	counter(descStreamPackets, s.PacketsOut, "out")
	for _, m := range []struct {
		d *prometheus.Desc
		v map[string]uint64
	}{{descStreamRefused, streamRefusals(s)}, {descStreamDropped, streamDrops(s)}} {
		for reason, v := range m.v {
			counter(m.d, v, reason)
		}
	}
	counter(descStreamRtx, s.Retransmits)
	counter(descStreamResets, s.ResetsSent, "sent")
	counter(descStreamResets, s.ResetsReceived, "received")
	counter(descStreamTimeouts, s.Timeouts)
	counter(descStreamDupSYNs, s.DuplicateSYNs)
	counter(descStream429, s.Replies429)
	counter(descStreamVerified, s.Verified)
	gauge(descStreamPeers, uint64(s.RatePeers))
}
