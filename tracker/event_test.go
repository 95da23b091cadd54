package tracker

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestEventNames: every event reads back from its name, the HTTP
// spellings of "no event" are EventNone, and anything else is refused.
func TestEventNames(t *testing.T) {
	for e := EventNone; e <= EventStopped; e++ {
		var got Event = 7
		if err := got.UnmarshalText([]byte(e.String())); err != nil || got != e || !e.Valid() {
			t.Fatalf("%d: %q read back as %d, %v", e, e.String(), got, err)
		}
	}
	for _, s := range []string{"", "empty", "none"} {
		if e, err := ParseEvent(s); err != nil || e != EventNone {
			t.Fatalf("%q: %d, %v", s, e, err)
		}
	}
	for _, s := range []string{"Started", "start", "paused", "4"} {
		if _, err := ParseEvent(s); !errors.Is(err, ErrBadEvent) {
			t.Fatalf("%q: %v", s, err)
		}
	}
	if Event(4).Valid() || Event(4).String() != "unknown" {
		t.Fatal("event 4 is valid")
	}
	// BEP 15 numbers them so on the wire.
	if EventNone != 0 || EventCompleted != 1 || EventStarted != 2 || EventStopped != 3 {
		t.Fatal("events are not BEP 15's numbers")
	}
	var v struct{ E Event }
	if err := json.Unmarshal([]byte(`{"E":"stopped"}`), &v); err != nil || v.E != EventStopped {
		t.Fatalf("json: %v %d", err, v.E)
	}
	if err := json.Unmarshal([]byte(`{"E":"bogus"}`), &v); err == nil {
		t.Fatal("json took a bogus event")
	}
}
