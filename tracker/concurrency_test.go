package tracker

import (
	"sync"
	"testing"

	"github.com/go-i2p/go-opentracker/i2p"
)

// Concurrent first announces of one peer in one swarm must add it once.
func TestConcurrentJoinAddsOnce(t *testing.T) {
	for round := range 200 {
		tr, _ := newTestTracker(nil)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]i2p.Hash, 1)
				tr.Announce(&AnnounceRequest{InfoHash: info(1), Peer: peer(1), Left: 1}, buf)
			}()
		}
		wg.Wait()
		if tot := tr.Totals(); tot.Entries != 1 {
			t.Fatalf("round %d: %d entries for one peer", round, tot.Entries)
		}
	}
}

// A refused join must not leave an empty swarm behind.
func TestRefusalLeavesNoSwarm(t *testing.T) {
	tr := New(Config{MaxSwarmsPerPeer: 1}, nil)
	buf := make([]i2p.Hash, 1)
	tr.Announce(&AnnounceRequest{InfoHash: info(1), Peer: peer(1), Left: 1}, buf)
	if _, err := tr.Announce(&AnnounceRequest{InfoHash: info(2), Peer: peer(1), Left: 1}, buf); err != ErrPeerInTooMany {
		t.Fatal(err)
	}
	if tot := tr.Totals(); tot.Swarms != 1 {
		t.Fatalf("%d swarms after a refusal", tot.Swarms)
	}
}

// Replies read peer hashes while other swarms free and reuse indices.
func TestReplyHashesRaceFree(t *testing.T) {
	tr, _ := newTestTracker(nil)
	buf := make([]i2p.Hash, 50)
	for i := range 40 {
		tr.Announce(&AnnounceRequest{InfoHash: info(1), Peer: peer(i), Left: 1}, buf)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		buf := make([]i2p.Hash, 50)
		for i := range 3000 {
			p := peer(i % 40)
			tr.Announce(&AnnounceRequest{InfoHash: info(1), Peer: p, Event: EventStopped}, buf)
			tr.Announce(&AnnounceRequest{InfoHash: info(1), Peer: peer(1000 + i), Left: 1}, buf)
			tr.Announce(&AnnounceRequest{InfoHash: info(1), Peer: peer(1000 + i), Event: EventStopped}, buf)
			tr.Announce(&AnnounceRequest{InfoHash: info(1), Peer: p, Left: 1}, buf)
		}
	}()
	go func() {
		defer wg.Done()
		buf := make([]i2p.Hash, 50)
		for range 3000 {
			tr.Announce(&AnnounceRequest{InfoHash: info(2), Peer: peer(5000), Left: 1, NumWant: 50}, buf)
			tr.Announce(&AnnounceRequest{InfoHash: info(1), Peer: peer(5001), Left: 1, NumWant: 50, ReadOnly: true}, buf)
		}
	}()
	wg.Wait()
}
