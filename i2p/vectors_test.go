package i2p

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"regexp"
	"testing"

	"github.com/go-i2p/go-opentracker/internal/testvectors"
)

// TestReferenceDestinations rebuilds every reference Destination from its
// inputs and parses the reference bytes back to the same fields.
func TestReferenceDestinations(t *testing.T) {
	v := testvectors.Must(t)
	for name, id := range v.Destinations {
		t.Run(name, func(t *testing.T) {
			raw := testvectors.Hex(id.Destination)
			d, rest, err := ParseDestination(append(raw, 0xAA))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(rest, []byte{0xAA}) {
				t.Fatalf("remainder %x, want aa", rest)
			}
			if d.Len() != id.DestinationLen || !bytes.Equal(d.Bytes(), raw) {
				t.Fatalf("length %d, want %d", d.Len(), id.DestinationLen)
			}
			if got := hex.EncodeToString(d.Hash().Bytes()); got != id.Hash {
				t.Errorf("hash %s, want %s", got, id.Hash)
			}
			if d.Base64() != id.DestinationB64 || d.Hash().Base64() != id.HashB64 || d.B32() != id.B32 {
				t.Errorf("text forms differ: %s / %s / %s", d.Base64(), d.Hash().Base64(), d.B32())
			}
			if uint16(d.SigType()) != id.SigType || uint16(d.CryptoType()) != id.EncType {
				t.Errorf("types %v/%v, want %d/%d", d.SigType(), d.CryptoType(), id.SigType, id.EncType)
			}
			if hex.EncodeToString(d.Certificate()) != id.Certificate {
				t.Errorf("certificate %x, want %s", d.Certificate(), id.Certificate)
			}
			if hex.EncodeToString(d.SigningPublicKey()) != id.SigningPublicKey {
				t.Errorf("signing key %x, want %s", d.SigningPublicKey(), id.SigningPublicKey)
			}
			if hex.EncodeToString(d.EncryptionPublicKey()) != id.EncPublicKey {
				t.Errorf("encryption key %x, want %s", d.EncryptionPublicKey(), id.EncPublicKey)
			}

			// Rebuild from the inputs: the seed gives the signing key.
			seed := testvectors.Hex(id.Inputs.Ed25519Seed)
			pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
			if hex.EncodeToString(pub) != id.SigningPublicKey {
				t.Fatalf("seed derives %x, want %s", pub, id.SigningPublicKey)
			}
			enc := testvectors.Hex(id.EncPublicKey)
			built, err := NewDestination(CryptoType(id.EncType), enc, SigType(id.SigType), pub, testvectors.Hex(id.Padding))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(built.Bytes(), raw) {
				t.Fatalf("rebuilt destination differs:\n got %x\nwant %x", built.Bytes(), raw)
			}

			fromB64, err := ParseDestinationBase64(id.DestinationB64 + ".i2p")
			if err != nil || !fromB64.Equal(d) {
				t.Fatalf("base64 round trip: %v", err)
			}
			h, err := ParseB32(id.B32)
			if err != nil || h != d.Hash() {
				t.Fatalf("b32 round trip: %v", err)
			}
			h, err = ParseHashBase64(id.HashB64)
			if err != nil || h != d.Hash() {
				t.Fatalf("hash base64 round trip: %v", err)
			}
		})
	}
}

