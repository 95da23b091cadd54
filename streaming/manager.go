package streaming

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// maxPongPayload is how much of a ping's payload a pong echoes (Java's
// limit).
const maxPongPayload = 32

// recentlyClosedLen is how many closed stream IDs are remembered, so that
// they are not reused and late packets for them are recognised; as many
// refused ones (answered with a 429) are remembered apart, so that a
// flood of refusals does not push the streams that ran out.
const recentlyClosedLen = 64

// Manager runs the streams of one Destination over one Link: it routes
// received packets to their streams, opens streams for signed SYNs when a
// Listener is open, and dials. Safe for concurrent use.
//
// Lock order: a Conn's lock may be held while the Manager's is taken,
// never the reverse.
type Manager struct {
	link Link
	id   Identity
	hash i2p.Hash
	cfg  Config
	c    tally

	mu       sync.Mutex
	streams  map[uint32]*Conn   // by our stream ID
	bySYN    map[synKey]*Conn   // inbound streams by peer and peer's ID
	byRemote map[uint32]*Conn   // inbound streams by the peer's ID
	perPeer  map[i2p.Hash]int   // open streams per peer
	early    map[uint32]*earlyQ // packets waiting for their SYN
	recent   closedRing         // streams that ran
	refused  closedRing         // streams refused with a 429
	backlog  chan *Conn         // nil without a Listener
	closed   bool
	rates    *rateLimiter
}

// closedStream is what is kept of a finished stream to acknowledge a
// retransmitted CLOSE whose ACK was lost.
type closedStream struct {
	localID, remoteID     uint32
	peer                  i2p.Destination
	localPort, remotePort uint16
	ackThrough            uint32
	refused               bool // opened by a SYN we refused with an HTTP 429
}

type synKey struct {
	peer i2p.Hash
	id   uint32
}

type earlyQ struct {
	first time.Time
	pkts  []earlyPacket
}

type earlyPacket struct {
	fromPort, toPort uint16
	raw              []byte
}

// NewManager makes a Manager that signs as id and sends over link; feed it
// what arrives with HandlePacket.
func NewManager(link Link, id Identity, cfg Config) (*Manager, error) {
	if id.Destination.IsZero() || id.Key.Type.SignatureLen() == 0 {
		return nil, errors.New("streaming: identity needs a Destination and a signing key")
	}
	if id.Offline == nil && id.Key.Type != id.Destination.SigType() {
		return nil, fmt.Errorf("streaming: key type %v, Destination signs with %v", id.Key.Type, id.Destination.SigType())
	}
	id.Key = id.Key.Prepared() // every SYN reply, CLOSE and RESET is signed with it
	return &Manager{
		link: link, id: id, hash: id.Destination.Hash(), cfg: cfg.withDefaults(),
		streams: map[uint32]*Conn{}, bySYN: map[synKey]*Conn{}, byRemote: map[uint32]*Conn{},
		perPeer: map[i2p.Hash]int{}, early: map[uint32]*earlyQ{}, rates: newRateLimiter(cfg.withDefaults()),
	}, nil
}

// Destination is the Manager's own Destination.
func (m *Manager) Destination() i2p.Destination { return m.id.Destination }

// HandlePacket takes one received streaming payload (I2CP protocol 6)
// with its ports. It does not keep packet.
func (m *Manager) HandlePacket(fromPort, toPort uint16, packet []byte) {
	m.c.packetsIn.Add(1)
	p, err := Parse(packet)
	if err != nil {
		m.c.drops.Add(DropMalformed)
		return
	}
	m.route(p, fromPort, toPort, packet)
}

