// Package simclient drives virtual BitTorrent clients through an i2cptest router.
//
// The tracker is attached to the router; each client has its own I2P
// identity, sends proposal-160 requests (a Datagram2 connect, Datagram3
// announces and scrapes) through the router, and matches raw replies by
// transaction id. The plugin's end-to-end tests, the demo and the load
// tool use it.
package simclient

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/i2cp"
	"github.com/go-i2p/go-opentracker/i2cp/i2cptest"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker"
	"github.com/go-i2p/go-opentracker/tracker/udptracker"
)

// Network routes replies from the tracker to the virtual clients.
type Network struct {
	router  *i2cptest.Router
	tracker i2p.Destination
	port    uint16

	mu      sync.Mutex
	clients map[i2p.Hash]*Client
	// Unmatched counts replies no client waited for.
	Unmatched atomic.Uint64
}

// NewNetwork attaches to router; tracker is the tracker's Destination and
// port its UDP tracker port.
func NewNetwork(router *i2cptest.Router, tracker i2p.Destination, port uint16) *Network {
	n := &Network{router: router, tracker: tracker, port: port, clients: map[i2p.Hash]*Client{}}
	router.OnSend(n.deliver)
	return n
}

func (n *Network) deliver(from i2p.Hash, to i2p.Destination, envelope []byte) {
	n.mu.Lock()
	c := n.clients[to.Hash()]
	n.mu.Unlock()
	if c == nil {
		n.Unmatched.Add(1)
		return
	}
	var scratch []byte
	h, data, err := i2cp.ParseGzip(envelope, &scratch)
	if err != nil || h.Protocol != datagram.ProtocolRaw || len(data) < 8 {
		n.Unmatched.Add(1)
		return
	}
	tx := binary.BigEndian.Uint32(data[4:])
	c.mu.Lock()
	ch := c.waiting[tx]
	delete(c.waiting, tx)
	c.mu.Unlock()
	if ch == nil {
		n.Unmatched.Add(1)
		return
	}
	ch <- Reply{FromPort: h.FromPort, ToPort: h.ToPort, Payload: append([]byte(nil), data...)}
}

// Client is one virtual BitTorrent client with its own Destination.
type Client struct {
	net     *Network
	Keys    *i2p.PrivateKeys
	Port    uint16 // the client's I2CP from-port
	ConnID  uint64
	nextTx  atomic.Uint32
	mu      sync.Mutex
	waiting map[uint32]chan Reply
}

// Reply is a raw datagram the tracker sent the client.
type Reply struct {
	FromPort, ToPort uint16
	Payload          []byte
}

// NewClient makes a client with a fresh identity; register makes the
// router able to answer lookups for it (a client whose LeaseSet the
// network knows).
func (n *Network) NewClient(port uint16, register bool) (*Client, error) {
	k, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		return nil, err
	}
	c := &Client{net: n, Keys: k, Port: port, waiting: map[uint32]chan Reply{}}
	c.nextTx.Store(uint32(port) << 16)
	n.mu.Lock()
	n.clients[k.Destination.Hash()] = c
	n.mu.Unlock()
	if register {
		n.router.Register(k.Destination)
	}
	return c, nil
}

// Hash is the client's Destination hash.
func (c *Client) Hash() i2p.Hash { return c.Keys.Destination.Hash() }

func (c *Client) expect(tx uint32) chan Reply {
	ch := make(chan Reply, 1)
	c.mu.Lock()
	c.waiting[tx] = ch
	c.mu.Unlock()
	return ch
}

func (c *Client) forget(tx uint32) {
	c.mu.Lock()
	delete(c.waiting, tx)
	c.mu.Unlock()
}

// Send injects one datagram (already formatted) from the client.
func (c *Client) Send(protocol uint8, toPort uint16, dg []byte) error {
	env := i2cp.AppendGzip(nil, i2cp.Header{Protocol: protocol, FromPort: c.Port, ToPort: toPort}, dg)
	return c.net.router.Inject(c.net.tracker.Hash(), env)
}

