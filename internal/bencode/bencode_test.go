package bencode

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	for in, want := range map[string]any{
		"i0e":                              int64(0),
		"i-3e":                             int64(-3),
		"i9223372036854775807e":            int64(9223372036854775807),
		"i-9223372036854775808e":           int64(-9223372036854775808),
		"0:":                               "",
		"4:spam":                           "spam",
		"le":                               []any{},
		"l4:spami0ee":                      []any{"spam", int64(0)},
		"de":                               map[string]any{},
		"d1:ai-3e1:bl4:spami0ee1:cd0:0:ee": map[string]any{"a": int64(-3), "b": []any{"spam", int64(0)}, "c": map[string]any{"": ""}},
	} {
		got, err := Decode([]byte(in))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Decode(%q) = %#v, %v; want %#v", in, got, err, want)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	deep := strings.Repeat("l", MaxDepth+2) + strings.Repeat("e", MaxDepth+2)
	for _, in := range []string{
		"", "i", "ie", "i-e", "i-0e", "i01e", "i+1e", "i1.5e", "i9223372036854775808e", "i" + strings.Repeat("1", 30) + "e",
		"1", "1:", "01:a", "-1:a", "4:spa", "99999999999:x", ":",
		"l", "li1e", "d", "d1:a", "d1:ai1e", "di1ei2ee", "d1:bi1e1:ai2ee", "d1:ai1e1:ai2ee",
		"i1ei2e", "4:spamx", "x", deep,
	} {
		v, err := Decode([]byte(in))
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Decode(%q) = %#v, %v; want ErrInvalid", in, v, err)
		}
	}
}

func TestAppend(t *testing.T) {
	got, err := Append(nil, map[string]any{"b": []any{int64(-5), "x", []byte{0, 1}}, "a": 7, "c": int64(-1) << 63})
	if want := "d1:ai7e1:bli-5e1:x2:\x00\x01e1:ci-9223372036854775808ee"; err != nil || string(got) != want {
		t.Fatalf("Append = %q, %v; want %q", got, err, want)
	}
	if _, err := Append(nil, []any{1.5}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a float: %v", err)
	}
	var deep any = "x"
	for range MaxDepth + 2 {
		deep = []any{deep}
	}
	if _, err := Append(nil, deep); !errors.Is(err, ErrInvalid) {
		t.Fatalf("nested too deep: %v", err)
	}
	if s := string(AppendInt(AppendString(nil, "no"), -5)); s != "2:noi-5e" {
		t.Fatal(s)
	}
}

// TestDictLenient: the walkers take keys in any order, as a client may
// read a sloppy tracker's reply; they still check every value.
func TestDictLenient(t *testing.T) {
	var keys []string
	rest, err := Dict([]byte("d5:peersl1:a1:be8:intervali1eetail"), func(key, value []byte) error {
		keys = append(keys, string(key)+"="+string(value))
		return nil
	})
	if err != nil || string(rest) != "tail" || !reflect.DeepEqual(keys, []string{"peers=l1:a1:be", "interval=i1e"}) {
		t.Fatalf("%q %q %v", keys, rest, err)
	}
	stop := errors.New("stop")
	if _, err := Dict([]byte("d1:ai1e1:bi2ee"), func(key, _ []byte) error { return stop }); err != stop {
		t.Fatalf("fn's error: %v", err)
	}
	for _, in := range []string{"d1:ai01ee", "d1:a", "di1ei1ee", "l", "d1:a" + strings.Repeat("l", 40) + strings.Repeat("e", 41)} {
		if _, err := Dict([]byte(in), func(_, _ []byte) error { return nil }); !errors.Is(err, ErrInvalid) {
			t.Errorf("Dict(%q): %v", in, err)
		}
	}
	n := 0
	if rest, err := List([]byte("li1e3:abcdee"), func([]byte) error { n++; return nil }); err != nil || n != 3 || len(rest) != 0 {
		t.Fatalf("List: %d items, %q, %v", n, rest, err)
	}
}

// FuzzDecode: no input panics a reader; what Decode accepts is
// canonical (Append writes it back byte for byte), and the lenient
// walkers accept it too, whole.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		"d8:completei1e10:incompletei0e8:intervali1620e5:peers32:" + strings.Repeat("p", 32) + "e",
		"d14:failure reason21:not a registered hashe",
		"d5:filesd20:" + strings.Repeat("h", 20) + "d8:completei0e10:downloadedi3e10:incompletei1eeee",
		"d5:peersld2:ip4:abcd7:peer id20:" + strings.Repeat("x", 20) + "4:porti6881eeee",
		"li-9223372036854775808ei0e0:e", "d1:bi1e1:ai2ee", "i-0e", "01:a", "l" + strings.Repeat("l", 20),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rest, skipErr := skip(b, 0)
		v, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		out, err := Append(nil, v)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("Decode(%q) = %#v, written back as %q (%v)", b, v, out, err)
		}
		if skipErr != nil || len(rest) != 0 {
			t.Fatalf("Skip refused what Decode read (%v, %d bytes left): %q", skipErr, len(rest), b)
		}
		if _, ok := v.(map[string]any); ok {
			if rest, err := Dict(b, func(_, _ []byte) error { return nil }); err != nil || len(rest) != 0 {
				t.Fatalf("Dict refused what Decode read (%v): %q", err, b)
			}
		}
	})
}
