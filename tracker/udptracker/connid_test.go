package udptracker

import (
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

func TestConnIDs(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	c, err := NewConnIDs(secret, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Lifetime() != DefaultLifetime {
		t.Fatalf("default lifetime %d", c.Lifetime())
	}
	alice, bob := i2p.HashOf([]byte("alice")), i2p.HashOf([]byte("bob"))
	t0 := time.Unix(1_800_000_000, 0)
	id := c.Issue(&alice, t0)
	if !c.Valid(id, &alice, t0) {
		t.Fatal("fresh id rejected")
	}
	if c.Valid(id, &bob, t0) {
		t.Fatal("id valid for another sender")
	}
	// Valid for at least lifetime + 60 s from issue, whatever the phase.
	for _, issueAt := range []time.Time{t0, t0.Add(1259 * time.Second), t0.Add(637 * time.Second)} {
		id := c.Issue(&alice, issueAt)
		if !c.Valid(id, &alice, issueAt.Add((DefaultLifetime+60)*time.Second)) {
			t.Fatalf("id issued at %v expired before lifetime+60", issueAt)
		}
		if c.Valid(id, &alice, issueAt.Add(2*(DefaultLifetime+60)*time.Second+time.Second)) {
			t.Fatal("id valid after two periods")
		}
	}
	// Another secret (or none persisted) gives other ids; the same secret
	// after a "restart" gives the same ones.
	other, _ := NewConnIDs([]byte("fedcba9876543210fedcba9876543210"), 0)
	if other.Valid(id, &alice, t0) {
		t.Fatal("id valid under another secret")
	}
	again, _ := NewConnIDs(secret, 0)
	if !again.Valid(id, &alice, t0) {
		t.Fatal("id invalid after re-creating the issuer with the same secret")
	}
	if _, err := NewConnIDs(secret[:15], 0); err == nil {
		t.Fatal("short secret accepted")
	}
	for in, want := range map[int]uint16{1: 60, 59: 60, 60: 60, 5000: 5000, 70000: 65535} {
		c, _ := NewConnIDs(secret, in)
		if c.Lifetime() != want {
			t.Errorf("lifetime %d clamped to %d, want %d", in, c.Lifetime(), want)
		}
	}
}

func BenchmarkConnIDValid(b *testing.B) {
	c, _ := NewConnIDs([]byte("0123456789abcdef"), 0)
	h := i2p.HashOf([]byte("x"))
	now := time.Now()
	id := c.Issue(&h, now)
	b.ReportAllocs()
	for b.Loop() {
		if !c.Valid(id, &h, now) {
			b.Fatal("invalid")
		}
	}
}
