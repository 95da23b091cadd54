package console

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// StatsHandler serves an opentracker-style /stats page: ?mode=peer, torr,
// conn, udp, tcp, scrp or completed answer in the four-line MRTG format
// operators script against (value, value, uptime or description, name);
// mode=everything lists every counter as "key value" lines, and
// mode=woodpeckers the senders the rate limits refused most, one a line:
// address, refusals in all, by kind, and the last one's unix time.
func StatsHandler(src Source, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := src.Status()
		up := now().Sub(st.Started)
		if st.Started.IsZero() || up < 0 {
			up = 0
		}
		secs := int64(up / time.Second)
		uptime := fmt.Sprintf("%d seconds (%d hours)", secs, secs/3600)
		perSec := func(n uint64) uint64 {
			if secs == 0 {
				return 0
			}
			return n / uint64(secs)
		}
		c, t := st.Counters, st.Totals
		var body string
		switch mode := r.URL.Query().Get("mode"); mode {
		case "", "peer":
			body = fmt.Sprintf("%d\n%d\nopentracker serving %d torrents\nopentracker", t.Peers, t.Seeds, t.Swarms)
		case "torr":
			body = fmt.Sprintf("%d\n%d\nopentracker serving %d torrents\nopentracker", t.Swarms, 0, t.Swarms)
		case "conn":
			conns := c.UDPConnects + c.UDPAnnounces + c.UDPScrapes + c.HTTPAnnounces + c.HTTPScrapes
			ok := c.UDPAnnounces + c.HTTPAnnounces + c.UDPConnects
			body = fmt.Sprintf("%d\n%d\n%s\nopentracker connections, %d conns/s :: %d success/s.", conns, ok, uptime, perSec(conns), perSec(ok))
		case "udp":
			body = fmt.Sprintf("%d\n%d\n%s\nopentracker udp4 stats, %d conns/s :: %d success/s.",
				c.UDPConnects+c.UDPAnnounces+c.UDPScrapes, c.UDPAnnounces+c.UDPConnects, uptime,
				perSec(c.UDPConnects+c.UDPAnnounces+c.UDPScrapes), perSec(c.UDPAnnounces+c.UDPConnects))
		case "tcp":
			body = fmt.Sprintf("%d\n%d\n%s\nopentracker tcp4 stats, %d conns/s :: %d success/s.",
				c.HTTPAnnounces+c.HTTPScrapes, c.HTTPAnnounces, uptime, perSec(c.HTTPAnnounces+c.HTTPScrapes), perSec(c.HTTPAnnounces))
		case "scrp":
			body = fmt.Sprintf("%d\n%d\n%s\nopentracker scrape stats, %d scrape/s (tcp and udp)",
				c.HTTPScrapes, c.UDPScrapes, uptime, perSec(c.HTTPScrapes+c.UDPScrapes))
		case "completed":
			body = fmt.Sprintf("%d\n%d\n%s\nopentracker, %d completed/h.", t.Completed, 0, uptime, t.Completed*3600/max(1, uint64(secs)))
		case "everything":
			var b strings.Builder
			fmt.Fprintf(&b, "uptime_seconds %d\nswarms %d\npeers %d\nseeds %d\nleechers %d\ncompleted %d\n", secs, t.Swarms, t.Peers, t.Seeds, t.Leechers, t.Completed)
			fmt.Fprintf(&b, "udp_connects %d\nudp_announces %d\nudp_scrapes %d\nhttp_announces %d\nhttp_scrapes %d\n",
				c.UDPConnects, c.UDPAnnounces, c.UDPScrapes, c.HTTPAnnounces, c.HTTPScrapes)
			for _, p := range st.Problems {
				fmt.Fprintf(&b, "%s_%s %d\n", p.Where, p.Reason, p.Count)
			}
			body = b.String()
		case "woodpeckers":
			var b strings.Builder
			for _, wp := range st.Woodpeckers {
				fmt.Fprintf(&b, "%s total %d connect %d announce %d scrape %d http %d last %d\n", wp.Peer, wp.Total,
					wp.Refused["connect"], wp.Refused["announce"], wp.Refused["scrape"], wp.Refused["http"], wp.Last.Unix())
			}
			body = b.String()
		default:
			http.Error(w, "unknown mode "+mode+": use peer, torr, conn, udp, tcp, scrp, completed, everything or woodpeckers", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(body))
	})
}