// route hands a parsed packet to its stream, or to what opens or keeps
// one; packet is p's bytes, copied if they are kept.
func (m *Manager) route(p *Packet, fromPort, toPort uint16, packet []byte) {
	switch {
	case p.Has(FlagEcho):
		m.handleEcho(p, fromPort, toPort)
	case p.SendStreamID != 0:
		m.mu.Lock()
		c := m.streams[p.SendStreamID]
		m.mu.Unlock()
		if c == nil {
			m.c.drops.Add(DropUnknownStream)
			m.ackLateClose(p)
			return
		}
		c.handle(p)
	case p.Has(FlagSYN):
		m.handleSYN(p, fromPort, toPort)
	default:
		m.handleEarly(p, fromPort, toPort, packet)
	}
}

// ackLateClose acknowledges a retransmitted CLOSE for a recently closed
// stream, whose ACK was lost. A refused stream has nothing left to lose:
// its peer's CLOSE is acknowledged whatever came before it.
func (m *Manager) ackLateClose(p *Packet) {
	if !p.Has(FlagClose) {
		return
	}
	m.mu.Lock()
	closed, ok := m.findClosed(p.SendStreamID)
	m.mu.Unlock()
	if !ok || p.ReceiveStreamID != closed.remoteID || p.Seq > closed.ackThrough && !closed.refused {
		return
	}
	ack := &Packet{SendStreamID: closed.remoteID, ReceiveStreamID: closed.localID, AckThrough: closed.ackThrough}
	if closed.refused {
		ack.AckThrough = p.Seq
	}
	if raw, err := ack.AppendTo(nil); err == nil {
		m.send(closed.peer, closed.localPort, closed.remotePort, raw)
	}
}

// handleEcho answers a signed ping with a pong, as Java does: ECHO and
// NO_ACK, signed, the first 32 bytes of the payload. Pongs are dropped:
// this package sends no pings.
func (m *Manager) handleEcho(p *Packet, fromPort, toPort uint16) {
	if p.SendStreamID == 0 || !p.Has(FlagFrom) {
		m.c.drops.Add(DropUnknownStream)
		return
	}
	if err := m.verify(p, Signer{}); err != nil {
		m.c.drops.Add(DropBadSignature)
		return
	}
	pong := &Packet{ReceiveStreamID: p.SendStreamID, Flags: FlagEcho | FlagNoACK}
	pong.Payload = p.Payload[:min(len(p.Payload), maxPongPayload)]
	raw, err := pong.AppendSigned(nil, m.id.Key)
	if err != nil {
		return
	}
	m.c.pings.Add(1)
	m.send(p.From, toPort, fromPort, raw)
}

// handleSYN opens an inbound stream for a new, signed SYN addressed to us,
// or hands a duplicate to the stream it opened.
func (m *Manager) handleSYN(p *Packet, fromPort, toPort uint16) {
	if !p.Has(FlagFrom) || !p.Has(FlagSignature) {
		m.c.drops.Add(DropUnsignedSYN)
		return
	}
	if h, ok := p.TargetHash(); ok && !h.Equal(&m.hash) {
		m.c.drops.Add(DropWrongTarget)
		return
	}
	key := synKey{peer: p.From.Hash(), id: p.ReceiveStreamID}
	m.mu.Lock()
	dup := m.bySYN[key]
	m.mu.Unlock()
	if dup != nil {
		m.c.duplicateSYNs.Add(1)
		dup.handle(p)
		return
	}
	if err := m.verify(p, Signer{}); err != nil {
		m.c.drops.Add(DropBadSignature)
		return
	}
	if p.ReceiveStreamID == 0 {
		m.c.drops.Add(DropMalformed)
		return
	}
	c, why := m.openInbound(p, key, fromPort, toPort, time.Now())
	if c == nil {
		m.c.refusals.Add(why.reason)
		if why.limit && m.cfg.LimitAction == LimitHTTP {
			m.reply429(p, fromPort, toPort, why.retryAfter)
		} else {
			m.refuse(p, fromPort, toPort)
		}
		return
	}
	c.handlePacket(p, true)
	for _, e := range m.takeEarly(p.ReceiveStreamID) {
		// Parsed when it came and counted then: only routed now.
		if q, err := Parse(e.raw); err == nil {
			m.route(q, e.fromPort, e.toPort, e.raw)
		}
	}
}