// TestReferenceKeyFiles parses each reference private key file, checks the
// keys it holds, and writes it back byte for byte.
func TestReferenceKeyFiles(t *testing.T) {
	v := testvectors.Must(t)
	for name, id := range v.Destinations {
		t.Run(name, func(t *testing.T) {
			raw := testvectors.Hex(id.PrivateKeyFile)
			if len(raw) != id.PrivateKeyLen {
				t.Fatalf("vector length %d, want %d", len(raw), id.PrivateKeyLen)
			}
			k, err := ParsePrivateKeys(raw)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(k.Destination.Bytes()) != id.Destination {
				t.Fatal("destination differs")
			}
			if !bytes.Equal(k.SigningKey.Private, testvectors.Hex(id.Inputs.Ed25519Seed)) {
				t.Fatalf("signing key %x", k.SigningKey.Private)
			}
			if id.Inputs.X25519Private != "" && !bytes.Equal(k.EncryptionKey, testvectors.Hex(id.Inputs.X25519Private)) {
				t.Fatalf("encryption key %x", k.EncryptionKey)
			}
			if k.Offline != nil {
				t.Fatal("unexpected offline section")
			}
			if !bytes.Equal(k.Bytes(), raw) {
				t.Fatal("serialized key file differs")
			}
			pub, err := k.SigningKey.Public()
			if err != nil || hex.EncodeToString(pub) != id.SigningPublicKey {
				t.Fatalf("public from private: %x %v", pub, err)
			}
			if _, err := ParsePrivateKeys(raw[:len(raw)-1]); err == nil {
				t.Fatal("truncated key file accepted")
			}
			if _, err := ParsePrivateKeys(append(raw, 0)); err == nil {
				t.Fatal("key file with trailing byte accepted")
			}
		})
	}
}

// destinationExtras are the fields of a reference identity that
// testvectors.Identity does not decode: names, the rules and derivations
// its inputs were made by, and the reference's own cross-checks.
type destinationExtras struct {
	Inputs struct {
		SeedDerivation   string `json:"ed25519_seed_derivation"`
		X25519Derivation string `json:"x25519_private_derivation"`
		PaddingRule      string `json:"padding_rule"`
		Rule             string `json:"rule"`
	} `json:"inputs"`
	SigTypeName   string `json:"sig_type_name"`
	EncTypeName   string `json:"enc_type_name"`
	JavaSize      int    `json:"java_Destination.size()_QUIRK"`
	B32Check      string `json:"b32_check_Base32.encode(hash)+.b32.i2p"`
	KeyFileLayout string `json:"private_key_file_layout"`
}

