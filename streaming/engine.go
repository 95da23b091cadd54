package streaming

import (
	"slices"
	"time"
)

// maxOutOfOrder bounds how far past the next expected packet a data
// packet may be and still be kept.
const maxOutOfOrder = 256

// fastRetransmitNACKs is how many ACKs must name a packet missing before
// it is sent again without waiting for the timeout (the specification's
// "two NACKs").
const fastRetransmitNACKs = 2

// closeResendsAfterPeerClose caps sends of our CLOSE once the peer's CLOSE
// is in: i2pd stops listening right after it answers one (Java: 3).
const closeResendsAfterPeerClose = 3

// handle processes one packet for this stream.
func (c *Conn) handle(p *Packet) { c.handlePacket(p, false) }

// handlePacket processes one packet for this stream; verified says its
// signature was checked already (the SYN that opened the stream), so it
// is not checked twice.
func (c *Conn) handlePacket(p *Packet, verified bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished {
		return
	}
	if !verified && (p.Has(FlagSignature) || p.Flags&(FlagSYN|FlagClose|FlagReset) != 0) {
		if err := c.m.verify(p, c.peer); err != nil {
			c.m.c.drops.Add(DropBadSignature)
			return
		}
	}
	if !c.inbound && c.remoteID == 0 {
		if !p.Has(FlagSYN) {
			c.m.c.drops.Add(DropUnknownStream)
			return // nothing but the signed reply may open the stream
		}
		c.remoteID = p.ReceiveStreamID
		if p.Has(FlagFrom) {
			c.peer = p.PacketSigner() // with its offline block, if any
		}
		close(c.replied)
	} else if p.ReceiveStreamID != c.remoteID {
		c.m.c.drops.Add(DropUnknownStream)
		return
	}
	c.lastHeard = time.Now()
	if p.Has(FlagReset) {
		c.m.c.resetsReceived.Add(1)
		c.finish(ErrReset)
		return
	}
	// A choking peer says so on every packet; one without says it is not.
	c.choked = p.Choked()
	if p.Has(FlagDelay) {
		c.peerDelay = int(p.Delay)
	}
	if p.Has(FlagSYN) && p.Has(FlagMaxPacketSize) {
		c.peerMTU = min(max(int(p.MaxPacketSize), minMTU), c.m.cfg.MTU)
	}
	// The NACKs of an opening SYN are the target hash, its ackThrough
	// invalid.
	if !p.Has(FlagNoACK) && !(p.Has(FlagSYN) && p.SendStreamID == 0) {
		c.processAck(p.AckThrough, p.NACKs)
	}
	if p.Seq > 0 || p.Flags&(FlagSYN|FlagClose) != 0 {
		c.receive(p.Seq, p.Payload, p.Has(FlagClose))
	}
	c.pump()
	c.maybeFinish()
	c.broadcast()
}

// receive takes a sequenced packet: in order it joins the read buffer,
// out of order it waits, bounded; either way an ACK is scheduled.
func (c *Conn) receive(seq uint32, payload []byte, closing bool) {
	_, held := c.ooo[seq]
	if c.recvAny && seq < c.recvNext || held {
		// A duplicate: our ACK, or our SYN reply, was probably lost.
		if seq == 0 && len(c.unacked) > 0 && c.unacked[0].seq == 0 {
			c.transmit(c.unacked[0])
		} else {
			c.scheduleAck(0)
		}
		return
	}
	if seq-c.recvNext > maxOutOfOrder {
		return
	}
	// The next packet in order is refused only when the read buffer alone
	// is full, so that held out-of-order packets cannot lock it out.
	full := len(c.rbuf) >= c.m.cfg.RecvBuffer
	if seq != c.recvNext {
		full = len(c.rbuf)+c.oooBytes+len(payload) > c.m.cfg.RecvBuffer
	}
	if !c.readClosed && full {
		c.m.c.drops.Add(DropReceiveBufferFull)
		c.choking = true
		c.scheduleAck(0)
		return
	}
	if !c.recvAny || seq > c.highest {
		c.highest = seq
	}
	c.recvAny = true
	if seq != c.recvNext {
		c.ooo[seq] = oooPacket{payload: append([]byte(nil), payload...), close: closing}
		c.oooBytes += len(payload)
		c.scheduleAck(0)
		return
	}
	c.deliver(payload, closing)
	for {
		o, ok := c.ooo[c.recvNext]
		if !ok {
			break
		}
		delete(c.ooo, c.recvNext)
		c.oooBytes -= len(o.payload)
		c.deliver(o.payload, o.close)
	}
	delay := c.m.cfg.AckDelay
	if c.peerDelay >= 0 && c.peerDelay < ChokeThreshold {
		delay = min(delay, time.Duration(c.peerDelay)*time.Millisecond)
	}
	if closing {
		delay = 0
	}
	if c.inbound && c.sendNext == 0 {
		// The SYN reply: at once for an empty SYN, else after a while for
		// the application's answer to ride in it.
		delay = 0
		if seq == 0 && (len(payload) > 0 || closing) {
			delay = c.m.cfg.ReplyHold
		}
	}
	c.scheduleAck(delay)
}

