package console

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// statsXML is mode=everything: opentracker's XML document, element for
// element where this tracker has the number. tracker_id is 0 (there is
// no livesync cluster to tell trackers apart); tcp means HTTP over I2P
// streaming or the operator's tunnel; udp means repliable datagrams; the
// renew histogram stays empty (renewals are not counted by age); the
// http_error counts are this tracker's HTTP refusals by its own reason
// names; livesync is 0 as there is none. mutex_stall is left out: no
// such event exists here.
func statsXML(v statsView) string {
	t, c := v.st.Totals, v.st.Counters
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<stats>\n  <tracker_id>0</tracker_id>\n  <version>\n")
	_ = xml.EscapeText(&b, []byte("go-opentracker "+v.st.Version+"\n"))
	fmt.Fprintf(&b, "  </version>\n  <uptime>%d</uptime>\n", v.secs)
	fmt.Fprintf(&b, "  <torrents>\n    <count_mutex>%d</count_mutex>\n    <count_iterator>%d</count_iterator>\n  </torrents>\n", t.Swarms, t.Swarms)
	fmt.Fprintf(&b, "  <peers>\n    <count>%d</count>\n  </peers>\n  <seeds>\n    <count>%d</count>\n  </seeds>\n", t.Peers, t.Seeds)
	fmt.Fprintf(&b, "  <completed>\n    <count>%d</count>\n  </completed>\n  <connections>\n", t.Completed)
	fmt.Fprintf(&b, "    <tcp>\n      <accept>%d</accept>\n      <announce>%d</announce>\n      <scrape>%d</scrape>\n    </tcp>\n",
		v.httpRequests(), c.HTTPAnnounces, c.HTTPScrapes)
	fmt.Fprintf(&b, "    <udp>\n      <overall>%d</overall>\n      <connect>%d</connect>\n      <announce>%d</announce>\n      <scrape>%d</scrape>\n      <missmatch>%d</missmatch>\n    </udp>\n",
		v.udpRequests(), c.UDPConnects, c.UDPAnnounces, c.UDPScrapes, v.problem("udp", "bad_connection_id"))
	b.WriteString("    <livesync>\n      <count>0</count>\n    </livesync>\n  </connections>\n  <debug>\n    <renew>\n    </renew>\n    <http_error>\n")
	for _, p := range v.st.Problems {
		if p.Where != "http" {
			continue
		}
		b.WriteString(`      <count code="`)
		_ = xml.EscapeText(&b, []byte(p.Reason))
		fmt.Fprintf(&b, "\">%d</count>\n", p.Count)
	}
	b.WriteString("    </http_error>\n  </debug>\n</stats>")
	return b.String()
}

// problem is the count of one drop reason, 0 when none was counted.
func (v statsView) problem(where, reason string) uint64 {
	for _, p := range v.st.Problems {
		if p.Where == where && p.Reason == reason {
			return p.Count
		}
	}
	return 0
}
