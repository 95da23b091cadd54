package testvectors

import (
	"bytes"
	"os"
	"testing"
)

// TestMatchesShared keeps the embedded copy identical to the shared one
// when the shared folder sits beside the repository (as it does in CI).
func TestMatchesShared(t *testing.T) {
	shared, err := os.ReadFile("../../../shared/vectors/reference-java.json")
	if os.IsNotExist(err) {
		t.Skip("shared/vectors not beside the repository")
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shared, Raw()) {
		t.Fatal("internal/testvectors/reference-java.json differs from shared/vectors: copy the shared file over")
	}
}

func TestLoad(t *testing.T) {
	v, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Destinations) != 3 || len(v.Datagram2) != 3 || len(v.Datagram2Negative) != 6 || len(v.Datagram3) < 4 || len(v.Gzip) != 4 {
		t.Fatalf("unexpected vector counts: %d destinations, %d dg2, %d dg2 negative, %d dg3, %d gzip",
			len(v.Destinations), len(v.Datagram2), len(v.Datagram2Negative), len(v.Datagram3), len(v.Gzip))
	}
	if v.LeaseSet2.LeaseSet2 == "" {
		t.Fatal("no LeaseSet2 vector")
	}
}
