package streaming

import (
	"fmt"
	"sync/atomic"

	"github.com/go-i2p/go-opentracker/i2p"
)

// refuse answers a SYN it opens no stream for with a signed RESET carrying
// FROM, as Java's limitAction "reset" does.
func (m *Manager) refuse(p *Packet, fromPort, toPort uint16) {
	r := &Packet{SendStreamID: p.ReceiveStreamID, ReceiveStreamID: randomID(), AckThrough: p.Seq,
		Flags: FlagReset | FlagFrom, From: m.id.Destination}
	m.sendSigned(p.From, toPort, fromPort, r, &m.c.resetsSent)
}

// sendSigned adds our offline block to r, signs it, counts it in sent and
// sends it (counted first: the answer may arrive before Send returns).
func (m *Manager) sendSigned(to i2p.Destination, fromPort, toPort uint16, r *Packet, sent *atomic.Uint64) {
	m.addOffline(r)
	raw, err := r.AppendSigned(nil, m.id.Key)
	if err != nil {
		m.cfg.Logger.Warn("streaming: refusal not made", "err", err)
		return
	}
	sent.Add(1)
	m.send(to, fromPort, toPort, raw)
}

// tooManyBody is the body of the 429 response.
const tooManyBody = "Too many connections from your Destination or in all; try again later.\n"

// tooManyResponse is the whole HTTP response a refused SYN is answered
// with under LimitHTTP.
func tooManyResponse(retryAfter int) []byte {
	return fmt.Appendf(nil, "HTTP/1.1 429 Too Many Requests\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n"+
		"Content-Length: %d\r\n"+
		"Retry-After: %d\r\n"+
		"Cache-Control: no-store\r\n"+
		"Connection: close\r\n\r\n%s", len(tooManyBody), retryAfter, tooManyBody)
}

// reply429 answers a SYN over a limit, as Java's limitAction "http" does,
// with one signed packet that is both the SYN reply and our CLOSE and
// carries the 429 response. No stream is kept: the reply is not
// retransmitted, and the stream ID is remembered among the recently
// closed ones so that the peer's CLOSE is acknowledged.
func (m *Manager) reply429(p *Packet, fromPort, toPort uint16, retryAfter int) {
	m.mu.Lock()
	id := m.newID()
	m.rememberClosed(closedStream{localID: id, remoteID: p.ReceiveStreamID, peer: p.From,
		localPort: toPort, remotePort: fromPort, ackThrough: p.Seq, refused: true})
	m.mu.Unlock()
	r := &Packet{SendStreamID: p.ReceiveStreamID, ReceiveStreamID: id, AckThrough: p.Seq,
		Flags: FlagSYN | FlagClose | FlagFrom | FlagDelay | FlagMaxPacketSize,
		From:  m.id.Destination, MaxPacketSize: uint16(m.cfg.MTU),
		Payload: tooManyResponse(retryAfter)}
	m.sendSigned(p.From, toPort, fromPort, r, &m.c.replies429)
}
