package plugin

import (
	"encoding/hex"

	"github.com/go-i2p/go-opentracker/console"
	"github.com/go-i2p/go-opentracker/tracker"
	"github.com/go-i2p/go-opentracker/tracker/httptracker"
)

// isTrackerPath reports whether path is the tracker's to answer: an
// announce or scrape path, or /bids while bids are on (off, /bids is a
// page path as it always was).
func (p *Plugin) isTrackerPath(path string) bool {
	if httptracker.IsAnnouncePath(path) || httptracker.IsScrapePath(path) {
		return true
	}
	if !httptracker.IsBidsPath(path) {
		return false
	}
	tr := p.Tracker()
	return tr != nil && tr.BidsEnabled()
}

// consoleBids is how many swarms the console's top-bids table lists.
const consoleBids = 20

// bidStatus is the console's view of the bid index.
func bidStatus(tr *tracker.Tracker) console.BidStatus {
	top, on := tr.TopBids(consoleBids, nil)
	out := console.BidStatus{On: on, Held: tr.BidStats().Held, Top: make([]console.BidRow, len(top))}
	for i, s := range top {
		out.Top[i] = console.BidRow{InfoHash: hex.EncodeToString(s.InfoHash[:]), Best: s.Best, Bidders: uint64(s.Bidders), AgeSeconds: uint64(s.Age)}
	}
	return out
}
