package plugin

import (
	"encoding/hex"
	"time"

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

// bidStatus is the console's view of the bid index, nil while bids are
// off.
func bidStatus(tr *tracker.Tracker) *console.BidStatus {
	top, on := tr.TopBids(consoleBids, nil)
	if !on {
		return nil
	}
	out := &console.BidStatus{Held: tr.BidStats().Held, Top: make([]console.BidRow, len(top))}
	for i, s := range top {
		out.Top[i] = console.BidRow{InfoHash: hex.EncodeToString(s.InfoHash[:]), Best: s.Best, Bidders: uint64(s.Bidders), Age: time.Duration(s.Age) * time.Second}
	}
	return out
}
