package tracker

import (
	"container/list"
	"sync"

	"github.com/go-i2p/go-opentracker/i2p"
)

// DestinationCache maps peer hashes to their full Destinations, which
// replies to Datagram3 senders and non-compact HTTP replies need. It is
// bounded: the least recently used entry goes first.
type DestinationCache struct {
	mu    sync.Mutex
	max   int
	items map[i2p.Hash]*list.Element
	order list.List // front = most recent; values are i2p.Destination
}

func newDestinationCache(max int) *DestinationCache {
	return &DestinationCache{max: max, items: make(map[i2p.Hash]*list.Element)}
}

// put stores d and reports whether it was new (worth journaling).
func (c *DestinationCache) put(d i2p.Destination) bool {
	h := d.Hash()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[h]; ok {
		c.order.MoveToFront(e)
		return false
	}
	c.items[h] = c.order.PushFront(d)
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.items, old.Value.(i2p.Destination).Hash())
	}
	return true
}

func (c *DestinationCache) get(h i2p.Hash) (i2p.Destination, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[h]
	if !ok {
		return i2p.Destination{}, false
	}
	c.order.MoveToFront(e)
	return e.Value.(i2p.Destination), true
}

// Len is the number of cached Destinations.
func (c *DestinationCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