// Request sends a BEP 15 payload in the datagram format protocol and
// waits for the reply with its transaction id.
func (c *Client) Request(ctx context.Context, protocol uint8, payload []byte) (Reply, error) {
	if len(payload) < 16 {
		return Reply{}, errors.New("simclient: payload too short")
	}
	tx := binary.BigEndian.Uint32(payload[12:])
	var dg []byte
	var err error
	switch protocol {
	case datagram.ProtocolDatagram2:
		dg, err = datagram.AppendDatagram2(nil, c.Keys, c.net.tracker.Hash(), nil, payload)
	case datagram.ProtocolDatagram3:
		dg, err = datagram.AppendDatagram3(nil, c.Hash(), nil, payload)
	default:
		dg = payload
	}
	if err != nil {
		return Reply{}, err
	}
	ch := c.expect(tx)
	if err := c.Send(protocol, c.net.port, dg); err != nil {
		c.forget(tx)
		return Reply{}, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		c.forget(tx)
		return Reply{}, fmt.Errorf("simclient: no reply to transaction %d: %w", tx, ctx.Err())
	}
}

// Tx returns a fresh transaction id.
func (c *Client) Tx() uint32 { return c.nextTx.Add(1) }

// Connect performs the Datagram2 connect and keeps the connection id.
func (c *Client) Connect(ctx context.Context) error {
	r, err := c.Request(ctx, datagram.ProtocolDatagram2, udptracker.AppendConnectRequest(nil, c.Tx()))
	if err != nil {
		return err
	}
	if len(r.Payload) < 16 || binary.BigEndian.Uint32(r.Payload) != udptracker.ActionConnect {
		return fmt.Errorf("simclient: connect answered %q", r.Payload)
	}
	c.ConnID = binary.BigEndian.Uint64(r.Payload[8:])
	return nil
}

// AnnounceResult is a parsed announce reply.
type AnnounceResult struct {
	Interval, Leechers, Seeders uint32
	Peers                       []i2p.Hash
}

// ErrTracker is returned for an error response; its text follows.
var ErrTracker = errors.New("simclient: tracker error")

// Announce sends a Datagram3 announce.
func (c *Client) Announce(ctx context.Context, info [20]byte, event tracker.Event, left uint64, numWant int32) (AnnounceResult, error) {
	a := udptracker.Announce{Header: udptracker.Header{ConnectionID: c.ConnID, TransactionID: c.Tx()},
		InfoHash: info, Event: event, Left: left, NumWant: numWant, Port: 6881}
	copy(a.PeerID[:], "-SC0001-")
	r, err := c.Request(ctx, datagram.ProtocolDatagram3, udptracker.AppendAnnounceRequest(nil, &a))
	if err != nil {
		return AnnounceResult{}, err
	}
	return ParseAnnounceReply(r.Payload)
}

// ParseAnnounceReply decodes an announce (or error) response.
func ParseAnnounceReply(p []byte) (AnnounceResult, error) {
	if len(p) >= 8 && binary.BigEndian.Uint32(p) == udptracker.ActionError {
		return AnnounceResult{}, fmt.Errorf("%w: %s", ErrTracker, p[8:])
	}
	if len(p) < 20 || binary.BigEndian.Uint32(p) != udptracker.ActionAnnounce || (len(p)-20)%32 != 0 {
		return AnnounceResult{}, fmt.Errorf("simclient: malformed announce reply of %d bytes", len(p))
	}
	res := AnnounceResult{Interval: binary.BigEndian.Uint32(p[8:]), Leechers: binary.BigEndian.Uint32(p[12:]), Seeders: binary.BigEndian.Uint32(p[16:])}
	for i := 20; i < len(p); i += 32 {
		res.Peers = append(res.Peers, i2p.Hash(p[i:i+32]))
	}
	return res, nil
}

// ScrapeEntry is one hash's counts.
type ScrapeEntry struct{ Seeders, Completed, Leechers uint32 }

// Scrape sends a Datagram3 scrape.
func (c *Client) Scrape(ctx context.Context, infos ...[20]byte) ([]ScrapeEntry, error) {
	r, err := c.Request(ctx, datagram.ProtocolDatagram3, udptracker.AppendScrapeRequest(nil, c.ConnID, c.Tx(), infos...))
	if err != nil {
		return nil, err
	}
	p := r.Payload
	if binary.BigEndian.Uint32(p) == udptracker.ActionError {
		return nil, fmt.Errorf("%w: %s", ErrTracker, p[8:])
	}
	if binary.BigEndian.Uint32(p) != udptracker.ActionScrape || len(p) != 8+12*len(infos) {
		return nil, fmt.Errorf("simclient: malformed scrape reply of %d bytes", len(p))
	}
	out := make([]ScrapeEntry, len(infos))
	for i := range out {
		b := p[8+12*i:]
		out[i] = ScrapeEntry{binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:]), binary.BigEndian.Uint32(b[8:])}
	}
	return out, nil
}
