package console

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// HistoryKeeper keeps the chart history across restarts. The plugin
// implements it over the store; the records are the console's own
// encoding, opaque to the keeper.
type HistoryKeeper interface {
	// SaveHistory replaces every record kept with recs, by name.
	SaveHistory(recs map[string][]byte) error
	// LoadHistory calls fn with each record kept.
	LoadHistory(fn func(name string, rec []byte)) error
}

// A history record is one chart window's samples: a version byte, the
// window's step in nanoseconds (8 bytes), then per sample its time in
// unix nanoseconds, announces, peers and swarms (8 bytes each), oldest
// first, all big-endian.
const (
	historyVersion = 1
	historyHeader  = 1 + 8
	sampleLen      = 4 * 8
)

// encode is window i's record.
func (h *history) encode(i int) []byte {
	samples := h.ordered(i)
	b := make([]byte, 0, historyHeader+len(samples)*sampleLen)
	b = append(b, historyVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(h.tiers[i].step))
	for _, s := range samples {
		b = binary.BigEndian.AppendUint64(b, uint64(s.at.UnixNano()))
		b = binary.BigEndian.AppendUint64(b, s.announces)
		b = binary.BigEndian.AppendUint64(b, s.peers)
		b = binary.BigEndian.AppendUint64(b, s.swarms)
	}
	return b
}

// records are every window's records, by window name.
func (h *history) records() map[string][]byte {
	out := make(map[string][]byte, len(h.tiers))
	for i, t := range h.tiers {
		out[t.name] = h.encode(i)
	}
	return out
}

var errHistoryRecord = errors.New("chart history record unusable")

// load puts a record's samples back into window name, keeping those
// still inside its span at now. A record of another version, step or
// window, or one whose samples are not in order, is refused whole.
func (h *history) load(name string, rec []byte, now time.Time) (int, error) {
	i := -1
	for j, t := range h.tiers {
		if t.name == name {
			i = j
		}
	}
	switch {
	case i < 0:
		return 0, fmt.Errorf("%w: no window %q", errHistoryRecord, name)
	case len(rec) < historyHeader || rec[0] != historyVersion:
		return 0, fmt.Errorf("%w: window %s: not version %d", errHistoryRecord, name, historyVersion)
	case (len(rec)-historyHeader)%sampleLen != 0:
		return 0, fmt.Errorf("%w: window %s: %d bytes", errHistoryRecord, name, len(rec))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	t := &h.tiers[i]
	if step := time.Duration(binary.BigEndian.Uint64(rec[1:])); step != t.step {
		return 0, fmt.Errorf("%w: window %s: step %v, this console samples it at %v", errHistoryRecord, name, step, t.step)
	}
	n := (len(rec) - historyHeader) / sampleLen
	if n > len(t.ring) {
		return 0, fmt.Errorf("%w: window %s: %d samples, more than its %d", errHistoryRecord, name, n, len(t.ring))
	}
	kept := make([]sample, 0, n)
	for j := range n {
		p := rec[historyHeader+j*sampleLen:]
		s := sample{at: time.Unix(0, int64(binary.BigEndian.Uint64(p))), announces: binary.BigEndian.Uint64(p[8:]),
			peers: binary.BigEndian.Uint64(p[16:]), swarms: binary.BigEndian.Uint64(p[24:])}
		if s.at.After(now) || (len(kept) > 0 && !s.at.After(kept[len(kept)-1].at)) {
			return 0, fmt.Errorf("%w: window %s: sample %d out of order", errHistoryRecord, name, j)
		}
		if now.Sub(s.at) <= t.span {
			kept = append(kept, s)
		}
	}
	if t.next != 0 || t.full {
		return 0, fmt.Errorf("%w: window %s already holds samples", errHistoryRecord, name)
	}
	copy(t.ring, kept)
	t.next = len(kept) % len(t.ring)
	t.full = len(kept) == len(t.ring)
	if len(kept) > 0 && (h.first.IsZero() || kept[0].at.Before(h.first)) {
		h.first = kept[0].at
	}
	return len(kept), nil
}

// loadHistory puts the Keeper's records back into the history; what
// cannot be read is logged, counted and left out, never an error.
func (c *Console) loadHistory() {
	if c.opt.Keeper == nil {
		return
	}
	now, loaded := c.opt.Now(), 0
	err := c.opt.Keeper.LoadHistory(func(name string, rec []byte) {
		n, err := c.hist.load(name, rec, now)
		if err != nil {
			c.histBad.Add(1)
			c.opt.Logger.Warn("console: chart history record ignored", "err", err)
			return
		}
		loaded += n
	})
	if err != nil {
		c.histBad.Add(1)
		c.opt.Logger.Warn("console: chart history not loaded", "err", err)
	}
	c.opt.Logger.Info("console: chart history restored", "samples", loaded)
}

// saveHistory hands the history to the Keeper.
func (c *Console) saveHistory() {
	if c.opt.Keeper == nil {
		return
	}
	if err := c.opt.Keeper.SaveHistory(c.hist.records()); err != nil {
		c.histFailed.Add(1)
		c.opt.Logger.Warn("console: chart history not saved", "err", err)
	}
}
