package i2cp

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"errors"
	"io"
	"testing"

	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

// TestGzipStrayBytes refuses bytes between the end of the deflate data and
// the trailer, as standard gzip readers do.
func TestGzipStrayBytes(t *testing.T) {
	b := deflate3(bytes.Repeat([]byte("tracker "), 100))
	var scratch []byte
	if _, _, err := ParseGzip(b, &scratch); err != nil {
		t.Fatalf("clean stream: %v", err)
	}
	stray := append(append(append([]byte(nil), b[:len(b)-8]...), "junk"...), b[len(b)-8:]...)
	if _, _, err := ParseGzip(stray, &scratch); !errors.Is(err, ErrNotGzip) {
		t.Fatalf("stray bytes before the trailer: %v", err)
	}
}

// standardGunzip reads one gzip member the standard way.
func standardGunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	zr.Multistream(false)
	data, err := io.ReadAll(io.LimitReader(zr, MaxPayload+1))
	if err != nil {
		return nil, err
	}
	if rest, _ := io.ReadAll(zr); len(rest) != 0 {
		return nil, errors.New("more data")
	}
	return data, nil
}

// FuzzGzipAgainstStandard: whatever ParseGzip accepts, compress/gzip reads
// to the same bytes; whatever compress/gzip reads from a well-formed
// envelope (FLG 0, one member, nothing after it), ParseGzip accepts too.
func FuzzGzipAgainstStandard(f *testing.F) {
	v := testvectors.Must(f)
	for _, g := range v.Gzip {
		f.Add(testvectors.Hex(g.Wire))
	}
	b := deflate3(bytes.Repeat([]byte("compressible "), 50))
	f.Add(b)
	// Stray bytes between the deflate data and the trailer.
	f.Add(append(append(append([]byte(nil), b[:len(b)-8]...), "junk"...), b[len(b)-8:]...))
	f.Fuzz(func(t *testing.T, b []byte) {
		var scratch []byte
		_, ours, err := ParseGzip(b, &scratch)
		std, stdErr := standardGunzip(b)
		if err == nil {
			if stdErr != nil {
				t.Fatalf("ParseGzip accepted what compress/gzip refuses: %v", stdErr)
			}
			if !bytes.Equal(ours, std) {
				t.Fatalf("ParseGzip read %x, compress/gzip %x", ours, std)
			}
			return
		}
		// RFC 1952 wants a decoder to refuse a header with reserved flag
		// bits set; ParseGzip does, compress/gzip does not.
		reserved := len(b) > 3 && b[3]&0xe0 != 0
		if stdErr == nil && len(std) <= MaxPayload && consumedExactly(b) && !reserved {
			t.Fatalf("compress/gzip reads %d bytes, ParseGzip refuses: %v", len(std), err)
		}
	})
}

// consumedExactly reports whether a standard reader ends exactly at the
// end of b (one member, no trailing garbage).
func consumedExactly(b []byte) bool {
	r := bytes.NewReader(b)
	zr, err := gzip.NewReader(r)
	if err != nil {
		return false
	}
	zr.Multistream(false)
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return false
	}
	return r.Len() == 0
}

func BenchmarkAppendGzip(b *testing.B) {
	for _, n := range []int{66, 512, 1400} {
		payload := make([]byte, n)
		rand.Read(payload)
		dst := make([]byte, 0, GzipLen(n))
		b.Run(itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				dst = AppendGzip(dst[:0], Header{Protocol: 20, FromPort: 6969, ToPort: 12345}, payload)
			}
		})
	}
}