var errRefused = errors.New("streaming: stream refused")

// refusal says why a SYN opened no stream: the counter of its reason,
// whether it is over a limit (answered by Config.LimitAction) and, for a
// rate limit, in how many seconds the peer may try again.
type refusal struct {
	reason     Refusal
	limit      bool
	retryAfter int
}

// concurrencyRetryAfter is the Retry-After of a 429 for a stream over
// MaxStreams or MaxStreamsPerPeer: streams are short, a slot frees soon.
const concurrencyRetryAfter = 10

// openInbound registers a stream for a verified SYN, or says why not. The
// rate limits count a stream only when it passes every other check.
func (m *Manager) openInbound(p *Packet, key synKey, fromPort, toPort uint16, now time.Time) (*Conn, refusal) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.backlog == nil || m.closed:
		return nil, refusal{reason: RefusedNotListening}
	case len(m.streams) >= m.cfg.MaxStreams:
		return nil, refusal{RefusedMaxStreams, true, concurrencyRetryAfter}
	case m.perPeer[key.peer] >= m.cfg.MaxStreamsPerPeer:
		return nil, refusal{RefusedMaxStreamsPerPeer, true, concurrencyRetryAfter}
	case len(m.backlog) == cap(m.backlog):
		return nil, refusal{reason: RefusedBacklogFull}
	}
	switch why, after := m.rates.allow(key.peer, now); why {
	case overPeerMinute:
		return nil, refusal{RefusedPeerMinute, true, after}
	case overPeerHour:
		return nil, refusal{RefusedPeerHour, true, after}
	case overTotalMinute:
		return nil, refusal{RefusedTotalMinute, true, after}
	}
	c := newConn(m, m.newID(), p.PacketSigner(), true)
	c.remoteID = p.ReceiveStreamID
	c.localPort, c.remotePort = toPort, fromPort
	c.peerHash = key.peer
	// The stream goes to the backlog before its SYN is processed: Accept
	// may return it a moment early, and a Read then waits for the data.
	m.backlog <- c
	m.c.accepted.Add(1)
	m.streams[c.localID] = c
	m.bySYN[key] = c
	m.byRemote[c.remoteID] = c
	m.perPeer[key.peer]++
	return c, refusal{}
}

// addOffline adds our offline block to a packet with FROM.
func (m *Manager) addOffline(p *Packet) {
	if m.id.Offline != nil && p.Has(FlagFrom) {
		p.Flags |= FlagOffline
		p.Offline = m.id.Offline
	}
}

// handleEarly routes a packet sent before its sender saw our SYN reply
// (sendStreamId 0) by the sender's ID, or keeps it, bounded, for a SYN
// still to come.
func (m *Manager) handleEarly(p *Packet, fromPort, toPort uint16, raw []byte) {
	m.mu.Lock()
	if c := m.byRemote[p.ReceiveStreamID]; c != nil {
		m.mu.Unlock()
		c.handle(p)
		return
	}
	defer m.mu.Unlock()
	now := time.Now()
	for id, q := range m.early {
		if now.Sub(q.first) > m.cfg.EarlyTimeout {
			delete(m.early, id)
		}
	}
	q := m.early[p.ReceiveStreamID]
	if q == nil {
		if len(m.early) >= m.cfg.MaxEarly || p.ReceiveStreamID == 0 {
			m.c.drops.Add(DropEarly)
			return
		}
		q = &earlyQ{first: now}
		m.early[p.ReceiveStreamID] = q
	}
	if len(q.pkts) >= m.cfg.EarlyPackets {
		m.c.drops.Add(DropEarly)
		return
	}
	q.pkts = append(q.pkts, earlyPacket{fromPort, toPort, append([]byte(nil), raw...)})
}

func (m *Manager) takeEarly(id uint32) []earlyPacket {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.early[id]
	delete(m.early, id)
	if q == nil {
		return nil
	}
	return q.pkts
}