func (c *Conn) deliver(payload []byte, closing bool) {
	c.recvNext++
	if !c.readClosed && !c.peerClosed {
		c.rbuf = append(c.rbuf, payload...)
	}
	if closing {
		c.peerClosed = true
	}
}

// processAck drops what the peer acknowledged, takes an RTT sample from a
// packet sent once (Karn), grows the window and retransmits what enough
// ACKs name missing.
func (c *Conn) processAck(through uint32, nacks []uint32) {
	if len(c.unacked) == 0 || through >= c.sendNext {
		return // nothing in flight, or an ACK for what we never sent
	}
	now := time.Now()
	acked := 0
	kept := c.unacked[:0]
	for _, o := range c.unacked {
		switch {
		case o.seq > through:
			kept = append(kept, o)
		case slices.Contains(nacks, o.seq):
			// At most once per smoothed RTT: every later ACK names it too.
			if o.nacks++; o.nacks >= fastRetransmitNACKs && now.Sub(o.sent) >= max(c.srtt, c.m.cfg.MinRTO) {
				o.nacks = 0
				c.m.c.retransmits.Add(1)
				c.transmit(o)
			}
			kept = append(kept, o)
		default:
			acked++
			c.unackedSize -= len(o.payload)
			if o.sends == 1 {
				c.sampleRTT(now.Sub(o.sent))
			}
			if o.flags&FlagClose != 0 {
				c.closeAcked = true
			}
		}
	}
	clear(c.unacked[len(kept):])
	c.unacked = kept
	if acked == 0 {
		return
	}
	for range acked {
		if c.window < c.ssthresh {
			c.window++
		} else {
			c.window += 1 / c.window
		}
	}
	c.window = min(c.window, float64(c.m.cfg.MaxWindow))
	c.armRetransmit(true)
}

// sampleRTT updates SRTT, RTTVAR and RTO as RFC 6298 says.
func (c *Conn) sampleRTT(r time.Duration) {
	if c.srtt == 0 {
		c.srtt, c.rttvar = r, r/2
	} else {
		d := c.srtt - r
		if d < 0 {
			d = -d
		}
		c.rttvar = (3*c.rttvar + d) / 4
		c.srtt = (7*c.srtt + r) / 8
	}
	c.rto = min(max(c.srtt+4*c.rttvar, c.m.cfg.MinRTO), c.m.cfg.MaxRTO)
}

func (c *Conn) mtu() int { return min(c.peerMTU, c.m.cfg.MTU) }

