package opentracker

import "testing"

func TestManifest(t *testing.T) {
	m, err := LoadManifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "go-opentracker" || m.Version == "" || m.ConsoleLinkName == "" || m.ConsoleLinkURL != "/opentracker/" {
		t.Fatalf("manifest %+v", m)
	}
	if _, err := ParseManifest([]byte("name=x\nbroken line\n")); err == nil {
		t.Fatal("line without '=' accepted")
	}
	if _, err := ParseManifest([]byte("# only a comment\nname=x\n")); err == nil {
		t.Fatal("manifest without version accepted")
	}
	base := "name=x\nversion=1\nconsoleLinkName=X\nconsoleLinkURL="
	for url, ok := range map[string]bool{"/x/": true, "/plugins/x/": true, "http://127.0.0.1:7663/": false, "/x": false, "x/": false, "//evil/": false, "/x/?a=b/": false} {
		if _, err := ParseManifest([]byte(base + url + "\n")); (err == nil) != ok {
			t.Errorf("consoleLinkURL %q: err %v, want ok=%v", url, err, ok)
		}
	}
}
