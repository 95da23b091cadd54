package plugin

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestLeaseSetModeConfig: legacy_leaseset is auto by default and takes
// auto, true or false; anything else is a config error naming the key,
// and the file the console writes reads back the same.
func TestLeaseSetModeConfig(t *testing.T) {
	if DefaultConfig().LegacyLeaseSet != LeaseSetAuto {
		t.Fatal("legacy_leaseset does not default to auto")
	}
	for text, want := range map[string]LeaseSetMode{"auto": LeaseSetAuto, "AUTO": LeaseSetAuto, "true": LeaseSetLegacy, "false": LeaseSetV2, "yes": LeaseSetLegacy} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ConfigFileName), []byte("legacy_leaseset: "+text+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfig(dir)
		if text == "yes" {
			// YAML 1.2 has no yes: it is a string, and not one of ours.
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("legacy_leaseset: yes: %v", err)
			}
			continue
		}
		if err != nil || cfg.LegacyLeaseSet != want {
			t.Fatalf("legacy_leaseset: %s: %v, %v", text, cfg.LegacyLeaseSet, err)
		}
		if err := SaveConfig(dir, cfg); err != nil {
			t.Fatal(err)
		}
		if back, err := LoadConfig(dir); err != nil || back.LegacyLeaseSet != want {
			t.Fatalf("saved %s reads back as %v, %v", text, back.LegacyLeaseSet, err)
		}
	}
	if _, err := ParseLeaseSetMode("sometimes"); err == nil {
		t.Fatal("sometimes accepted")
	}
}