// pump turns written data into packets as far as the window allows. The
// first packet of each direction is the SYN; a short packet waits for
// flushDue (more data, a Close, or the flush timer).
func (c *Conn) pump() {
	if c.finished || !c.inbound && !c.released {
		return
	}
	for {
		first := c.sendNext == 0
		win := int(c.window)
		if c.choked {
			win = 1
		}
		if !first && len(c.unacked) >= max(win, 1) {
			return
		}
		n := min(len(c.wbuf), c.mtu())
		last := c.writeClosed && n == len(c.wbuf)
		if n == 0 && !last && !(first && c.flushDue) {
			return
		}
		if n < c.mtu() && !c.flushDue {
			return
		}
		if c.closeSent {
			return
		}
		o := &outPacket{seq: c.sendNext, payload: c.wbuf[:n:n]}
		if first {
			o.flags |= FlagSYN
		}
		if last {
			o.flags |= FlagClose
			c.closeSent = true
		}
		c.wbuf = c.wbuf[n:]
		if len(c.wbuf) == 0 {
			c.wbuf = nil
			c.flushDue = c.flushDue && c.writeClosed
		}
		c.sendNext++
		c.unacked = append(c.unacked, o)
		c.unackedSize += n
		c.transmit(o)
		c.armRetransmit(false)
		if last {
			return
		}
	}
}

// transmit builds, signs where required, and sends o with the current
// acknowledgement fields.
func (c *Conn) transmit(o *outPacket) {
	p := &Packet{SendStreamID: c.remoteID, ReceiveStreamID: c.localID, Seq: o.seq,
		ResendDelay: uint8(min(c.rto/time.Second, 255)), Flags: o.flags, Payload: o.payload}
	if o.flags&FlagSYN != 0 {
		p.Flags |= FlagFrom | FlagMaxPacketSize
		p.From, p.MaxPacketSize = c.m.id.Destination, uint16(c.m.cfg.MTU)
		c.m.addOffline(p)
	}
	c.fillAck(p)
	if !c.inbound && o.flags&FlagSYN != 0 {
		p.SetTargetHash(c.peer.Destination.Hash())
	}
	if o.flags&FlagClose != 0 || !c.recvAny {
		p.Flags |= FlagDelay // ask for an immediate ACK, as Java does
	}
	c.sendPacket(p)
	o.sent = time.Now()
	if o.sends++; o.sends > 1 {
		c.m.c.retransmits.Add(1)
	}
}

// fillAck sets ackThrough and NACKs (or NO_ACK before anything arrived),
// and the choke delay.
func (c *Conn) fillAck(p *Packet) {
	c.ackDue = false
	if c.choking {
		p.Flags |= FlagDelay
		p.Delay = ChokeDelay
	} else if p.Seq == 0 && !p.Has(FlagSYN) {
		p.Flags |= FlagDelay // a plain ACK asks for prompt answers (and unchokes)
	}
	if !c.recvAny {
		p.Flags |= FlagNoACK
		return
	}
	p.AckThrough = c.highest
	if p.Has(FlagSYN) {
		return // no NACKs in a SYN reply (proposal 164)
	}
	for s := c.recvNext; s < c.highest && len(p.NACKs) < MaxNACKs; s++ {
		if _, ok := c.ooo[s]; !ok {
			p.NACKs = append(p.NACKs, s)
		}
	}
}

// sendPacket signs packets that must be signed and sends.
func (c *Conn) sendPacket(p *Packet) {
	var raw []byte
	var err error
	if p.Flags&(FlagSYN|FlagClose|FlagReset) != 0 {
		raw, err = p.AppendSigned(nil, c.m.id.Key)
	} else {
		raw, err = p.AppendTo(nil)
	}
	if err != nil {
		c.m.cfg.Logger.Warn("streaming: packet not made", "err", err)
		return
	}
	c.m.send(c.peer.Destination, c.localPort, c.remotePort, raw)
}

// sendAck sends a plain ACK, or — before an inbound stream's SYN reply
// has gone — the reply itself.
func (c *Conn) sendAck() {
	if c.finished {
		return
	}
	if c.sendNext == 0 && c.inbound {
		c.flushDue = true
		c.pump()
		return
	}
	if c.remoteID == 0 {
		return
	}
	p := &Packet{SendStreamID: c.remoteID, ReceiveStreamID: c.localID}
	c.fillAck(p)
	c.sendPacket(p)
}

