package console

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// top is opentracker's top10/top100: the n swarms with most peers, then
// the n with most seeds, each line a tab, the count, a tab and the info
// hash in upper-case hex.
func (v statsView) top(n int) string {
	rows, total := v.src.Swarms(0, n)
	byPeers := slices.Clone(rows)
	if total > len(rows) {
		// The busiest by peers need not hold the busiest by seeds: the
		// seed list is taken from every swarm.
		rows, _ = v.src.Swarms(0, total)
	}
	bySeeds := slices.Clone(rows)
	slices.SortStableFunc(bySeeds, func(a, b SwarmRow) int { return cmp.Compare(b.Seeds, a.Seeds) })
	var b strings.Builder
	fmt.Fprintf(&b, "Top %d torrents by peers:\n", n)
	for _, r := range byPeers[:min(n, len(byPeers))] {
		if p := r.Seeds + r.Leechers; p > 0 {
			fmt.Fprintf(&b, "\t%d\t%s\n", p, strings.ToUpper(r.InfoHash))
		}
	}
	fmt.Fprintf(&b, "Top %d torrents by seeds:\n", n)
	for _, r := range bySeeds[:min(n, len(bySeeds))] {
		if r.Seeds > 0 {
			fmt.Fprintf(&b, "\t%d\t%s\n", r.Seeds, strings.ToUpper(r.InfoHash))
		}
	}
	return b.String()
}

// counterLines is mode=counters: every counter as a "key value" line.
func counterLines(v statsView) string {
	t, c := v.st.Totals, v.st.Counters
	var b strings.Builder
	fmt.Fprintf(&b, "uptime_seconds %d\nswarms %d\npeers %d\nseeds %d\nleechers %d\ncompleted %d\n", v.secs, t.Swarms, t.Peers, t.Seeds, t.Leechers, t.Completed)
	fmt.Fprintf(&b, "udp_connects %d\nudp_announces %d\nudp_scrapes %d\nhttp_announces %d\nhttp_scrapes %d\n",
		c.UDPConnects, c.UDPAnnounces, c.UDPScrapes, c.HTTPAnnounces, c.HTTPScrapes)
	for _, p := range v.st.Problems {
		fmt.Fprintf(&b, "%s_%s %d\n", p.Where, p.Reason, p.Count)
	}
	return b.String()
}
