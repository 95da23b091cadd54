package plugin

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/simclient"
	"github.com/go-i2p/go-opentracker/tracker"
	"github.com/go-i2p/go-opentracker/tracker/udptracker"
)

// conformanceConfig is the configuration file the conformance tests run
// with: values unlike the defaults, so that a reply shows the configured
// value was used (lifetime, peers per reply), and a swarm limit small
// enough to reach.
const (
	conformanceLifetime = 900
	conformanceWant     = 30
	conformanceMaxSwarm = 60
)

var conformanceConfig = fmt.Sprintf("connection_lifetime: %d\nmax_peers: %d\nmax_peers_per_swarm: %d\n",
	conformanceLifetime, conformanceWant, conformanceMaxSwarm)

// startConformance starts the plugin on a fresh data directory holding
// conformanceConfig, against a fresh router simulator.
func startConformance(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConfigFileName), []byte(conformanceConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return start(t, dir, newRouter(t))
}

// fillSwarm adds n peers to a swarm straight through the swarm model, as
// if they had announced before (seeds when seed is set). The tracker
// knows them by hash only: it holds none of their Destinations. It
// returns their hashes.
func fillSwarm(t *testing.T, p *Plugin, info [20]byte, n int, seed bool) []i2p.Hash {
	t.Helper()
	left := uint64(1)
	if seed {
		left = 0
	}
	out := make([]i2p.Hash, n)
	for i := range out {
		out[i] = i2p.HashOf(fmt.Appendf(nil, "%x/%v/%d", info, seed, i))
		req := tracker.AnnounceRequest{InfoHash: info, Peer: out[i], Event: tracker.EventStarted, Left: left}
		if _, err := p.Tracker().Announce(&req, nil); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// udpCounters flattens the UDP transport's and the swarm model's counters
// into one map: "connects", "announces", "scrapes", "lookups",
// "url_data", "bad_options", "drop:<reason>", "error:<reason>" and
// "refused:<reason>".
func udpCounters(e *env) map[string]uint64 {
	s := e.plugin.run.udp.Stats().Snapshot()
	m := map[string]uint64{"connects": s.Connects, "announces": s.Announces, "scrapes": s.Scrapes, "lookups": s.Lookups,
		"url_data": s.URLData, "bad_options": s.BadOptions}
	for k, v := range s.Drops {
		m["drop:"+k] = v
	}
	for k, v := range s.Errors {
		m["error:"+k] = v
	}
	for k, v := range e.plugin.Tracker().Stats().Snapshot().Refused {
		m["refused:"+k] = v
	}
	return m
}

// checkMoved fails unless exactly the counters named in moves (a name
// once per step) went up from before to after, by those steps.
func checkMoved(t *testing.T, before, after map[string]uint64, moves []string) {
	t.Helper()
	want := map[string]uint64{}
	for _, k := range moves {
		want[k]++
	}
	for k, v := range after {
		if d := v - before[k]; d != want[k] {
			t.Errorf("counter %s moved by %d, want %d", k, d, want[k])
		}
	}
	for k := range want {
		if _, ok := after[k]; !ok {
			t.Errorf("no counter %s", k)
		}
	}
}

// announceReply decodes an announce response or fails.
func announceReply(t *testing.T, p []byte) simclient.AnnounceResult {
	t.Helper()
	r, err := simclient.ParseAnnounceReply(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestUDPConformance runs every proposal-160 rule end to end: real
// Datagram2/3 from distinct identities, through the router simulator over
// TCP, into the running plugin. Rules that answer are checked by their
// reply and the counters it moved; rules that drop are checked by the
// counter of their reason and by the absence of a reply.
func TestUDPConformance(t *testing.T) {
	f := newUDPFixture(t)
	for _, c := range f.answeredCases() {
		t.Run(c.name, func(t *testing.T) { f.checkAnswered(t, c) })
	}
	t.Run("connection id from the previous epoch", f.checkPreviousEpoch)
	t.Run("key, IP and port ignored", f.checkKeyIPPortIgnored)
	for _, c := range f.droppedCases(t) {
		t.Run(c.name, func(t *testing.T) { f.checkDropped(t, c) })
	}
}

// udpFixture is the plugin TestUDPConformance talks to, its clients and
// the swarms it prepared.
type udpFixture struct {
	e         *env
	tracker   i2p.Destination
	ids       *udptracker.ConnIDs
	alice     *simclient.Client
	aliceHash i2p.Hash
	// stranger is a client the tracker never heard a Datagram2 from,
	// holding an id (it connected before a restart): its reply needs a
	// HostLookup.
	stranger *simclient.Client
	// Swarms prepared through the swarm model: one beyond the 50-peer
	// cap, one where a seed must get leechers first (leechers are its
	// leechers), one at the limit.
	infoBig, infoSeed, infoFull [20]byte
	leechers                    []i2p.Hash
}

func newUDPFixture(t *testing.T) *udpFixture {
	t.Helper()
	e := startConformance(t)
	f := &udpFixture{e: e, tracker: e.plugin.Identity().Destination, ids: e.plugin.run.udp.ConnIDs()}
	f.alice, _ = e.net.NewClient(6880, true)
	if err := f.alice.Connect(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	f.stranger, _ = e.net.NewClient(6890, true)
	strangerHash := f.stranger.Hash()
	f.stranger.ConnID = f.ids.Issue(&strangerHash, time.Now())
	f.aliceHash = f.alice.Hash()

	f.infoBig, f.infoSeed, f.infoFull = [20]byte{0xb1}, [20]byte{0x5e}, [20]byte{0xf0}
	fillSwarm(t, e.plugin, f.infoBig, 55, false)
	fillSwarm(t, e.plugin, f.infoSeed, 40, true)
	f.leechers = fillSwarm(t, e.plugin, f.infoSeed, 5, false)
	fillSwarm(t, e.plugin, f.infoFull, conformanceMaxSwarm, false)
	return f
}

// ann builds an announce from c; edit changes fields before encoding.
func (f *udpFixture) ann(c *simclient.Client, edit func(a *udptracker.Announce)) []byte {
	a := udptracker.Announce{Header: udptracker.Header{ConnectionID: c.ConnID, TransactionID: c.Tx()}, NumWant: -1, Port: 6881}
	if edit != nil {
		edit(&a)
	}
	return udptracker.AppendAnnounceRequest(nil, &a)
}

// announce builds a bare announce with connection id cid.
func announce(cid uint64, tx uint32) []byte {
	return udptracker.AppendAnnounceRequest(nil, &udptracker.Announce{Header: udptracker.Header{ConnectionID: cid, TransactionID: tx}, NumWant: -1})
}

// dg2 signs payload as a Datagram2 from keys to the hash to.
func dg2(t *testing.T, keys *i2p.PrivateKeys, to i2p.Hash, payload []byte) []byte {
	t.Helper()
	b, err := datagram.AppendDatagram2(nil, keys, to, nil, payload)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dg3 frames payload as a Datagram3 from the hash from.
func dg3(from i2p.Hash, payload []byte) []byte {
	b, _ := datagram.AppendDatagram3(nil, from, nil, payload)
	return b
}

// scrapeHashes returns n distinct info hashes.
func scrapeHashes(n int) [][20]byte {
	out := make([][20]byte, n)
	for i := range out {
		out[i] = [20]byte{0xee, byte(i)}
	}
	return out
}

// withAction overwrites the action of a BEP 15 request.
func withAction(b []byte, action uint32) []byte {
	binary.BigEndian.PutUint32(b[8:], action)
	return b
}

// answeredCase is a request the tracker answers: the reply's action and
// message, the counters it moves, and any further check of the reply.
type answeredCase struct {
	name     string
	from     *simclient.Client // nil: alice
	protocol uint8
	payload  []byte // the BEP 15 request; the client frames it
	action   uint32
	message  string // in an error reply
	moves    []string
	check    func(t *testing.T, p []byte)
}

func (f *udpFixture) answeredCases() []answeredCase {
	return []answeredCase{
		{name: "connect as Datagram2: 18 bytes with the configured lifetime", protocol: datagram.ProtocolDatagram2,
			payload: udptracker.AppendConnectRequest(nil, f.alice.Tx()), action: udptracker.ActionConnect, moves: []string{"connects"},
			check: func(t *testing.T, p []byte) {
				if len(p) != 18 || binary.BigEndian.Uint16(p[16:]) != conformanceLifetime {
					t.Fatalf("connect reply %x, want 18 bytes ending in lifetime %d", p, conformanceLifetime)
				}
				if id := binary.BigEndian.Uint64(p[8:]); !f.ids.Valid(id, &f.aliceHash, time.Now()) {
					t.Fatal("connection id not valid for its sender")
				}
			}},
		{name: "announce as Datagram3", protocol: datagram.ProtocolDatagram3, payload: announce(f.alice.ConnID, f.alice.Tx()),
			action: udptracker.ActionAnnounce, moves: []string{"announces"}},
		{name: "scrape as Datagram3", protocol: datagram.ProtocolDatagram3,
			payload: udptracker.AppendScrapeRequest(nil, f.alice.ConnID, f.alice.Tx(), [20]byte{1}), action: udptracker.ActionScrape, moves: []string{"scrapes"}},
		{name: "scrape of 74 hashes", protocol: datagram.ProtocolDatagram3,
			payload: udptracker.AppendScrapeRequest(nil, f.alice.ConnID, f.alice.Tx(), scrapeHashes(tracker.MaxScrapeHashes)...),
			action:  udptracker.ActionScrape, moves: []string{"scrapes"},
			check: func(t *testing.T, p []byte) {
				if len(p) != 8+12*tracker.MaxScrapeHashes {
					t.Fatalf("scrape reply of %d bytes", len(p))
				}
			}},
		{name: "scrape of 75 hashes", protocol: datagram.ProtocolDatagram3,
			payload: udptracker.AppendScrapeRequest(nil, f.alice.ConnID, f.alice.Tx(), scrapeHashes(tracker.MaxScrapeHashes+1)...),
			action:  udptracker.ActionError, message: "too many scrape hashes", moves: []string{"error:malformed_request"}},
		{name: "connect as Datagram3", protocol: datagram.ProtocolDatagram3, payload: udptracker.AppendConnectRequest(nil, f.alice.Tx()),
			action: udptracker.ActionError, message: "Datagram2", moves: []string{"error:wrong_datagram_type"}},
		{name: "announce as Datagram2", protocol: datagram.ProtocolDatagram2, payload: announce(f.alice.ConnID, f.alice.Tx()),
			action: udptracker.ActionError, message: "Datagram3", moves: []string{"error:wrong_datagram_type"}},
		{name: "bad connection id", protocol: datagram.ProtocolDatagram3, payload: announce(f.alice.ConnID^1, f.alice.Tx()),
			action: udptracker.ActionError, message: "connection ID", moves: []string{"error:bad_connection_id"}},
		{name: "expired connection id", protocol: datagram.ProtocolDatagram3,
			payload: announce(f.ids.Issue(&f.aliceHash, time.Now().Add(-2*f.ids.Epoch())), f.alice.Tx()),
			action:  udptracker.ActionError, message: "connection ID", moves: []string{"error:bad_connection_id"}},
		{name: "unknown action as Datagram3", protocol: datagram.ProtocolDatagram3,
			payload: withAction(udptracker.AppendScrapeRequest(nil, f.alice.ConnID, f.alice.Tx(), [20]byte{1}), 7),
			action:  udptracker.ActionError, message: "unknown action", moves: []string{"error:unknown_action"}},
		{name: "unknown action as Datagram2", protocol: datagram.ProtocolDatagram2,
			payload: withAction(udptracker.AppendScrapeRequest(nil, f.alice.ConnID, f.alice.Tx(), [20]byte{1}), 7),
			action:  udptracker.ActionError, message: "unknown action", moves: []string{"error:unknown_action"}},
		{name: "short announce", protocol: datagram.ProtocolDatagram3, payload: f.ann(f.alice, nil)[:60],
			action: udptracker.ActionError, message: "malformed request", moves: []string{"error:malformed_request"}},
		{name: "bad event", protocol: datagram.ProtocolDatagram3, payload: f.ann(f.alice, func(a *udptracker.Announce) { a.Event = 4 }),
			action: udptracker.ActionError, message: "bad event", moves: []string{"error:malformed_request"}},
		{name: "swarm at its peer limit", protocol: datagram.ProtocolDatagram3,
			payload: f.ann(f.alice, func(a *udptracker.Announce) { a.InfoHash = f.infoFull; a.Event = tracker.EventStarted; a.Left = 1 }),
			action:  udptracker.ActionError, message: tracker.ErrSwarmFull.Error(), moves: []string{"error:refused", "refused:swarm_full"}},
		{name: "BEP 41 URL data", protocol: datagram.ProtocolDatagram3,
			payload: append(f.ann(f.alice, nil), "\x02\x0c/announce?k=\x02\x02v1\x01\x00"...),
			action:  udptracker.ActionAnnounce, moves: []string{"announces", "url_data"}},
		{name: "BEP 41 option overrunning the datagram", protocol: datagram.ProtocolDatagram3,
			payload: append(f.ann(f.alice, nil), "\x02\x02/a\x07\xff"...),
			action:  udptracker.ActionAnnounce, moves: []string{"announces", "url_data", "bad_options"}},
		{name: "negative num_want: the configured default", protocol: datagram.ProtocolDatagram3,
			payload: f.ann(f.alice, func(a *udptracker.Announce) { a.InfoHash = f.infoBig; a.Left = 1; a.NumWant = -7 }),
			action:  udptracker.ActionAnnounce, moves: []string{"announces"},
			check: func(t *testing.T, p []byte) {
				if r := announceReply(t, p); len(r.Peers) != conformanceWant || r.Leechers != 56 {
					t.Fatalf("%d peers of %d leechers, want %d", len(r.Peers), r.Leechers, conformanceWant)
				}
			}},
		{name: "num_want over 50: capped", protocol: datagram.ProtocolDatagram3,
			payload: f.ann(f.alice, func(a *udptracker.Announce) { a.InfoHash = f.infoBig; a.Left = 1; a.NumWant = 200 }),
			action:  udptracker.ActionAnnounce, moves: []string{"announces"},
			check: func(t *testing.T, p []byte) {
				r := announceReply(t, p)
				if len(r.Peers) != udptracker.MaxPeers || len(p) != 20+32*udptracker.MaxPeers || slices.Contains(r.Peers, f.aliceHash) {
					t.Fatalf("%d peers in %d bytes", len(r.Peers), len(p))
				}
			}},
		{name: "a seed gets leechers first", protocol: datagram.ProtocolDatagram3,
			payload: f.ann(f.alice, func(a *udptracker.Announce) { a.InfoHash = f.infoSeed; a.NumWant = 8 }),
			action:  udptracker.ActionAnnounce, moves: []string{"announces"},
			check: func(t *testing.T, p []byte) {
				r := announceReply(t, p)
				if len(r.Peers) != 8 || r.Seeders != 41 || r.Leechers != 5 {
					t.Fatalf("%d peers, %d seeders, %d leechers", len(r.Peers), r.Seeders, r.Leechers)
				}
				for _, l := range f.leechers {
					if !slices.Contains(r.Peers, l) {
						t.Fatalf("leecher %x left out of a seed's reply", l[:4])
					}
				}
			}},
		{name: "unknown sender: looked up, then answered", from: f.stranger, protocol: datagram.ProtocolDatagram3,
			payload: f.ann(f.stranger, func(a *udptracker.Announce) { a.InfoHash = [20]byte{0x10}; a.Left = 1 }),
			action:  udptracker.ActionAnnounce, moves: []string{"announces", "lookups"}},
	}
}

func (f *udpFixture) checkAnswered(t *testing.T, c answeredCase) {
	from := c.from
	if from == nil {
		from = f.alice
	}
	before := udpCounters(f.e)
	r, err := from.Request(ctx5(t), c.protocol, c.payload)
	if err != nil {
		t.Fatal(err)
	}
	if r.FromPort != 6969 || r.ToPort != from.Port {
		t.Fatalf("reply sent from %d to %d", r.FromPort, r.ToPort)
	}
	if got := binary.BigEndian.Uint32(r.Payload); got != c.action || !strings.Contains(string(r.Payload[8:]), c.message) {
		t.Fatalf("action %d %q, want %d with %q", got, r.Payload[8:], c.action, c.message)
	}
	if c.check != nil {
		c.check(t, r.Payload)
	}
	checkMoved(t, before, udpCounters(f.e), c.moves)
}

// checkPreviousEpoch: an id from the previous epoch is still good. It is
// computed from the wall clock, which the plugin reads too: should the
// epoch turn between the two readings, the attempt proves nothing and is
// made again (at most once more: epochs last lifetime + 60 s).
func (f *udpFixture) checkPreviousEpoch(t *testing.T) {
	epoch := func() int64 { return time.Now().Unix() / int64(f.ids.Epoch()/time.Second) }
	for attempt := 0; ; attempt++ {
		e0 := epoch()
		cid := f.ids.Issue(&f.aliceHash, time.Now().Add(-f.ids.Epoch()))
		r, err := f.alice.Request(ctx5(t), datagram.ProtocolDatagram3, announce(cid, f.alice.Tx()))
		if err != nil {
			t.Fatal(err)
		}
		if binary.BigEndian.Uint32(r.Payload) == udptracker.ActionAnnounce {
			break
		}
		if epoch() == e0 || attempt == 1 {
			t.Fatalf("previous epoch's id refused: %q", r.Payload[8:])
		}
	}
}

// checkKeyIPPortIgnored: key, IP and port are not enforced: announces
// that differ only in them get the same answer and leave one peer.
func (f *udpFixture) checkKeyIPPortIgnored(t *testing.T) {
	info := [20]byte{0x4b}
	var first []byte
	for i, v := range []struct {
		key, ip uint32
		port    uint16
	}{{0, 0, 6881}, {0xdeadbeef, 0x0a000001, 1}, {7, 0xffffffff, 0}} {
		r, err := f.alice.Request(ctx5(t), datagram.ProtocolDatagram3, f.ann(f.alice, func(a *udptracker.Announce) {
			a.InfoHash, a.Left, a.Key, a.IP, a.Port = info, 1, v.key, v.ip, v.port
		}))
		if err != nil {
			t.Fatal(err)
		}
		if r.ToPort != f.alice.Port {
			t.Fatalf("reply sent to port %d, not the from-port", r.ToPort)
		}
		if i == 0 {
			first = r.Payload
		} else if !slices.Equal(r.Payload[8:], first[8:]) {
			t.Fatalf("reply %x differs from %x", r.Payload, first)
		}
	}
	if s := f.e.plugin.Tracker().Scrape(info); s.Leechers != 1 {
		t.Fatalf("swarm %+v, want one leecher", s)
	}
}

// droppedCase is a datagram the tracker drops, counted under reason
// (empty: no handler on that port, counted by the session).
type droppedCase struct {
	name             string
	protocol         uint8
	fromPort, toPort uint16
	payload          []byte
	reason           string
}

func (f *udpFixture) droppedCases(t *testing.T) []droppedCase {
	ghost, _ := f.e.net.NewClient(6882, false)
	return []droppedCase{
		{"Datagram1 on the tracker port", datagram.ProtocolDatagram1, 6880, 6969, []byte("repliable but replayable"), "datagram1"},
		{"another port", datagram.ProtocolDatagram3, 6880, 6970, dg3(f.alice.Hash(), announce(f.alice.ConnID, 1)), ""},
		{"from-port 0", datagram.ProtocolDatagram3, 0, 6969, dg3(f.alice.Hash(), announce(f.alice.ConnID, 1)), "from_port_zero"},
		{"all-zero sender", datagram.ProtocolDatagram3, 6880, 6969, dg3(i2p.Hash{}, announce(f.alice.ConnID, 1)), "zero_sender"},
		{"Datagram2 for another receiver", datagram.ProtocolDatagram2, 6880, 6969, dg2(t, f.alice.Keys, i2p.HashOf([]byte("x")), udptracker.AppendConnectRequest(nil, 1)), "bad_signature"},
		{"connect with a bad protocol id", datagram.ProtocolDatagram2, 6880, 6969,
			dg2(t, f.alice.Keys, f.tracker.Hash(), func() []byte { b := udptracker.AppendConnectRequest(nil, 1); b[0] ^= 0x80; return b }()), "malformed_request"},
		{"malformed Datagram2", datagram.ProtocolDatagram2, 6880, 6969, []byte("not a Datagram2"), "malformed_datagram"},
		{"malformed Datagram3", datagram.ProtocolDatagram3, 6880, 6969, []byte("short"), "malformed_datagram"},
		{"short BEP 15 header", datagram.ProtocolDatagram3, 6880, 6969, dg3(f.alice.Hash(), []byte("0123")), "malformed_request"},
		{"unknown sender that cannot be looked up", datagram.ProtocolDatagram3, 6882, 6969, dg3(ghost.Hash(), announce(0, 1)), "lookup_failed"},
	}
}

func (f *udpFixture) checkDropped(t *testing.T, c droppedCase) {
	e := f.e
	before := e.plugin.run.udp.Stats().Snapshot()
	sess := e.plugin.Session().Stats()
	if err := injectRaw(e, c.protocol, c.fromPort, c.toPort, c.payload); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		after := e.plugin.run.udp.Stats().Snapshot()
		if c.reason == "" {
			if e.plugin.Session().Stats().DroppedUnclaimed > sess.DroppedUnclaimed {
				break // no handler on that port: counted by the session
			}
		} else if after.Drops[c.reason] > before.Drops[c.reason] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not counted as %q: %v", c.reason, after.Drops)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := e.net.Unmatched.Load(); n != 0 {
		t.Fatalf("%d unexpected replies", n)
	}
}

func injectRaw(e *env, protocol uint8, fromPort, toPort uint16, dg []byte) error {
	return e.host.router.Inject(e.plugin.Identity().Destination.Hash(), envelope(protocol, fromPort, toPort, dg))
}
