package streaming

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
)

// javaVectors is the part of testdata/streaming-java.json (a copy of
// shared/vectors/streaming-java.json, made by the Java reference) that
// the tests read.
type javaVectors struct {
	Identities map[string]struct {
		Inputs struct {
			Seed string `json:"ed25519_seed_hex"`
		} `json:"inputs"`
		SigType     uint16 `json:"sig_type"`
		Destination string `json:"destination_hex"`
		Hash        string `json:"hash_hex"`
	} `json:"identities"`
	Packets   map[string]javaPacket `json:"packets"`
	Negatives map[string]javaPacket `json:"negatives"`
	Quirks    map[string]javaPacket `json:"quirks"`
}

type javaPacket struct {
	Description string `json:"description"`
	Sender      string `json:"sender"`
	Receiver    string `json:"receiver"`
	Packet      string `json:"packet_hex"`
	Signature   *struct {
		Signer string `json:"signer"`
		Hex    string `json:"signature_hex"`
		Offset int    `json:"signature_offset"`
	} `json:"signature"`
	RawSignatureValid bool `json:"raw_bytes_signature_valid"`
	Receive           struct {
		ReadPacket json.RawMessage `json:"readPacket"`
		Parsed     struct {
			Send       uint32   `json:"send_stream_id"`
			Receive    uint32   `json:"receive_stream_id"`
			Seq        uint32   `json:"sequence_num"`
			AckThrough int64    `json:"getAckThrough()"`
			NACKs      []uint32 `json:"nacks"`
			Resend     uint8    `json:"resend_delay"`
			Flags      string   `json:"flags_hex"`
			Delay      *uint16  `json:"optional_delay"`
			MTU        *uint16  `json:"optional_max_size"`
			FromHash   *string  `json:"from_hash_hex"`
			Payload    string   `json:"payload_hex"`
		} `json:"parsed"`
		RequiresSignature bool            `json:"java_requires_signature"`
		Verify            json.RawMessage `json:"verifySignature"`
		Accepts           bool            `json:"java_accepts"`
	} `json:"java_receive"`
}

