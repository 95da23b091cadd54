package i2cp

import (
	"errors"
	"math"
	"testing"

	"github.com/go-i2p/go-opentracker/i2p"
)

// TestDeliveryTracker: nonces are never 0; a message waits until its
// final status; one still waiting trackSlots sends later is pushed out
// and its status no longer matches; a reset forgets all.
func TestDeliveryTracker(t *testing.T) {
	var tr deliveryTracker
	first, evicted := tr.add()
	if first == 0 || evicted {
		t.Fatalf("first nonce %d, evicted %v", first, evicted)
	}
	if !tr.settle(first, false) || !tr.settle(first, true) {
		t.Fatal("accepted and final status of a waiting message did not match")
	}
	if tr.settle(first, true) {
		t.Fatal("a duplicate final status matched")
	}
	if tr.settle(0, true) {
		t.Fatal("nonce 0 matched")
	}
	old, _ := tr.add()
	for i := 1; i < trackSlots; i++ {
		if _, evicted := tr.add(); evicted {
			t.Fatalf("send %d evicted with the ring not full", i)
		}
	}
	if _, evicted := tr.add(); !evicted {
		t.Fatal("the send after a full ring evicted nothing")
	}
	if tr.settle(old, true) {
		t.Fatal("the status of an evicted message matched")
	}
	if n := tr.reset(); n != trackSlots {
		t.Fatalf("reset forgot %d, want %d", n, trackSlots)
	}
	tr.next = math.MaxUint32
	if n, _ := tr.add(); n != 1 {
		t.Fatalf("nonce after wrapping: %d", n)
	}
}

// TestSessionMessageStatus: a session with reliability requested numbers
// its messages, counts the router's reports by kind and tells the
// callback; the lost (pushed out, or in flight when the link goes down)
// and unmatched are counted. Without reliability messages carry nonce 0.
func TestSessionMessageStatus(t *testing.T) {
	type report struct {
		nonce  uint32
		status uint8
	}
	var reports []report
	s, dest := newUpSession(t, Config{
		Options:         i2p.Mapping{{Key: "i2cp.messageReliability", Value: "BestEffort"}},
		OnMessageStatus: func(n uint32, st uint8) { reports = append(reports, report{n, st}) },
	}, 1)
	n1, err := s.SendTracked(dest.Bytes(), 18, 1, 2, []byte("one"))
	if err != nil || n1 == 0 {
		t.Fatalf("nonce %d, %v", n1, err)
	}
	n2, _ := s.SendTracked(dest.Bytes(), 18, 1, 2, []byte("two"))
	for _, ms := range []MessageStatus{
		{Nonce: n1, Status: MsgAccepted}, {Nonce: n2, Status: MsgAccepted},
		{Nonce: n1, Status: MsgGuaranteedSuccess}, {Nonce: n2, Status: MsgNoLeaseSet},
		{Nonce: n2, Status: MsgNoLeaseSet}, // a duplicate
		{Status: MsgAvailable},             // not about sent messages: ignored
	} {
		s.messageStatus(ms)
	}
	st := s.Stats()
	if st.MessagesAccepted != 2 || st.MessagesSucceeded != 1 || st.MessageFailures != 2 ||
		st.FailedByStatus[MsgNoLeaseSet] != 2 || st.StatusUnmatched != 1 || st.StatusLost != 0 {
		t.Fatalf("stats %+v", st)
	}
	if len(reports) != 5 || reports[2] != (report{n1, MsgGuaranteedSuccess}) || reports[3] != (report{n2, MsgNoLeaseSet}) {
		t.Fatalf("callback saw %v", reports)
	}
	s.messageStatus(MessageStatus{Nonce: n2, Status: 200}) // n2 is settled: unmatched too
	if st := s.Stats(); st.FailedByStatus[failureCodes-1] != 1 || st.StatusUnmatched != 2 {
		t.Fatalf("code 200 not counted in the last slot: %v", st.FailedByStatus)
	}

	// One message waits; trackSlots more sends push it out.
	waiting, _ := s.SendTracked(dest.Bytes(), 18, 1, 2, nil)
	s.out.reset()
	for range trackSlots {
		if _, err := s.SendTracked(dest.Bytes(), 18, 1, 2, nil); err != nil {
			t.Fatal(err)
		}
		s.out.reset() // nobody writes: keep the queue from filling
	}
	if st := s.Stats(); st.StatusLost != 1 {
		t.Fatalf("lost %d, want 1", st.StatusLost)
	}
	s.messageStatus(MessageStatus{Nonce: waiting, Status: MsgLocalSuccess})
	if st := s.Stats(); st.StatusUnmatched != 3 {
		t.Fatalf("unmatched %d, want 3", st.StatusUnmatched)
	}
	s.down(errors.New("link lost"))
	if st := s.Stats(); st.StatusLost != 1+trackSlots {
		t.Fatalf("lost %d after the link went down, want %d", st.StatusLost, 1+trackSlots)
	}

	plain, dest := newUpSession(t, Config{}, 1)
	if plain.track != nil {
		t.Fatal("a session with reliability none tracks messages")
	}
	if n, err := plain.SendTracked(dest.Bytes(), 18, 1, 2, nil); n != 0 || err != nil {
		t.Fatalf("nonce %d, %v", n, err)
	}
}

