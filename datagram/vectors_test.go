package datagram

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

// The reference vectors' datagram entries with every field, including those
// testvectors does not decode (layout, cross-checks, the reference's
// verdict details).
type (
	dg2Entry struct {
		Description string            `json:"description"`
		Protocol    int               `json:"i2cp_protocol"`
		From        string            `json:"from"`
		ToHash      string            `json:"to_hash_hex"`
		Payload     string            `json:"payload_hex"`
		Options     map[string]string `json:"options_input"`
		Len         int               `json:"datagram_len"`
		Datagram    string            `json:"datagram_hex"`
		Layout      *dg2Layout        `json:"layout"`
		ParsedBy    string            `json:"parsed_by"`
		Parsed      *refVerdict       `json:"parsed"`
		Result      *refVerdict       `json:"result"`
		Expect      string            `json:"expect"`
	}
	dg2Layout struct {
		FromLen        int    `json:"from_len"`
		FlagsOffset    int    `json:"flags_offset"`
		Flags          string `json:"flags_hex"`
		Version        int    `json:"flags_version"`
		OptionsBit     bool   `json:"flags_options_bit4"`
		OfflineBit     bool   `json:"flags_offline_bit5"`
		SigLen         int    `json:"signature_len"`
		Signature      string `json:"signature_hex"`
		Signed         string `json:"signed_data_hex(derived: to_hash || datagram[from_len : len-siglen])"`
		SignedVerifies bool   `json:"signed_data_verifies_with_reference_DSAEngine"`
	}
	// refVerdict is what the reference's receiver made of a datagram.
	refVerdict struct {
		Accepted           bool              `json:"accepted"`
		Rejected           bool              `json:"rejected"`
		Exception          string            `json:"exception"`
		Message            string            `json:"message"`
		SenderDest         string            `json:"sender_destination_hex"`
		SenderEqualsFrom   bool              `json:"sender_equals_from"`
		SenderHash         string            `json:"sender_hash_hex"`
		SenderB32          string            `json:"sender_b32"`
		Payload            string            `json:"payload_hex"`
		PayloadEqualsInput bool              `json:"payload_equals_input"`
		Options            map[string]string `json:"options"`
		// Datagram3 fields.
		FromHash         string `json:"from_hash_hex"`
		FromEqualsSender bool   `json:"from_hash_equals_sender_hash"`
		FromB32          string `json:"from_b32"`
	}
	dg3Entry struct {
		Description    string            `json:"description"`
		Protocol       int               `json:"i2cp_protocol"`
		Payload        string            `json:"payload_hex"`
		Options        map[string]string `json:"options_input"`
		Len            int               `json:"datagram_len"`
		Datagram       string            `json:"datagram_hex"`
		Flags          string            `json:"flags_hex"`
		Parsed         *refVerdict       `json:"parsed"`
		ParsedPayload  string            `json:"parsed_payload_hex"`
		ParsedFromHash string            `json:"parsed_from_hash_hex"`
		Result         *refVerdict       `json:"result"`
	}
	datagramVectors struct {
		Datagram2         map[string]dg2Entry `json:"datagram2"`
		Datagram2Negative []dg2Entry          `json:"datagram2_negative"`
		Datagram3         map[string]dg3Entry `json:"datagram3"`
	}
)

