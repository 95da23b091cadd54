// Package testvectors holds the Java reference vectors for tests.
//
// They are the vectors the reference Java implementation of I2P produced
// (a copy of shared/vectors/reference-java.json), decoded. Every package that must agree byte for byte
// with the reference reads them from here.
package testvectors

import (
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
)

//go:embed reference-java.json
var raw []byte

// Raw returns the embedded JSON document.
func Raw() []byte { return raw }

// Identity is one of the reference destinations with its key material.
type Identity struct {
	Inputs struct {
		Ed25519Seed    string `json:"ed25519_seed_hex"`
		X25519Private  string `json:"x25519_private_hex"`
		PaddingPattern string `json:"padding_pattern_hex"`
	} `json:"inputs"`
	SigType          uint16 `json:"sig_type"`
	EncType          uint16 `json:"enc_type"`
	Certificate      string `json:"certificate_hex"`
	SigningPublicKey string `json:"signing_public_key_hex"`
	EncPublicKey     string `json:"encryption_public_key_hex"`
	Padding          string `json:"padding_hex"`
	DestinationLen   int    `json:"destination_len"`
	Destination      string `json:"destination_hex"`
	DestinationB64   string `json:"destination_base64"`
	Hash             string `json:"hash_hex"`
	HashB64          string `json:"hash_base64"`
	B32              string `json:"b32"`
	PrivateKeyFile   string `json:"private_key_file_hex"`
	PrivateKeyLen    int    `json:"private_key_file_len"`
}

// Datagram2Vector is a Datagram2 made by the reference, with what the
// reference's parser made of it.
type Datagram2Vector struct {
	Description string            `json:"description"`
	Protocol    int               `json:"i2cp_protocol"`
	ToHash      string            `json:"to_hash_hex"`
	Payload     string            `json:"payload_hex"`
	Options     map[string]string `json:"options_input"`
	Len         int               `json:"datagram_len"`
	Datagram    string            `json:"datagram_hex"`
	Layout      struct {
		FromLen   int    `json:"from_len"`
		Flags     string `json:"flags_hex"`
		SigLen    int    `json:"signature_len"`
		Signature string `json:"signature_hex"`
	} `json:"layout"`
	ParsedBy string       `json:"parsed_by"`
	Parsed   ParsedResult `json:"parsed"`
	Result   ParsedResult `json:"result"`
	Expect   string       `json:"expect"`
}

// ParsedResult is the reference parser's verdict.
type ParsedResult struct {
	Accepted   bool              `json:"accepted"`
	Rejected   bool              `json:"rejected"`
	Exception  string            `json:"exception"`
	Message    string            `json:"message"`
	SenderDest string            `json:"sender_destination_hex"`
	SenderHash string            `json:"sender_hash_hex"`
	SenderB32  string            `json:"sender_b32"`
	Payload    string            `json:"payload_hex"`
	Options    map[string]string `json:"options"`
}

// Datagram3Vector is a Datagram3 made by the reference.
type Datagram3Vector struct {
	Description string            `json:"description"`
	Payload     string            `json:"payload_hex"`
	Options     map[string]string `json:"options_input"`
	Len         int               `json:"datagram_len"`
	Datagram    string            `json:"datagram_hex"`
	Flags       string            `json:"flags_hex"`
	Parsed      struct {
		FromHash string            `json:"from_hash_hex"`
		FromB32  string            `json:"from_b32"`
		Payload  string            `json:"payload_hex"`
		Options  map[string]string `json:"options"`
	} `json:"parsed"`
	ParsedPayload  string       `json:"parsed_payload_hex"`
	ParsedFromHash string       `json:"parsed_from_hash_hex"`
	Result         ParsedResult `json:"result"`
}

// GzipVector is an I2CP payload as the reference client wraps it.
type GzipVector struct {
	Description string `json:"description"`
	Payload     string `json:"payload_hex"`
	Proto       int    `json:"proto"`
	FromPort    int    `json:"from_port"`
	ToPort      int    `json:"to_port"`
	GzipOption  string `json:"gzip_option"`
	Wire        string `json:"wire_hex"`
	Header      string `json:"header_hex"`
}

