package tracker

import "errors"

// Event is an announce event. Its values are the numbers BEP 15 sends on
// the wire; its names are the event parameter of an HTTP announce.
type Event uint32

// The announce events.
const (
	EventNone      Event = 0
	EventCompleted Event = 1
	EventStarted   Event = 2
	EventStopped   Event = 3
)

// ErrBadEvent is the error for an event name ParseEvent does not know.
var ErrBadEvent = errors.New("unknown event")

// Valid reports whether e is one of the four events.
func (e Event) Valid() bool { return e <= EventStopped }

// String returns the event's HTTP name ("none" for EventNone).
func (e Event) String() string {
	switch e {
	case EventNone:
		return "none"
	case EventCompleted:
		return "completed"
	case EventStarted:
		return "started"
	case EventStopped:
		return "stopped"
	}
	return "unknown"
}

// ParseEvent reads an HTTP event name; "", "empty" and "none" are
// EventNone.
func ParseEvent(s string) (Event, error) {
	switch s {
	case "", "empty", "none":
		return EventNone, nil
	case "completed":
		return EventCompleted, nil
	case "started":
		return EventStarted, nil
	case "stopped":
		return EventStopped, nil
	}
	return EventNone, ErrBadEvent
}

// UnmarshalText reads an event name as ParseEvent does.
func (e *Event) UnmarshalText(b []byte) error {
	v, err := ParseEvent(string(b))
	if err != nil {
		return err
	}
	*e = v
	return nil
}
