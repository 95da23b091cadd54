package console

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// statsView is what one /stats answer is made from: a snapshot of the
// status, the uptime in whole seconds and the swarm list.
type statsView struct {
	st   Status
	secs int64
	src  Source
}

// perSec is opentracker's events_per_time: n over the uptime, the uptime
// taken as 1 in the first second.
func perSec(n uint64, secs int64) uint64 { return n / uint64(max(1, secs)) }

// uptimeLine is the third line of opentracker's MRTG answers.
func (v statsView) uptimeLine() string {
	return fmt.Sprintf("%d seconds (%d hours)", v.secs, v.secs/3600)
}

// mrtg writes opentracker's four-line MRTG answer: two values, a third
// line and a description.
func mrtg(a, b uint64, third, desc string) string {
	return fmt.Sprintf("%d\n%d\n%s\n%s", a, b, third, desc)
}

func (v statsView) udpRequests() uint64 {
	c := v.st.Counters
	return c.UDPConnects + c.UDPAnnounces + c.UDPScrapes
}

func (v statsView) httpRequests() uint64 {
	return v.st.Counters.HTTPAnnounces + v.st.Counters.HTTPScrapes
}

// conns is opentracker's per-transport "connections, successes" pair.
func (v statsView) conns(name string, all, ok uint64) string {
	return mrtg(all, ok, v.uptimeLine(), fmt.Sprintf("opentracker %s, %d conns/s :: %d success/s.", name, perSec(all, v.secs), perSec(ok, v.secs)))
}

// statsModes maps each mode name to its answer. Names of opentracker's
// modes answer in opentracker's formats; the others are ours.
var statsModes = map[string]func(statsView) string{
	"peer": func(v statsView) string {
		t := v.st.Totals
		return mrtg(t.Peers, t.Seeds, fmt.Sprintf("opentracker serving %d torrents", t.Swarms), "opentracker")
	},
	"torr": func(v statsView) string {
		t := v.st.Totals
		return mrtg(t.Swarms, 0, fmt.Sprintf("opentracker serving %d torrents", t.Swarms), "opentracker")
	},
	"conn": func(v statsView) string {
		c := v.st.Counters
		return v.conns("connections", v.udpRequests()+v.httpRequests(), c.UDPAnnounces+c.HTTPAnnounces+c.UDPConnects)
	},
	"udp4": func(v statsView) string {
		return v.conns("udp4 stats", v.udpRequests(), v.st.Counters.UDPAnnounces+v.st.Counters.UDPConnects)
	},
	"tcp4": func(v statsView) string { return v.conns("tcp4 stats", v.httpRequests(), v.st.Counters.HTTPAnnounces) },
	"scrp": func(v statsView) string {
		c := v.st.Counters
		return mrtg(c.HTTPScrapes, c.UDPScrapes, v.uptimeLine(),
			fmt.Sprintf("opentracker scrape stats, %d scrape/s (tcp and udp)", perSec(c.HTTPScrapes+c.UDPScrapes, v.secs)))
	},
	"completed": func(v statsView) string {
		n := v.st.Totals.Completed
		return mrtg(n, 0, v.uptimeLine(), fmt.Sprintf("opentracker, %d completed/h.", perSec(n, v.secs/3600)))
	},
	"fscr": func(v statsView) string {
		c := v.st.Counters
		return mrtg(c.FullScrapes*1000, c.FullScrapeBytes, v.uptimeLine(),
			fmt.Sprintf("opentracker full scrape stats, %d conns/s :: %d bytes/s.", perSec(c.FullScrapes, v.secs), perSec(c.FullScrapeBytes, v.secs)))
	},
	"top10":      func(v statsView) string { return v.top(10) },
	"top100":     func(v statsView) string { return v.top(100) },
	"version":    func(v statsView) string { return "go-opentracker " + v.st.Version + "\n" },
	"everything": statsXML,
	"counters":   counterLines,
	"woodpeckers": func(v statsView) string {
		var b strings.Builder
		for _, wp := range v.st.Woodpeckers {
			fmt.Fprintf(&b, "%s total %d connect %d announce %d scrape %d http %d last %d\n", wp.Peer, wp.Total,
				wp.Refused["connect"], wp.Refused["announce"], wp.Refused["scrape"], wp.Refused["http"], wp.Last.Unix())
		}
		return b.String()
	},
}

// statsAliases are the names this tracker's /stats answered to before it
// took opentracker's.
var statsAliases = map[string]string{"udp": "udp4", "tcp": "tcp4"}

// compiledOut are opentracker's modes that count what this tracker does
// not have (IP networks, livesync, opentracker's HTTP error codes,
// renewals by age, the TPB full-scrape listing): opentracker built
// without them answers 500, and so does this tracker.
var compiledOut = map[string]bool{"busy": true, "s24s": true, "tpbs": true, "syncs": true, "herr": true, "renew": true}

// StatsHandler serves opentracker's /stats page. The modes named as
// opentracker names them (peer, torr, conn, udp4, tcp4, scrp, completed,
// top10, top100, version, everything) answer in its formats, so scripts
// and exporters written for it work unchanged; udp and tcp are aliases of
// udp4 and tcp4. mode=counters lists every counter as "key value" lines
// and mode=woodpeckers the senders the rate limits refused most, one a
// line: address, refusals in all, by kind, and the last one's unix time.
// fscr (full scrapes: count times 1000, as opentracker prints it, and
// bytes) answers while full_scrape is on. No mode at all is peer, as in
// opentracker.
func StatsHandler(src Source, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mode := "peer"
		if q := r.URL.Query(); q.Has("mode") {
			mode = q.Get("mode")
		}
		if a, ok := statsAliases[mode]; ok {
			mode = a
		}
		answer, ok := statsModes[mode]
		st := src.Status()
		switch {
		case compiledOut[mode], mode == "fscr" && !st.FullScrape:
			http.Error(w, "mode "+mode+" counts what an I2P tracker does not have", http.StatusInternalServerError)
			return
		case !ok:
			http.Error(w, "unknown mode "+mode+": use peer, torr, conn, udp4, tcp4, scrp, completed, top10, top100, version, everything, counters or woodpeckers", http.StatusBadRequest)
			return
		}
		up := now().Sub(st.Started)
		if st.Started.IsZero() || up < 0 {
			up = 0
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(answer(statsView{st: st, secs: int64(up / time.Second), src: src})))
	})
}