// peerKnows reports whether the peer has a stream to reset: we know its
// stream ID (it opened the stream, or answered our SYN) and a packet went
// either way. As in Java, a stream the peer never answered ends without
// a RESET.
func (c *Conn) peerKnows() bool { return c.remoteID != 0 && (c.recvAny || c.sendNext > 0) }

func (c *Conn) sendReset() {
	if !c.peerKnows() {
		return // nothing to reset there: the stream ends here alone
	}
	p := &Packet{SendStreamID: c.remoteID, ReceiveStreamID: c.localID, AckThrough: c.highest, Flags: FlagReset}
	c.m.c.resetsSent.Add(1)
	c.sendPacket(p)
}

// scheduleAck makes sure an ACK leaves within d (0: now).
func (c *Conn) scheduleAck(d time.Duration) {
	if d <= 0 {
		c.sendAck()
		return
	}
	if c.ackDue {
		return
	}
	c.ackDue = true
	if c.ackTimer == nil {
		c.ackTimer = time.AfterFunc(d, c.onAck)
	} else {
		c.ackTimer.Reset(d)
	}
}

func (c *Conn) onAck() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ackDue {
		c.sendAck()
	}
}

// armFlush makes short packets go within d.
func (c *Conn) armFlush(d time.Duration) {
	if c.flushTimer == nil {
		c.flushTimer = time.AfterFunc(d, c.onFlush)
		return
	}
	c.flushTimer.Reset(d)
}

func (c *Conn) onFlush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flushDue, c.released = true, true
	c.pump()
	c.broadcast()
}

// armRetransmit starts the retransmission timer for the oldest packet in
// flight; restart moves it to a full RTO from now.
func (c *Conn) armRetransmit(restart bool) {
	if len(c.unacked) == 0 {
		if c.rtxTimer != nil {
			c.rtxTimer.Stop()
		}
		return
	}
	if c.rtxTimer == nil {
		c.rtxTimer = time.AfterFunc(c.rto, c.onRetransmit)
	} else if restart || !c.rtxArmed() {
		c.rtxTimer.Reset(c.rto)
	}
}

// rtxArmed reports whether the timer covers a packet in flight: the
// oldest packet's deadline has not passed.
func (c *Conn) rtxArmed() bool {
	return len(c.unacked) > 1 && time.Since(c.unacked[0].sent) < c.rto
}

// onRetransmit: the oldest packet went unacknowledged for an RTO. It is
// sent again with the RTO doubled and the window cut to one packet; past
// the resend limit the stream fails.
func (c *Conn) onRetransmit() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished || len(c.unacked) == 0 {
		return
	}
	o := c.unacked[0]
	if c.peerClosed && o.flags&FlagClose != 0 && o.sends >= closeResendsAfterPeerClose {
		c.closeAcked = true
		c.finish(nil)
		return
	}
	if o.sends >= c.m.cfg.MaxResends {
		c.m.c.timeouts.Add(1)
		c.sendReset()
		c.finish(ErrTimeout)
		return
	}
	c.rto = min(2*c.rto, c.m.cfg.MaxRTO)
	c.ssthresh = max(c.window/2, 2)
	c.window = 1
	c.transmit(o)
	c.rtxTimer.Reset(c.rto)
}

// onIdle fails a stream that heard nothing for Config.Inactivity.
func (c *Conn) onIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished {
		return
	}
	if idle := time.Since(c.lastHeard); idle < c.m.cfg.Inactivity {
		c.idleTimer.Reset(c.m.cfg.Inactivity - idle)
		return
	}
	c.m.c.timeouts.Add(1)
	c.sendReset()
	c.finish(ErrTimeout)
}

// maybeFinish ends the stream cleanly once both CLOSEs are through and
// ours is acknowledged; a reader still gets the buffered data, then
// io.EOF.
func (c *Conn) maybeFinish() {
	if !c.finished && c.closeSent && c.closeAcked && len(c.unacked) == 0 && c.peerClosed {
		c.finish(nil)
	}
}