func loadJava(t testing.TB) *javaVectors {
	t.Helper()
	raw, err := os.ReadFile("testdata/streaming-java.json")
	if err != nil {
		t.Fatal(err)
	}
	var v javaVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (v *javaVectors) dest(t testing.TB, name string) i2p.Destination {
	t.Helper()
	d, rest, err := i2p.ParseDestination(unhex(t, v.Identities[name].Destination))
	if err != nil || len(rest) != 0 {
		t.Fatalf("identity %s: %v", name, err)
	}
	return d
}

func (v *javaVectors) key(t testing.TB, name string) i2p.SigningKey {
	t.Helper()
	id := v.Identities[name]
	return i2p.SigningKey{Type: i2p.SigType(id.SigType), Private: unhex(t, id.Inputs.Seed)}
}

func (v *javaVectors) byHash(t testing.TB, h string) string {
	t.Helper()
	for name, id := range v.Identities {
		if id.Hash == h {
			return name
		}
	}
	t.Fatalf("no identity has hash %s", h)
	return ""
}

// TestJavaPackets: every packet the Java reference made parses to the
// fields Java read from it, verifies as Java verified it, re-encodes byte
// for byte, and — made from those fields and signed with the sender's key
// (Ed25519 is deterministic) — comes out byte for byte as Java wrote it.
func TestJavaPackets(t *testing.T) {
	v := loadJava(t)
	now := time.Now()
	for name, jp := range v.Packets {
		t.Run(name, func(t *testing.T) {
			raw := unhex(t, jp.Packet)
			p, err := Parse(raw)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			checkParsed(t, v, p, jp)
			back, err := p.AppendTo(nil)
			if err != nil || !bytes.Equal(back, raw) {
				t.Fatalf("re-encoding differs (%v):\n got %x\nwant %x", err, back, raw)
			}
			wantValid := string(jp.Receive.Verify) == "true"
			known := Signer{Destination: v.dest(t, jp.Sender)}
			err = p.Verify(known, now, nil)
			if (err == nil) != wantValid {
				t.Fatalf("verify: %v, Java says %s", err, jp.Receive.Verify)
			}
			made := fromJavaFields(t, v, jp)
			var out []byte
			if jp.Signature != nil {
				out, err = made.AppendSigned(nil, v.key(t, jp.Signature.Signer))
			} else {
				out, err = made.AppendTo(nil)
			}
			if err != nil || !bytes.Equal(out, raw) {
				t.Fatalf("made from fields (%v):\n got %x\nwant %x", err, out, raw)
			}
		})
	}
}

func checkParsed(t *testing.T, v *javaVectors, p *Packet, jp javaPacket) {
	t.Helper()
	j := jp.Receive.Parsed
	flags, _ := strconv.ParseUint(j.Flags, 16, 16)
	ack := uint32(j.AckThrough)
	if j.AckThrough < 0 {
		if !p.Has(FlagNoACK) {
			t.Errorf("Java reads no ackThrough, NO_ACK unset")
		}
		ack = p.AckThrough
	}
	if p.SendStreamID != j.Send || p.ReceiveStreamID != j.Receive || p.Seq != j.Seq || p.AckThrough != ack ||
		p.ResendDelay != j.Resend || uint64(p.Flags) != flags {
		t.Errorf("header %+v, Java read %+v", p, j)
	}
	if !slices.Equal(p.NACKs, j.NACKs) {
		t.Errorf("NACKs %v, Java read %v", p.NACKs, j.NACKs)
	}
	if (j.Delay != nil) != p.Has(FlagDelay) || j.Delay != nil && *j.Delay != p.Delay {
		t.Errorf("delay %d (%v), Java read %v", p.Delay, p.Has(FlagDelay), j.Delay)
	}
	if (j.MTU != nil) != p.Has(FlagMaxPacketSize) || j.MTU != nil && *j.MTU != p.MaxPacketSize {
		t.Errorf("MTU %d, Java read %v", p.MaxPacketSize, j.MTU)
	}
	if j.FromHash != nil {
		h := p.From.Hash()
		if hex.EncodeToString(h[:]) != *j.FromHash {
			t.Errorf("FROM hash %x, Java read %s", h, *j.FromHash)
		}
	} else if p.Has(FlagFrom) {
		t.Errorf("FROM present, Java read none")
	}
	if hex.EncodeToString(p.Payload) != j.Payload {
		t.Errorf("payload %x, Java read %s", p.Payload, j.Payload)
	}
	if p.Has(FlagSYN) && len(p.NACKs) == TargetHashNACKs {
		h, ok := p.TargetHash()
		if !ok || hex.EncodeToString(h[:]) != v.Identities[jp.Receiver].Hash {
			t.Errorf("target hash %x, receiver %s", h, v.Identities[jp.Receiver].Hash)
		}
	}
}

// fromJavaFields builds a Packet from what Java parsed, without the
// signature.
func fromJavaFields(t *testing.T, v *javaVectors, jp javaPacket) *Packet {
	j := jp.Receive.Parsed
	flags, _ := strconv.ParseUint(j.Flags, 16, 16)
	p := &Packet{
		SendStreamID: j.Send, ReceiveStreamID: j.Receive, Seq: j.Seq,
		ResendDelay: j.Resend, Flags: Flags(flags) &^ FlagSignature, Payload: unhex(t, j.Payload),
	}
	if j.AckThrough > 0 {
		p.AckThrough = uint32(j.AckThrough)
	}
	if p.Has(FlagSYN) && len(j.NACKs) == TargetHashNACKs {
		var h i2p.Hash
		copy(h[:], unhex(t, v.Identities[jp.Receiver].Hash))
		p.SetTargetHash(h)
	} else if len(j.NACKs) > 0 {
		p.NACKs = j.NACKs
	}
	if j.Delay != nil {
		p.Delay = *j.Delay
	}
	if j.MTU != nil {
		p.MaxPacketSize = *j.MTU
	}
	if j.FromHash != nil {
		p.From = v.dest(t, v.byHash(t, *j.FromHash))
	}
	return p
}

// TestJavaNegatives: every packet Java refused is refused, by Parse or by
// Verify against the sender the stream would know (stream-client).
func TestJavaNegatives(t *testing.T) {
	v := loadJava(t)
	known := Signer{Destination: v.dest(t, "stream-client")}
	for name, jp := range v.Negatives {
		t.Run(name, func(t *testing.T) {
			p, err := Parse(unhex(t, jp.Packet))
			if err != nil {
				return
			}
			if err := p.Verify(known, time.Now(), nil); err == nil {
				t.Fatalf("accepted a packet Java refuses: %s", jp.Description)
			}
			if err := p.Verify(Signer{}, time.Now(), nil); err == nil {
				t.Fatalf("accepted (as a new SYN) a packet Java refuses: %s", jp.Description)
			}
		})
	}
}

// TestX25519From: a SYN from a crypto-type-4 Destination, which Java
// 2.3.0 cannot even read, parses, verifies and re-encodes here (we accept
// type 4 from others).
func TestX25519From(t *testing.T) {
	v := loadJava(t)
	jp := v.Quirks["x25519_from_read"]
	raw := unhex(t, jp.Packet)
	p, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if p.From.CryptoType() != i2p.CryptoX25519 || !jp.RawSignatureValid {
		t.Fatalf("vector is not what the test expects: crypto %v", p.From.CryptoType())
	}
	if err := p.Verify(Signer{}, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	h, ok := p.TargetHash()
	if !ok || hex.EncodeToString(h[:]) != v.Identities["tracker"].Hash {
		t.Fatalf("target hash %x", h)
	}
	back, _ := p.AppendTo(nil)
	if !bytes.Equal(back, raw) {
		t.Fatal("re-encoding differs")
	}
}
