package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-i2p/go-opentracker/i2p"
)

func TestIdentityCreatedOnceAndKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var out1, out2, errs bytes.Buffer
	if code := run([]string{"--data", dir}, &out1, &errs); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	keys, err := i2p.ReadPrivateKeyFile(filepath.Join(dir, keyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out1.String(), keys.Destination.B32()) || !strings.Contains(out1.String(), keys.Destination.Base64()) {
		t.Fatalf("output does not show the identity:\n%s", out1.String())
	}
	if code := run([]string{"--data", dir}, &out2, &errs); code != exitOK {
		t.Fatalf("second run exit %d", code)
	}
	if out1.String() != out2.String() {
		t.Fatal("identity changed between runs")
	}
}

func TestCorruptKeyFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, keyFileName), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if code := run([]string{"--data", dir}, &out, &errs); code != exitError {
		t.Fatalf("exit %d, want %d", code, exitError)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, keyFileName)); string(b) != "garbage" {
		t.Fatal("corrupt key file was replaced")
	}
}

func TestBadFlag(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"--nope"}, &out, &errs); code != exitUsage {
		t.Fatalf("exit %d, want %d", code, exitUsage)
	}
}