func loadDestinationExtras(t testing.TB) map[string]destinationExtras {
	t.Helper()
	var doc struct {
		Destinations map[string]destinationExtras `json:"destinations"`
	}
	if err := json.Unmarshal(testvectors.Raw(), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Destinations
}

// sha256Label extracts the label of a `SHA-256("label")` derivation, the
// form the vectors describe their fixed keys in, and returns the digest.
func sha256Label(t testing.TB, what, text string) []byte {
	t.Helper()
	m := regexp.MustCompile(`SHA-256\("([^"]+)"\)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("%s: no SHA-256(\"label\") derivation in %q", what, text)
	}
	d := sha256.Sum256([]byte(m[1]))
	return d[:]
}

// repeatTo repeats pattern to n bytes.
func repeatTo(pattern []byte, n int) []byte {
	return bytes.Repeat(pattern, n/len(pattern)+1)[:n]
}

// TestReferenceDestinationExtras checks the fields of each reference
// identity beyond its bytes: type names, how its inputs were derived, the
// padding rule, the key-file layout and the reference's own b32 and size.
func TestReferenceDestinationExtras(t *testing.T) {
	v := testvectors.Must(t)
	extras := loadDestinationExtras(t)
	for name, id := range v.Destinations {
		x := extras[name]
		t.Run(name, func(t *testing.T) {
			st, ct := SigType(id.SigType), CryptoType(id.EncType)
			if st.String() != x.SigTypeName || ct.String() != x.EncTypeName {
				t.Errorf("names %s/%s, reference %s/%s", st, ct, x.SigTypeName, x.EncTypeName)
			}
			seed := testvectors.Hex(id.Inputs.Ed25519Seed)
			if !bytes.Equal(sha256Label(t, "seed", x.Inputs.SeedDerivation), seed) {
				t.Errorf("seed is not %s", x.Inputs.SeedDerivation)
			}
			if id.Inputs.X25519Private != "" {
				priv := testvectors.Hex(id.Inputs.X25519Private)
				if !bytes.Equal(sha256Label(t, "x25519", x.Inputs.X25519Derivation), priv) {
					t.Errorf("X25519 key is not %s", x.Inputs.X25519Derivation)
				}
				// Stored unclamped; X25519 clamps when it uses the key.
				k, err := ecdh.X25519().NewPrivateKey(priv)
				if err != nil || hex.EncodeToString(k.PublicKey().Bytes()) != id.EncPublicKey {
					t.Errorf("X25519 public key of the stored private key differs: %v", err)
				}
			}
			raw := testvectors.Hex(id.Destination)
			pattern := testvectors.Hex(id.Inputs.PaddingPattern)
			padding := testvectors.Hex(id.Padding)
			if rule := x.Inputs.PaddingRule; rule != "" {
				m := regexp.MustCompile(`^(\d+) bytes = (\d+)-byte pattern repeated.*bytes (\d+)\.\.(\d+) of the destination`).FindStringSubmatch(rule)
				if m == nil {
					t.Fatalf("padding rule not understood: %q", rule)
				}
				n, from, to := testvectors.Atoi(t, m[1]), testvectors.Atoi(t, m[3]), testvectors.Atoi(t, m[4])
				if len(pattern) != testvectors.Atoi(t, m[2]) || len(padding) != n || !bytes.Equal(padding, repeatTo(pattern, n)) {
					t.Errorf("padding is not the %d-byte pattern repeated to %d bytes", len(pattern), n)
				}
				if !bytes.Equal(raw[from:to+1], padding) {
					t.Errorf("padding is not bytes %d..%d of the destination", from, to)
				}
			}
			if x.B32Check != id.B32 {
				t.Errorf("reference's own b32 check %s differs from its b32 %s", x.B32Check, id.B32)
			}
			// The Java router counts a Destination's size as if its
			// encryption key filled the 256-byte field, so it oversizes
			// crypto type 4 and gets crypto type 0, the type NewIdentity
			// makes, right (PROTOCOL.md §3).
			if want := id.DestinationLen + PublicKeyFieldLen - ct.PublicKeyLen(); x.JavaSize != want {
				t.Errorf("reference Destination.size() %d, expected %d", x.JavaSize, want)
			}
			m := regexp.MustCompile(`^destination \|\| encryption private key \((\d+) bytes, (\w+)\) \|\| signing private key \((\d+) bytes\)$`).FindStringSubmatch(x.KeyFileLayout)
			if m == nil {
				t.Fatalf("key file layout not understood: %q", x.KeyFileLayout)
			}
			if testvectors.Atoi(t, m[1]) != ct.PrivateKeyLen() || m[2] != ct.String() || testvectors.Atoi(t, m[3]) != st.PrivateKeyLen() {
				t.Errorf("layout %q disagrees with %v/%v key sizes", x.KeyFileLayout, ct, st)
			}
			if id.PrivateKeyLen != id.DestinationLen+ct.PrivateKeyLen()+st.PrivateKeyLen() {
				t.Errorf("key file of %d bytes does not add up", id.PrivateKeyLen)
			}
		})
	}
}

// TestNewIdentityJavaStyle feeds NewIdentity the inputs the reference
// documents for its Java-style identity (seed, padding pattern, unused
// ElGamal private key, in the order NewIdentity reads them) and gets the
// reference's key file back byte for byte.
func TestNewIdentityJavaStyle(t *testing.T) {
	const name = "javastyle_ed25519_elgamal0"
	id := testvectors.Must(t).Destinations[name]
	rule := loadDestinationExtras(t)[name].Inputs.Rule
	m := regexp.MustCompile(`(\d+)-byte 'ElGamal' field = pattern repeated.*, (\d+)-byte padding = pattern repeated, crypto type (\d+) in the key cert; unused (\d+)-byte private key = SHA-256\("[^"]+"\) repeated`).FindStringSubmatch(rule)
	if m == nil {
		t.Fatalf("rule not understood: %q", rule)
	}
	fieldLen, padLen, crypto, unusedLen := testvectors.Atoi(t, m[1]), testvectors.Atoi(t, m[2]), testvectors.Atoi(t, m[3]), testvectors.Atoi(t, m[4])
	seed := testvectors.Hex(id.Inputs.Ed25519Seed)
	pattern := testvectors.Hex(id.Inputs.PaddingPattern)
	unused := repeatTo(sha256Label(t, "unused ElGamal key", rule), unusedLen)

	k, err := NewIdentity(io.MultiReader(bytes.NewReader(seed), bytes.NewReader(pattern), bytes.NewReader(unused)))
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(k.Bytes()) != id.PrivateKeyFile {
		t.Fatalf("key file differs:\n got %x\nwant %s", k.Bytes(), id.PrivateKeyFile)
	}
	// The parts the rule names, one by one.
	d := k.Destination
	if int(d.CryptoType()) != crypto || d.CryptoType() != CryptoType(id.EncType) {
		t.Errorf("crypto type %v, rule says %d", d.CryptoType(), crypto)
	}
	if pub := d.EncryptionPublicKey(); len(pub) != fieldLen || !bytes.Equal(pub, repeatTo(pattern, fieldLen)) {
		t.Errorf("'ElGamal' field is not the pattern repeated")
	}
	if pad := testvectors.Hex(id.Padding); len(pad) != padLen || !bytes.Equal(pad, repeatTo(pattern, padLen)) || !bytes.Equal(d.Bytes()[fieldLen:fieldLen+padLen], pad) {
		t.Errorf("padding is not the pattern repeated")
	}
	if !bytes.Equal(k.EncryptionKey, unused) || !bytes.Equal(k.SigningKey.Private, seed) {
		t.Errorf("private keys differ from the inputs")
	}
	parsed, err := ParsePrivateKeys(testvectors.Hex(id.PrivateKeyFile))
	if err != nil || !bytes.Equal(parsed.EncryptionKey, unused) {
		t.Fatalf("reference key file's ElGamal private key is not the documented one: %v", err)
	}
}

// destinationFieldUse says, for every field of a reference identity, which
// test checks it or that it is an input of one. TestVectorFieldsClassified
// fails on any field missing here, so a new vector field cannot go
// unnoticed.
var destinationFieldUse = map[string]string{
	"inputs.ed25519_seed_hex":                "input: rebuilds the destination, key file and identity; TestReferenceKeyFiles",
	"inputs.ed25519_seed_derivation":         "TestReferenceDestinationExtras (SHA-256 of the label)",
	"inputs.x25519_private_hex":              "TestReferenceKeyFiles; TestReferenceDestinationExtras (public key)",
	"inputs.x25519_private_derivation":       "TestReferenceDestinationExtras (SHA-256 of the label)",
	"inputs.padding_pattern_hex":             "TestReferenceDestinationExtras; input of TestNewIdentityJavaStyle",
	"inputs.padding_rule":                    "TestReferenceDestinationExtras (length, pattern, position)",
	"inputs.rule":                            "TestNewIdentityJavaStyle (field, padding, crypto type, unused key)",
	"sig_type":                               "TestReferenceDestinations",
	"sig_type_name":                          "TestReferenceDestinationExtras (SigType.String)",
	"enc_type":                               "TestReferenceDestinations",
	"enc_type_name":                          "TestReferenceDestinationExtras (CryptoType.String)",
	"certificate_hex":                        "TestReferenceDestinations",
	"signing_public_key_hex":                 "TestReferenceDestinations",
	"encryption_public_key_hex":              "TestReferenceDestinations; input of the rebuild",
	"padding_hex":                            "input of the rebuild in TestReferenceDestinations; TestReferenceDestinationExtras",
	"destination_len":                        "TestReferenceDestinations",
	"java_Destination.size()_QUIRK":          "TestReferenceDestinationExtras (the reference's size miscount)",
	"destination_hex":                        "TestReferenceDestinations",
	"destination_base64":                     "TestReferenceDestinations",
	"hash_hex":                               "TestReferenceDestinations",
	"hash_base64":                            "TestReferenceDestinations",
	"b32":                                    "TestReferenceDestinations",
	"b32_check_Base32.encode(hash)+.b32.i2p": "TestReferenceDestinationExtras",
	"private_key_file_len":                   "TestReferenceKeyFiles",
	"private_key_file_hex":                   "TestReferenceKeyFiles; TestNewIdentityJavaStyle",
	"private_key_file_layout":                "TestReferenceDestinationExtras (key sizes and names)",
}

// TestVectorFieldsClassified walks every identity in the reference vectors
// and requires each of its fields to be listed in destinationFieldUse, and
// each listed field to exist.
func TestVectorFieldsClassified(t *testing.T) {
	testvectors.CheckClassified(t, testvectors.SectionFields(t, "destinations", "", nil), destinationFieldUse)
}
