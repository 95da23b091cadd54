package counters

import (
	"maps"
	"sync"
	"testing"
)

type color uint8

const (
	red color = iota
	green
	blue
)

var colorNames = [...]string{red: "red", green: "green", blue: "blue"}

func (color) Names() []string  { return colorNames[:] }
func (c color) String() string { return Name(c) }

// TestSet: counts land on their reason, a snapshot names every reason
// (zeros too), and a value past the table is "unknown".
func TestSet(t *testing.T) {
	var s Set[color]
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				s.Add(blue)
				s.Add(red)
			}
		})
	}
	s.Add(blue)
	wg.Wait()
	want := map[string]uint64{"red": 400, "green": 0, "blue": 401}
	if got := s.Snapshot(); !maps.Equal(got, want) {
		t.Fatalf("snapshot %v, want %v", got, want)
	}
	if s.Load(green) != 0 || s.Load(blue) != 401 {
		t.Fatal("Load disagrees with the snapshot")
	}
	if green.String() != "green" || color(3).String() != "unknown" || color(255).String() != "unknown" {
		t.Fatal("names")
	}
}