// TestWantsStatus: only "none" (in any case) turns MessageStatus off; an
// absent option means the router's default, BestEffort.
func TestWantsStatus(t *testing.T) {
	for v, want := range map[string]bool{"none": false, "None": false, "BestEffort": true, "Guaranteed": true} {
		if got := WantsMessageStatus(i2p.Mapping{{Key: "i2cp.messageReliability", Value: v}}); got != want {
			t.Errorf("%q: %v", v, got)
		}
	}
	if !WantsMessageStatus(nil) {
		t.Error("absent option: no status")
	}
}

// TestSessionOptions: a session asks for what a tracker wants unless
// told otherwise; an override replaces a default in place and adds new
// keys after the defaults; the older LeaseSet forces encryption type 0.
func TestSessionOptions(t *testing.T) {
	want := map[string]string{
		"inbound.quantity": "3", "outbound.quantity": "3", "inbound.length": "3", "outbound.length": "3",
		"i2cp.fastReceive": "true", "i2cp.messageReliability": "none", "i2cp.leaseSetEncType": "4",
		"inbound.nickname": "go-opentracker", "outbound.nickname": "go-opentracker",
	}
	defaults := DefaultOptions()
	if len(defaults) != len(want) {
		t.Fatalf("%d defaults, want %d", len(defaults), len(want))
	}
	for _, p := range defaults {
		if want[p.Key] != p.Value {
			t.Errorf("default %s=%s, want %s", p.Key, p.Value, want[p.Key])
		}
	}

	s, _ := newUpSession(t, Config{Options: i2p.Mapping{
		{Key: "outbound.length", Value: "1"},
		{Key: "i2cp.dontPublishLeaseSet", Value: "false"},
	}}, -1)
	if len(s.opts) != len(defaults)+1 {
		t.Fatalf("merged options %v", s.opts)
	}
	for i, p := range defaults {
		v := p.Value
		if p.Key == "outbound.length" {
			v = "1"
		}
		if s.opts[i].Key != p.Key || s.opts[i].Value != v {
			t.Errorf("option %d: %s=%s, want %s=%s", i, s.opts[i].Key, s.opts[i].Value, p.Key, v)
		}
	}
	if last := s.opts[len(s.opts)-1]; last.Key != "i2cp.dontPublishLeaseSet" || last.Value != "false" {
		t.Errorf("new key: %s=%s", last.Key, last.Value)
	}
	if v, _ := DefaultOptions().Get("outbound.length"); v != "3" {
		t.Error("merging changed the defaults")
	}

	legacy, _ := newUpSession(t, Config{LegacyLeaseSet: true, Options: i2p.Mapping{{Key: "i2cp.leaseSetEncType", Value: "4"}}}, -1)
	if v, _ := legacy.createOptions(legacy.LegacyLeaseSet()).Get("i2cp.leaseSetEncType"); v != "0" {
		t.Errorf("older LeaseSet with encryption type %s", v)
	}
}
