package udptracker

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/datagram"
	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/store"
	"github.com/go-i2p/go-opentracker/tracker"
)

// replyCounter is a Session that counts connect replies and keeps nothing,
// so a benchmark measures the transport and not its test double. got
// has a value for each reply.
type replyCounter struct {
	n   atomic.Int64
	got chan struct{}
}

func (r *replyCounter) SendSerialized(to []byte, _ uint8, _, _ uint16, payload []byte) error {
	if len(to) < i2p.MinDestinationLen || len(payload) != 18 {
		panic("not a connect reply to a Destination")
	}
	r.n.Add(1)
	r.got <- struct{}{}
	return nil
}

func (r *replyCounter) Lookup(context.Context, i2p.Hash) (i2p.Destination, error) {
	return i2p.Destination{}, context.Canceled
}

// signedConnect is one client's connect Datagram2 and the pieces a bare
// Ed25519 verify of the same bytes needs.
type signedConnect struct {
	dg, signed, sig []byte
	pub             ed25519.PublicKey
}

func newConnects(b *testing.B, to i2p.Hash, n int) []signedConnect {
	out := make([]signedConnect, n)
	for i := range out {
		k, err := i2p.NewIdentity(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		dg, err := datagram.AppendDatagram2(nil, k, to, nil, AppendConnectRequest(nil, uint32(i)))
		if err != nil {
			b.Fatal(err)
		}
		destLen := len(k.Destination.Bytes())
		sig := dg[len(dg)-ed25519.SignatureSize:]
		out[i] = signedConnect{dg: dg, sig: sig, pub: ed25519.PublicKey(k.Destination.SigningPublicKey()),
			signed: append(to[:len(to):len(to)], dg[destLen:len(dg)-len(sig)]...)}
	}
	return out
}

// connectServer is a transport over a real tracker journaling to a real
// store in dir.
func connectServer(b *testing.B, dir string) (*Server, *replyCounter, i2p.Hash) {
	st, err := store.Open(filepath.Join(dir, "store"), store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	self, err := i2p.NewIdentity(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	sess := &replyCounter{got: make(chan struct{}, 1)}
	srv, err := NewServer(Config{}, self.Destination.Hash(), []byte("0123456789abcdef0123456789abcdef"), tracker.New(tracker.Config{}, st), sess)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	srv.SetContext(ctx) // stops the verify workers
	return srv, sess, self.Destination.Hash()
}

// BenchmarkConnectTransport: one connect through the transport, each from
// a client the tracker has not seen (the receive side's peek and queue,
// a verify worker's parse, hash, verify, cache insert, journal record,
// connection id, reply), and beside it the bare Ed25519
// verify of the same signed bytes. "ratio" alternates the two in every
// iteration, so both run under the same machine load, and reports their
// quotient. The store's writer runs in its own goroutine: with -cpu 1 its
// flushes take turns with the benchmark and count only partly.
func BenchmarkConnectTransport(b *testing.B) {
	for _, name := range []string{"bare-verify", "connect", "ratio"} {
		b.Run(name, func(b *testing.B) {
			srv, sess, self := connectServer(b, b.TempDir())
			cs := newConnects(b, self, b.N)
			b.ReportAllocs()
			var tBare, tConnect time.Duration
			b.ResetTimer()
			for i := range b.N {
				c := &cs[i]
				start := time.Now()
				if name != "connect" && !ed25519.Verify(c.pub, c.signed, c.sig) {
					b.Fatal("bare verify failed")
				}
				mid := time.Now()
				if name != "bare-verify" {
					srv.HandleMessage(datagram.ProtocolDatagram2, 6881, DefaultPort, c.dg)
					<-sess.got
				}
				tBare += mid.Sub(start)
				tConnect += time.Since(mid)
			}
			b.StopTimer()
			if name != "bare-verify" && sess.n.Load() != int64(b.N) {
				b.Fatalf("%d replies to %d connects", sess.n.Load(), b.N)
			}
			if name == "ratio" && tBare > 0 {
				b.ReportMetric(float64(tConnect)/float64(tBare), "ratio")
				b.ReportMetric(float64(tBare.Nanoseconds())/float64(b.N), "bare-ns/op")
				b.ReportMetric(float64(tConnect.Nanoseconds())/float64(b.N), "connect-ns/op")
			}
		})
	}
}