func BenchmarkParseGzip(b *testing.B) {
	payload := make([]byte, 512)
	rand.Read(payload)
	stored := AppendGzip(nil, Header{Protocol: 20}, payload)
	text := bytes.Repeat([]byte("d8:intervali1620e5:peers"), 40)
	compressed := deflate3(text)
	for _, c := range []struct {
		name string
		env  []byte
		n    int
	}{{"stored512", stored, len(payload)}, {"deflate960", compressed, len(text)}} {
		b.Run(c.name, func(b *testing.B) {
			var scratch []byte
			b.SetBytes(int64(c.n))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ParseGzip(c.env, &scratch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// deflate3 gzips payload with the standard writer at level 3, the
// Java client's level.
func deflate3(payload []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, 3)
	zw.Write(payload)
	zw.Close()
	return buf.Bytes()
}

// javaLike wraps payload as the Java client does for payloads over 66
// bytes: deflate level 3, ports and protocol in the header.
func javaLike(payload []byte, proto byte) []byte {
	b := deflate3(payload)
	b[4], b[5], b[6], b[7], b[8], b[9] = 0x1b, 0x39, 0x30, 0x39, 2, proto
	return b
}

// BenchmarkParseGzipJava opens the envelopes a Java UDP tracker client
// sends (compressed, since they exceed 66 bytes): a Datagram3 announce and
// a Datagram2 connect from the reference vectors.
func BenchmarkParseGzipJava(b *testing.B) {
	v := testvectors.Must(b)
	for name, dg := range map[string][]byte{
		"dg3announce": testvectors.Hex(v.Datagram3["announce"].Datagram),
		"dg2connect":  testvectors.Hex(v.Datagram2["connect"].Datagram),
	} {
		env := javaLike(dg, 20)
		b.Run(name, func(b *testing.B) {
			var scratch []byte
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ParseGzip(env, &scratch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestGzipCompressedEnvelope: appendGzipCompressed deflates a payload
// that shrinks (smaller than the stored form, read back by ParseGzip and
// by compress/gzip, header as the I2CP rules want it) and stores, byte
// for byte as AppendGzip, a small one and one that does not shrink.
func TestGzipCompressedEnvelope(t *testing.T) {
	h := Header{Protocol: 20, FromPort: 6969, ToPort: 12345}
	text := bytes.Repeat([]byte("d8:intervali1800e5:peers"), 20)
	env := appendGzipCompressed([]byte("prefix"), h, text)
	if string(env[:6]) != "prefix" {
		t.Fatal("dst not appended to")
	}
	env = env[6:]
	if len(env) >= GzipLen(len(text)) {
		t.Fatalf("%d-byte payload compressed to %d bytes, stored is %d", len(text), len(env), GzipLen(len(text)))
	}
	if btype := env[gzipHeaderLen] >> 1 & 3; btype == 0 {
		t.Fatal("compressible payload went out as a stored block")
	}
	want := []byte{0x1f, 0x8b, 8, 0, 0x1b, 0x39, 0x30, 0x39, 2, 20} // FLG 0, ports in MTIME, XFL 2, protocol as OS
	if !bytes.Equal(env[:gzipHeaderLen], want) {
		t.Fatalf("header %x, want %x", env[:gzipHeaderLen], want)
	}
	var scratch []byte
	h2, data, err := ParseGzip(env, &scratch)
	if err != nil || h2 != h || !bytes.Equal(data, text) {
		t.Fatalf("ParseGzip: %+v %v", h2, err)
	}
	if std, err := standardGunzip(env); err != nil || !bytes.Equal(std, text) {
		t.Fatalf("compress/gzip: %v", err)
	}

	random := make([]byte, 512)
	rand.Read(random)
	for _, p := range [][]byte{random, text[:storedMax], nil} {
		got := appendGzipCompressed(nil, h, p)
		if stored := AppendGzip(nil, h, p); !bytes.Equal(got, stored) {
			t.Fatalf("%d-byte payload: not the stored envelope", len(p))
		}
	}
}

// FuzzAppendGzipCompressed: whatever the payload, the envelope is no
// longer than the stored one and reads back to it, through ParseGzip and
// through compress/gzip.
func FuzzAppendGzipCompressed(f *testing.F) {
	f.Add([]byte(nil))
	f.Add(bytes.Repeat([]byte("a"), 67))
	f.Add(bytes.Repeat([]byte("d8:intervali1800e5:peers"), 40))
	random := make([]byte, 300)
	rand.Read(random)
	f.Add(random)
	h := Header{Protocol: 18, FromPort: 1, ToPort: 2}
	f.Fuzz(func(t *testing.T, p []byte) {
		if len(p) > MaxPayload {
			return
		}
		env := appendGzipCompressed(nil, h, p)
		if len(env) > GzipLen(len(p)) {
			t.Fatalf("%d bytes for a %d-byte payload, stored is %d", len(env), len(p), GzipLen(len(p)))
		}
		var scratch []byte
		h2, data, err := ParseGzip(env, &scratch)
		if err != nil || h2 != h || !bytes.Equal(data, p) {
			t.Fatalf("ParseGzip: %+v %v", h2, err)
		}
		if std, err := standardGunzip(env); err != nil || !bytes.Equal(std, p) {
			t.Fatalf("compress/gzip: %v", err)
		}
	})
}

// BenchmarkAppendGzipCompressed: the compress path, for text that
// shrinks and for random bytes that fall back to the stored block.
func BenchmarkAppendGzipCompressed(b *testing.B) {
	random := make([]byte, 1400)
	rand.Read(random)
	text := bytes.Repeat([]byte("d8:intervali1800e5:peers"), 60)
	for _, c := range []struct {
		name    string
		payload []byte
	}{{"text512", text[:512]}, {"text1400", text[:1400]}, {"random512", random[:512]}, {"random1400", random}} {
		dst := make([]byte, 0, GzipLen(len(c.payload)))
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.payload)))
			b.ReportAllocs()
			for b.Loop() {
				dst = appendGzipCompressed(dst[:0], Header{Protocol: 20, FromPort: 6969, ToPort: 12345}, c.payload)
			}
			b.ReportMetric(float64(len(dst)), "bytes/env")
		})
	}
}

// TestWorthDeflating: the scan sends text and repeated runs to deflate
// and keeps random bytes stored.
func TestWorthDeflating(t *testing.T) {
	random := make([]byte, 1400)
	rand.Read(random)
	twice := append(append([]byte(nil), random[:256]...), random[:256]...)
	nibbles := make([]byte, 600) // 16 values, hardly a repeated run
	for i := range nibbles {
		nibbles[i] = random[i] & 15
	}
	for _, c := range []struct {
		name string
		p    []byte
		want bool
	}{
		{"random", random, false},
		{"random short", random[:100], false},
		{"text", bytes.Repeat([]byte("d8:intervali1800e5:peers"), 20), true},
		{"few values", nibbles, true},
		{"random twice", twice, true},
	} {
		if got := worthDeflating(c.p); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestDeflatedFallsBackToStored: a payload deflate does not shrink (past
// the random-looking scan: random bytes sent straight to the deflate
// path) comes out exactly as the stored envelope.
func TestDeflatedFallsBackToStored(t *testing.T) {
	h := Header{Protocol: 18, FromPort: 6969, ToPort: 7000}
	for _, n := range []int{67, 200, 1400} {
		p := make([]byte, n)
		rand.Read(p)
		if got, want := appendDeflated([]byte("x"), h, p), AppendGzip([]byte("x"), h, p); !bytes.Equal(got, want) {
			t.Fatalf("%d random bytes: %d-byte envelope, the stored one is %d", n, len(got), len(want))
		}
	}
}

// appendGzipCompressed is the envelope a Session with Config.Compress
// writes: deflated when mayShrink picks the payload, else stored.
func appendGzipCompressed(dst []byte, h Header, payload []byte) []byte {
	if !mayShrink(payload) {
		return AppendGzip(dst, h, payload)
	}
	return appendDeflated(dst, h, payload)
}
