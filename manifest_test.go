package opentracker

import "testing"

func TestManifest(t *testing.T) {
	m, err := LoadManifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "go-opentracker" || m.Version == "" || m.ConsoleLinkURL == "" {
		t.Fatalf("manifest %+v", m)
	}
	if _, err := ParseManifest([]byte("name=x\nbroken line\n")); err == nil {
		t.Fatal("line without '=' accepted")
	}
	if _, err := ParseManifest([]byte("# only a comment\nname=x\n")); err == nil {
		t.Fatal("manifest without version accepted")
	}
}
