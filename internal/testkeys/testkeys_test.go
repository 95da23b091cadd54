package testkeys

import (
	"testing"

	"github.com/go-i2p/go-opentracker/i2p"
)

// TestNew: each signature type makes a Destination of that type that
// verifies its key's signatures and rejects a changed message, and two
// identities differ.
func TestNew(t *testing.T) {
	for _, st := range []i2p.SigType{i2p.SigDSASHA1, i2p.SigECDSASHA256P256, i2p.SigECDSASHA384P384,
		i2p.SigECDSASHA512P521, i2p.SigEd25519, i2p.SigRedDSASHA512} {
		t.Run(st.String(), func(t *testing.T) {
			k := New(t, st)
			if got := k.Destination.SigType(); got != st {
				t.Fatalf("signature type %v", got)
			}
			msg := []byte("a message")
			sig, err := k.SigningKey.Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			if err := k.Destination.Verify(msg, sig); err != nil {
				t.Fatalf("own signature: %v", err)
			}
			msg[0] ^= 1
			if k.Destination.Verify(msg, sig) == nil {
				t.Fatal("a changed message verified")
			}
			if New(t, st).Destination.Equal(k.Destination) {
				t.Fatal("two identities are the same")
			}
		})
	}
}