func loadDatagramVectors(t testing.TB) *datagramVectors {
	t.Helper()
	var v datagramVectors
	if err := json.Unmarshal(testvectors.Raw(), &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// hashHex decodes a 32-byte hash of the vectors.
func hashHex(t testing.TB, s string) i2p.Hash {
	t.Helper()
	var h i2p.Hash
	if b := testvectors.Hex(s); len(b) != len(h) {
		t.Fatalf("hash %s is %d bytes", s, len(b))
	}
	copy(h[:], testvectors.Hex(s))
	return h
}

// receiverOf is the hash of the Destination a vector says parsed it: the
// tracker, or the intended receiver (the legacy Destination, of which the
// vectors carry only the hash).
func receiverOf(t *testing.T, v *testvectors.Vectors, e dg2Entry) i2p.Hash {
	t.Helper()
	switch {
	case strings.HasPrefix(e.ParsedBy, "tracker"):
		return keysOf(t, v, "tracker").Destination.Hash()
	case strings.HasPrefix(e.ParsedBy, "legacy"):
		return hashHex(t, e.ToHash)
	}
	t.Fatalf("unknown receiver %q", e.ParsedBy)
	return i2p.Hash{}
}

// checkRejection checks that err rejects a datagram for the reason the
// reference gives: the same class of failure (a bad signature is
// I2PInvalidDatagramException, a malformed datagram DataFormatException),
// the matching error, and the detail the reference names (its last word: a
// size, a version, a signature type).
func checkRejection(t *testing.T, err error, r *refVerdict) {
	t.Helper()
	if err == nil {
		t.Fatalf("reference rejected (%s: %s), we accepted", r.Exception, r.Message)
	}
	var want error
	switch {
	case strings.HasPrefix(r.Message, "Bad signature"):
		want = ErrBadSignature
	case strings.HasPrefix(r.Message, "Bad version"):
		want = ErrBadVersion
	case strings.Contains(r.Message, "too small"):
		want = ErrTooSmall
	default:
		t.Fatalf("no mapping for reference message %q", r.Message)
	}
	if !errors.Is(err, want) {
		t.Fatalf("rejected with %v, reference says %q", err, r.Message)
	}
	invalid := errors.Is(err, ErrBadSignature) || errors.Is(err, ErrBadOffline)
	switch r.Exception {
	case "net.i2p.client.datagram.I2PInvalidDatagramException":
		if !invalid {
			t.Fatalf("reference found the datagram well formed but forged; we said %v", err)
		}
	case "net.i2p.data.DataFormatException":
		if invalid {
			t.Fatalf("reference found the datagram malformed; we said %v", err)
		}
	default:
		t.Fatalf("unknown reference exception %q", r.Exception)
	}
	words := strings.Fields(r.Message)
	if detail := words[len(words)-1]; !strings.Contains(err.Error(), detail) {
		t.Fatalf("our error %q does not name %q as the reference does (%q)", err, detail, r.Message)
	}
}

// checkAccepted compares a parsed Datagram2 with the reference's parse.
func checkAccepted(t *testing.T, d *Datagram2, p *refVerdict, from *i2p.PrivateKeys, payload []byte) {
	t.Helper()
	if hex.EncodeToString(d.From.Bytes()) != p.SenderDest {
		t.Fatalf("sender %x, reference %s", d.From.Bytes(), p.SenderDest)
	}
	if d.From.Equal(from.Destination) != p.SenderEqualsFrom {
		t.Fatalf("sender is the maker: %v, reference says %v", !p.SenderEqualsFrom, p.SenderEqualsFrom)
	}
	if hex.EncodeToString(d.From.Hash().Bytes()) != p.SenderHash || d.From.B32() != p.SenderB32 {
		t.Fatalf("sender hash/b32 %s, reference %s / %s", d.From.B32(), p.SenderHash, p.SenderB32)
	}
	if hex.EncodeToString(d.Payload) != p.Payload || bytes.Equal(d.Payload, payload) != p.PayloadEqualsInput {
		t.Fatalf("payload %x, reference %s (equal to input: %v)", d.Payload, p.Payload, p.PayloadEqualsInput)
	}
	opts, err := d.Options()
	if err != nil {
		t.Fatal(err)
	}
	if got := optionsMap(t, opts); !maps.Equal(got, p.Options) || (got == nil) != (p.Options == nil) {
		t.Fatalf("options %v, reference %v", got, p.Options)
	}
}

// TestReferenceDatagram2Made rebuilds every Datagram2 vector that names its
// inputs (sender, receiver hash, payload, options), the negative ones
// included, byte for byte, checks the layout the reference reports, and
// parses it at the receiver the reference used, to the reference's result.
func TestReferenceDatagram2Made(t *testing.T) {
	v := testvectors.Must(t)
	dv := loadDatagramVectors(t)
	entries := map[string]dg2Entry{}
	for name, e := range dv.Datagram2 {
		entries[name] = e
	}
	for i, e := range dv.Datagram2Negative {
		if e.From != "" {
			entries["negative/"+strconv.Itoa(i)] = e
		}
	}
	if len(entries) != len(dv.Datagram2)+2 {
		t.Fatalf("%d Datagram2 vectors with inputs, expected the positive ones and negatives 2 and 3", len(entries))
	}
	for name, e := range entries {
		t.Run(name, func(t *testing.T) {
			if e.Protocol != ProtocolDatagram2 {
				t.Fatalf("I2CP protocol %d, ours %d", e.Protocol, ProtocolDatagram2)
			}
			sender := keysOf(t, v, e.From)
			to := hashHex(t, e.ToHash)
			payload := testvectors.Hex(e.Payload)
			made, err := AppendDatagram2(nil, sender, to, mappingOf(e.Options), payload)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(made) != e.Datagram || len(made) != e.Len {
				t.Fatalf("made datagram (%d bytes) differs:\n got %x\nwant %s", len(made), made, e.Datagram)
			}

			l := e.Layout
			st := sender.Destination.SigType()
			if l.FromLen != sender.Destination.Len() || l.FlagsOffset != l.FromLen || l.SigLen != st.SignatureLen() {
				t.Fatalf("layout %d/%d/%d, ours %d/%d/%d", l.FromLen, l.FlagsOffset, l.SigLen,
					sender.Destination.Len(), sender.Destination.Len(), st.SignatureLen())
			}
			flags := made[l.FlagsOffset : l.FlagsOffset+2]
			if hex.EncodeToString(flags) != l.Flags || int(flags[1]&flagVersionMask) != l.Version ||
				(flags[1]&flagOptions != 0) != l.OptionsBit || (flags[1]&flagOffline != 0) != l.OfflineBit {
				t.Fatalf("flags %x, reference %s (version %d, options %v, offline %v)", flags, l.Flags, l.Version, l.OptionsBit, l.OfflineBit)
			}
			sig := made[len(made)-l.SigLen:]
			signed := append(to[:], made[l.FromLen:len(made)-l.SigLen]...)
			if hex.EncodeToString(sig) != l.Signature || hex.EncodeToString(signed) != l.Signed {
				t.Fatal("signature or signed bytes differ from the reference's layout")
			}
			if err := i2p.Verify(st, sender.Destination.SigningPublicKey(), signed, sig); (err == nil) != l.SignedVerifies {
				t.Fatalf("signed bytes verify: %v, reference says %v", err, l.SignedVerifies)
			}

			var d Datagram2
			err = ParseDatagram2(made, receiverOf(t, v, e), time.Now(), &d)
			switch {
			case e.Parsed.Accepted:
				if err != nil {
					t.Fatalf("reference accepted, we rejected: %v", err)
				}
				checkAccepted(t, &d, e.Parsed, sender, payload)
			case e.Parsed.Rejected:
				checkRejection(t, err, e.Parsed)
			default:
				t.Fatal("vector has no verdict")
			}
			if accept := strings.HasPrefix(e.Expect, "accept"); e.Expect != "" && accept != e.Parsed.Accepted {
				t.Fatalf("expect %q contradicts the verdict", e.Expect)
			}
		})
	}
}

// TestReferenceDatagram2NegativeDerived rebuilds the negative vectors that
// alter the connect vector from their descriptions (a byte flipped, the
// version changed, a truncation) and checks each expectation against the
// verdict.
func TestReferenceDatagram2NegativeDerived(t *testing.T) {
	dv := loadDatagramVectors(t)
	connect := testvectors.Hex(dv.Datagram2["connect"].Datagram)
	flip := regexp.MustCompile(`index (\d+), xor 0x([0-9a-f]{2})`)
	version := regexp.MustCompile(`flags version nibble set to (\d+)`)
	truncated := regexp.MustCompile(`truncated to (\d+) bytes \(< MIN_DGRAM_SIZE (\d+)\)`)
	derived := 0
	for _, e := range dv.Datagram2Negative {
		if e.From != "" {
			continue // made from inputs: TestReferenceDatagram2Made
		}
		t.Run(e.Description, func(t *testing.T) {
			want := bytes.Clone(connect)
			switch {
			case flip.MatchString(e.Description):
				m := flip.FindStringSubmatch(e.Description)
				x, _ := strconv.ParseUint(m[2], 16, 8)
				want[testvectors.Atoi(t, m[1])] ^= byte(x)
			case version.MatchString(e.Description):
				n := testvectors.Atoi(t, version.FindStringSubmatch(e.Description)[1])
				f := &want[dv.Datagram2["connect"].Layout.FlagsOffset+1]
				*f = *f&^flagVersionMask | byte(n)
			case truncated.MatchString(e.Description):
				m := truncated.FindStringSubmatch(e.Description)
				want = want[:testvectors.Atoi(t, m[1])]
				if testvectors.Atoi(t, m[2]) != Datagram2MinSize {
					t.Fatalf("reference minimum %s, ours %d", m[2], Datagram2MinSize)
				}
			default:
				t.Fatalf("description %q not understood", e.Description)
			}
			if hex.EncodeToString(want) != e.Datagram {
				t.Fatalf("vector is not what its description says:\n got %x\nwant %s", want, e.Datagram)
			}
			if !e.Result.Rejected || !strings.HasPrefix(e.Expect, "reject") {
				t.Fatalf("expect %q, verdict %+v", e.Expect, e.Result)
			}
			derived++
		})
	}
	if derived != 4 {
		t.Fatalf("%d derived negative vectors, expected 4", derived)
	}
}

// TestReferenceDatagram3Fields checks the Datagram3 vector fields beyond the
// bytes: protocol, length, flags, the reference's b32 of the sender and its
// cross-checks, and the negative vector's derivation and reason.
func TestReferenceDatagram3Fields(t *testing.T) {
	v := testvectors.Must(t)
	dv := loadDatagramVectors(t)
	sender := keysOf(t, v, "sender").Destination
	connect := testvectors.Hex(dv.Datagram3["connect"].Datagram)
	nibble := regexp.MustCompile(`datagram3 with version nibble (\d+)`)
	for name, e := range dv.Datagram3 {
		t.Run(name, func(t *testing.T) {
			raw := testvectors.Hex(e.Datagram)
			var d Datagram3
			err := ParseDatagram3(raw, &d)
			if e.Result != nil {
				m := nibble.FindStringSubmatch(e.Description)
				if m == nil {
					t.Fatalf("description %q not understood", e.Description)
				}
				want := bytes.Clone(connect)
				want[i2p.HashLen+1] = want[i2p.HashLen+1]&^flagVersionMask | byte(testvectors.Atoi(t, m[1]))
				if !bytes.Equal(want, raw) {
					t.Fatal("negative vector is not the connect vector with its version changed")
				}
				checkRejection(t, err, e.Result)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Parsed == nil {
				// The short form: payload and sender hash only.
				if hex.EncodeToString(d.Payload) != e.ParsedPayload || hex.EncodeToString(d.From[:]) != e.ParsedFromHash {
					t.Fatal("parsed fields differ from the reference")
				}
				return
			}
			if e.Protocol != ProtocolDatagram3 || len(raw) != e.Len {
				t.Fatalf("protocol %d, length %d; want %d, %d", e.Protocol, e.Len, ProtocolDatagram3, len(raw))
			}
			if hex.EncodeToString(raw[i2p.HashLen:i2p.HashLen+2]) != e.Flags {
				t.Fatalf("flags %x, reference %s", raw[i2p.HashLen:i2p.HashLen+2], e.Flags)
			}
			p := e.Parsed
			if d.From.B32() != p.FromB32 || (d.From == sender.Hash()) != p.FromEqualsSender {
				t.Fatalf("sender %s, reference %s (sender's own: %v)", d.From.B32(), p.FromB32, p.FromEqualsSender)
			}
			if bytes.Equal(d.Payload, testvectors.Hex(e.Payload)) != p.PayloadEqualsInput {
				t.Fatal("payload equality with the input differs from the reference")
			}
			if opts, _ := d.Options(); (opts == nil) != (p.Options == nil) {
				t.Fatalf("options present %v, reference %v", opts != nil, p.Options)
			}
		})
	}
}

// datagramFieldUse says, for every field of the datagram vectors (with the
// entry's name or index replaced by *), which test checks it or that it
// is an input of one. TestDatagramVectorFieldsClassified fails on a field
// missing here.
var datagramFieldUse = map[string]string{
	"datagram2.*.description":               "label",
	"datagram2.*.i2cp_protocol":             "TestReferenceDatagram2Made (ProtocolDatagram2)",
	"datagram2.*.from":                      "input: names the sender's key file",
	"datagram2.*.to_hash_hex":               "input; TestReferenceDatagram2 checks it is the tracker's",
	"datagram2.*.payload_hex":               "input",
	"datagram2.*.options_input":             "input",
	"datagram2.*.datagram_len":              "TestReferenceDatagram2Made",
	"datagram2.*.datagram_hex":              "TestReferenceDatagram2, TestReferenceDatagram2Made",
	"datagram2.*.layout.from_len":           "TestReferenceDatagram2Made",
	"datagram2.*.layout.flags_offset":       "TestReferenceDatagram2Made",
	"datagram2.*.layout.flags_hex":          "TestReferenceDatagram2Made",
	"datagram2.*.layout.flags_version":      "TestReferenceDatagram2Made",
	"datagram2.*.layout.flags_options_bit4": "TestReferenceDatagram2Made",
	"datagram2.*.layout.flags_offline_bit5": "TestReferenceDatagram2Made",
	"datagram2.*.layout.signature_len":      "TestReferenceDatagram2Made",
	"datagram2.*.layout.signature_hex":      "TestReferenceDatagram2Made",
	"datagram2.*.layout.signed_data_hex(derived: to_hash || datagram[from_len : len-siglen])": "TestReferenceDatagram2Made",
	"datagram2.*.layout.signed_data_verifies_with_reference_DSAEngine":                        "TestReferenceDatagram2Made",
	"datagram2.*.parsed_by":                           "TestReferenceDatagram2Made (picks the receiver)",
	"datagram2.*.parsed.accepted":                     "TestReferenceDatagram2Made",
	"datagram2.*.parsed.rejected":                     "TestReferenceDatagram2Made",
	"datagram2.*.parsed.exception":                    "TestReferenceDatagram2Made (error class)",
	"datagram2.*.parsed.message":                      "TestReferenceDatagram2Made (error and detail)",
	"datagram2.*.parsed.sender_destination_hex":       "TestReferenceDatagram2Made",
	"datagram2.*.parsed.sender_equals_from":           "TestReferenceDatagram2Made",
	"datagram2.*.parsed.sender_hash_hex":              "TestReferenceDatagram2Made",
	"datagram2.*.parsed.sender_b32":                   "TestReferenceDatagram2Made",
	"datagram2.*.parsed.payload_hex":                  "TestReferenceDatagram2Made",
	"datagram2.*.parsed.payload_equals_input":         "TestReferenceDatagram2Made",
	"datagram2.*.parsed.options":                      "TestReferenceDatagram2Made",
	"datagram2.*.result.rejected":                     "TestReferenceDatagram2Negative, TestReferenceDatagram2NegativeDerived",
	"datagram2.*.result.exception":                    "TestReferenceDatagram2Negative (error class)",
	"datagram2.*.result.message":                      "TestReferenceDatagram2Negative (error and detail)",
	"datagram2.*.expect":                              "TestReferenceDatagram2Made, TestReferenceDatagram2NegativeDerived",
	"datagram3.*.description":                         "label; TestReferenceDatagram3Fields derives the negative vector from it",
	"datagram3.*.i2cp_protocol":                       "TestReferenceDatagram3Fields (ProtocolDatagram3)",
	"datagram3.*.payload_hex":                         "input; TestReferenceDatagram3Fields",
	"datagram3.*.options_input":                       "input of TestReferenceDatagram3",
	"datagram3.*.datagram_len":                        "TestReferenceDatagram3Fields",
	"datagram3.*.datagram_hex":                        "TestReferenceDatagram3",
	"datagram3.*.flags_hex":                           "TestReferenceDatagram3Fields",
	"datagram3.*.parsed.from_hash_hex":                "TestReferenceDatagram3",
	"datagram3.*.parsed.from_hash_equals_sender_hash": "TestReferenceDatagram3Fields",
	"datagram3.*.parsed.from_b32":                     "TestReferenceDatagram3Fields",
	"datagram3.*.parsed.payload_hex":                  "TestReferenceDatagram3",
	"datagram3.*.parsed.payload_equals_input":         "TestReferenceDatagram3Fields",
	"datagram3.*.parsed.options":                      "TestReferenceDatagram3",
	"datagram3.*.parsed_payload_hex":                  "TestReferenceDatagram3, TestReferenceDatagram3Fields",
	"datagram3.*.parsed_from_hash_hex":                "TestReferenceDatagram3, TestReferenceDatagram3Fields",
	"datagram3.*.result.rejected":                     "TestReferenceDatagram3",
	"datagram3.*.result.exception":                    "TestReferenceDatagram3Fields (error class)",
	"datagram3.*.result.message":                      "TestReferenceDatagram3Fields (error and detail)",
}

// TestDatagramVectorFieldsClassified walks every datagram vector and
// requires each field to be listed in datagramFieldUse, and each listed
// field to exist. Negative Datagram2 vectors share the Datagram2 names.
func TestDatagramVectorFieldsClassified(t *testing.T) {
	isOptions := func(path string) bool {
		return strings.HasSuffix(path, "options") || strings.HasSuffix(path, "options_input")
	}
	entries := testvectors.SectionFields(t, "datagram2", "datagram2.*", isOptions)
	maps.Copy(entries, testvectors.SectionFields(t, "datagram2_negative", "datagram2.*", isOptions))
	maps.Copy(entries, testvectors.SectionFields(t, "datagram3", "datagram3.*", isOptions))
	testvectors.CheckClassified(t, entries, datagramFieldUse)
}
