package store

import (
	"bytes"
	"maps"
	"testing"
)

// TestHistoryRecords: the chart history is saved whole, replaced whole,
// kept across a restart, and refused over its bounds.
func TestHistoryRecords(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	if err := s.SaveHistory(map[string][]byte{"1h": {1, 2}, "old": {3}}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{"1h": {1, 2, 3}, "7d": bytes.Repeat([]byte{7}, maxHistoryRecord)}
	if err := s.SaveHistory(want); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []map[string][]byte{
		{"1h": make([]byte, maxHistoryRecord+1)},
		{"": {1}},
		{string(make([]byte, maxHistoryName+1)): {1}},
	} {
		if err := s.SaveHistory(bad); err == nil {
			t.Fatalf("saved a record out of bounds: %d names", len(bad))
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, Options{})
	defer s.Close()
	got := map[string][]byte{}
	if err := s.LoadHistory(func(name string, rec []byte) { got[name] = rec }); err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("history after a restart: %d records, want %d", len(got), len(want))
	}
}

// BenchmarkSaveHistory saves a full chart history: four windows of 61
// and 361 samples of 32 bytes, as the console hands it over.
func BenchmarkSaveHistory(b *testing.B) {
	s := open(b, b.TempDir(), Options{})
	defer s.Close()
	recs := map[string][]byte{"1h": make([]byte, 9+61*32), "6h": make([]byte, 9+361*32), "24h": make([]byte, 9+361*32), "7d": make([]byte, 9+361*32)}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.SaveHistory(recs); err != nil {
			b.Fatal(err)
		}
	}
}