// LeaseSet2Vector is the reference LeaseSet2 of the tracker identity.
type LeaseSet2Vector struct {
	PublishedMs int64 `json:"published_ms"`
	Leases      []struct {
		Gateway  string `json:"gateway_hex"`
		TunnelID uint32 `json:"tunnel_id"`
		EndMs    int64  `json:"end_ms"`
	} `json:"leases"`
	Len                int    `json:"leaseset2_len"`
	LeaseSet2          string `json:"leaseset2_hex"`
	Signature          string `json:"signature_hex"`
	CreateLeaseSet2Msg string `json:"create_leaseset2_message_hex"`
}

// Vectors is the whole document.
type Vectors struct {
	Destinations map[string]Identity `json:"destinations"`
	Payloads     struct {
		Connect  string `json:"bep15_connect_hex"`
		Announce string `json:"bep15_announce_hex"`
	} `json:"payloads"`
	Datagram2         map[string]Datagram2Vector `json:"datagram2"`
	Datagram2Negative []Datagram2Vector          `json:"datagram2_negative"`
	Datagram3         map[string]Datagram3Vector `json:"datagram3"`
	Gzip              map[string]GzipVector      `json:"i2cp_gzip"`
	LeaseSet2         LeaseSet2Vector            `json:"leaseset2"`
}

// Load decodes the embedded vectors.
func Load() (*Vectors, error) {
	var v Vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("testvectors: %w", err)
	}
	return &v, nil
}

// Must decodes the embedded vectors and fails t if it cannot.
func Must(t testing.TB) *Vectors {
	t.Helper()
	v, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Hex decodes a lowercase hex string from the vectors, panicking on a
// malformed one: the vectors are fixed test data, not input.
func Hex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(fmt.Sprintf("testvectors: bad hex %q: %v", s, err))
	}
	return b
}

// Atoi converts a number the vectors give as text, failing t on a
// malformed one.
func Atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// LeafPaths lists the dotted paths of the leaves under v, a decoded JSON
// value, each prefixed with prefix (and a dot, unless prefix is empty);
// an object is a leaf too when leaf says so of its path (an options map).
func LeafPaths(prefix string, v any, leaf func(path string) bool) []string {
	m, ok := v.(map[string]any)
	if !ok || (leaf != nil && prefix != "" && leaf(prefix)) {
		return []string{prefix}
	}
	var out []string
	for k, child := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		out = append(out, LeafPaths(p, child, leaf)...)
	}
	return out
}

// CheckClassified fails t for every leaf path of the entries (entry name
// → its paths) that use does not list, and for every path use lists that
// no entry has: so each field of a vector is either checked by a test or
// an input of one, and a new field fails until someone says which.
func CheckClassified(t testing.TB, entries map[string][]string, use map[string]string) {
	t.Helper()
	seen := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		for _, path := range entries[name] {
			seen[path] = true
			if _, ok := use[path]; !ok {
				t.Errorf("%s: field %s is neither checked nor an input of a check", name, path)
			}
		}
	}
	for _, path := range slices.Sorted(maps.Keys(use)) {
		if !seen[path] {
			t.Errorf("the field list names %s, which no vector has", path)
		}
	}
}

// SectionFields lists, for each entry of a section of the embedded
// document (an object of named entries or an array of them), the
// LeafPaths of the entry under prefix, keyed "section name" or "section
// index": the entries CheckClassified takes. It fails t if the section is
// missing or holds neither.
func SectionFields(t testing.TB, section, prefix string, leaf func(path string) bool) map[string][]string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("testvectors: %v", err)
	}
	out := map[string][]string{}
	switch v := doc[section].(type) {
	case map[string]any:
		for name, e := range v {
			out[section+" "+name] = LeafPaths(prefix, e, leaf)
		}
	case []any:
		for i, e := range v {
			out[section+" "+strconv.Itoa(i)] = LeafPaths(prefix, e, leaf)
		}
	default:
		t.Fatalf("testvectors: section %q is a %T", section, v)
	}
	return out
}