// newID picks a stream ID that is nonzero, not open and not recently
// closed. Called with m.mu held.
func (m *Manager) newID() uint32 {
	for {
		id := randomID()
		if m.streams[id] == nil && !m.recentlyClosed(id) {
			return id
		}
	}
}

func (m *Manager) recentlyClosed(id uint32) bool {
	_, ok := m.findClosed(id)
	return ok
}

// findClosed looks a recently closed stream up. Called with m.mu held.
func (m *Manager) findClosed(id uint32) (closedStream, bool) {
	if id == 0 {
		return closedStream{}, false
	}
	if c, ok := m.recent.find(id); ok {
		return c, true
	}
	return m.refused.find(id)
}

// closedRing holds the last recentlyClosedLen streams added to it.
type closedRing struct {
	s  [recentlyClosedLen]closedStream
	at int
}

func (r *closedRing) add(c closedStream) {
	r.s[r.at] = c
	r.at = (r.at + 1) % recentlyClosedLen
}

func (r *closedRing) find(id uint32) (closedStream, bool) {
	for i := range r.s {
		if r.s[i].localID == id {
			return r.s[i], true
		}
	}
	return closedStream{}, false
}

func randomID() uint32 {
	var b [4]byte
	for {
		rand.Read(b[:])
		if id := binary.BigEndian.Uint32(b[:]); id != 0 && id != 0xffffffff {
			return id
		}
	}
}

// remove forgets a finished stream.
func (m *Manager) remove(c *Conn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.streams[c.localID] != c {
		return
	}
	delete(m.streams, c.localID)
	m.rememberClosed(closedStream{localID: c.localID, remoteID: c.remoteID, peer: c.peer.Destination,
		localPort: c.localPort, remotePort: c.remotePort, ackThrough: c.highest})
	if c.inbound {
		delete(m.bySYN, synKey{peer: c.peerHash, id: c.remoteID})
		if m.byRemote[c.remoteID] == c {
			delete(m.byRemote, c.remoteID)
		}
		if m.perPeer[c.peerHash]--; m.perPeer[c.peerHash] <= 0 {
			delete(m.perPeer, c.peerHash)
		}
	}
}

// rememberClosed adds a stream to the recently closed ones. Called with
// m.mu held.
func (m *Manager) rememberClosed(r closedStream) {
	if r.refused {
		m.refused.add(r)
	} else {
		m.recent.add(r)
	}
}

// verify checks p's signature (against known, else the FROM it carries)
// and counts the check: the costliest step of a stream.
func (m *Manager) verify(p *Packet, known Signer) error {
	m.c.verified.Add(1)
	return p.Verify(known, time.Now(), nil)
}

func (m *Manager) send(to i2p.Destination, fromPort, toPort uint16, raw []byte) {
	m.c.packetsOut.Add(1)
	if err := m.link.Send(to, fromPort, toPort, raw); err != nil {
		m.c.sendErrors.Add(1)
	}
}

// listen opens the accept backlog.
func (m *Manager) listen() (chan *Conn, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, net.ErrClosed
	}
	if m.backlog != nil {
		return nil, errors.New("streaming: already listening")
	}
	m.backlog = make(chan *Conn, m.cfg.AcceptBacklog)
	return m.backlog, nil
}

// unlisten stops accepting and refuses what waits in the backlog.
func (m *Manager) unlisten(ch chan *Conn) {
	m.mu.Lock()
	if m.backlog == ch {
		m.backlog = nil
	}
	m.mu.Unlock()
	for {
		select {
		case c := <-ch:
			c.abort(errRefused)
		default:
			return
		}
	}
}

// Close resets every open stream and stops accepting.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	all := make([]*Conn, 0, len(m.streams))
	for _, c := range m.streams {
		all = append(all, c)
	}
	ch := m.backlog
	m.mu.Unlock()
	if ch != nil {
		m.unlisten(ch)
	}
	for _, c := range all {
		c.abort(net.ErrClosed)
	}
	return nil
}
