package plugin

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ConfigError is what is wrong with a configuration file: one problem a
// line, each naming the key, the value and what it must be. It wraps
// ErrConfig.
type ConfigError struct {
	File     string
	Problems []string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrConfig, e.File, strings.Join(e.Problems, "\n"+e.File+": "))
}

// Is makes errors.Is(err, ErrConfig) true.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

// errorLines splits an errors.Join into its errors' texts.
func errorLines(err error) []string {
	var j interface{ Unwrap() []error }
	if !errors.As(err, &j) {
		return []string{err.Error()}
	}
	var lines []string
	for _, e := range j.Unwrap() {
		lines = append(lines, errorLines(e)...)
	}
	return lines
}

// configFields maps each key of the file to its field in Config.
func configFields() map[string]int {
	t := reflect.TypeFor[Config]()
	fields := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		if key := yamlKey(t.Field(i)); key != "" {
			fields[key] = i
		}
	}
	return fields
}

// yamlKey is the key of the Config field f in the file ("" for none).
func yamlKey(f reflect.StructField) string {
	key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if key == "-" {
		return ""
	}
	return key
}

// intValue is the whole-number setting named key (0 for another key).
func (c *Config) intValue(key string) int64 {
	i, ok := configFields()[key]
	if !ok {
		return 0
	}
	f := reflect.ValueOf(c).Elem().Field(i)
	if f.CanInt() {
		return f.Int()
	}
	if f.CanUint() {
		return int64(f.Uint())
	}
	return 0
}

// decodeConfig sets cfg from the YAML in b, key by key, and returns what
// is wrong, one problem per key: unknown keys (with the nearest known
// one), keys set twice, values of the wrong kind or out of range (which
// leave the default in place). Validate checks what depends on more than
// one key.
func decodeConfig(b []byte, cfg *Config) []string {
	doc, err := oneDocument(b)
	if err != nil {
		return []string{err.Error()}
	}
	if len(doc.Content) == 0 {
		return nil // empty, or only comments
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return []string{fmt.Sprintf("line %d: want key: value lines, one setting each", root.Line)}
	}
	fields := configFields()
	seen := make(map[string]int)
	var problems []string
	dst := reflect.ValueOf(cfg).Elem()
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		idx, known := fields[key]
		switch line, twice := seen[key]; {
		case !known:
			problems = append(problems, unknownKey(key, k.Line, fields))
		case twice:
			problems = append(problems, fmt.Sprintf("%s: set twice (lines %d and %d)", key, line, k.Line))
		default:
			seen[key] = k.Line
			if p := decodeField(key, v, dst.Field(idx)); p != "" {
				problems = append(problems, fmt.Sprintf("%s (line %d)", p, v.Line))
			}
		}
	}
	return problems
}

// decodeField sets f from v, or says why not.
func decodeField(key string, v *yaml.Node, f reflect.Value) string {
	scalar := v.Kind == yaml.ScalarNode
	if u, ok := f.Addr().Interface().(yaml.Unmarshaler); ok {
		// A type that reads itself names the key and the value in its
		// errors, or is given them here.
		if err := u.UnmarshalYAML(v); err != nil {
			msg := strings.TrimPrefix(err.Error(), "yaml: ")
			if !strings.HasPrefix(msg, key+":") {
				msg = fmt.Sprintf("%s: %s: %s", key, shown(v), msg)
			}
			return msg
		}
		return ""
	}
	switch {
	case f.CanInt() || f.CanUint():
		return decodeInt(key, v, f)
	case f.Kind() == reflect.Bool:
		var b bool
		if !scalar || v.Decode(&b) != nil {
			return fmt.Sprintf("%s: %s: must be true or false", key, shown(v))
		}
		f.SetBool(b)
	case f.Kind() == reflect.String:
		var s string
		if !scalar || v.Decode(&s) != nil {
			return fmt.Sprintf("%s: %s: must be one value (text)", key, shown(v))
		}
		f.SetString(s)
	default:
		if err := v.Decode(f.Addr().Interface()); err != nil {
			return fmt.Sprintf("%s: %s: %s", key, shown(v), strings.TrimPrefix(err.Error(), "yaml: "))
		}
	}
	return ""
}

// decodeInt sets the whole-number field f from v, checking its range.
func decodeInt(key string, v *yaml.Node, f reflect.Value) string {
	l, h, limited := intRange(key)
	lo, hi := int64(l), int64(h)
	want := "a whole number"
	if limited {
		want = fmt.Sprintf("a whole number %d..%d", lo, hi)
	}
	var n int64
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || v.Decode(&n) != nil {
		return fmt.Sprintf("%s: %s: must be %s", key, shown(v), want)
	}
	overflows := f.CanInt() && f.OverflowInt(n) || f.CanUint() && (n < 0 || f.OverflowUint(uint64(n)))
	switch {
	case limited && (n < lo || n > hi):
		return fmt.Sprintf("%s: %d: must be %d..%d", key, n, lo, hi)
	case overflows:
		return fmt.Sprintf("%s: %d: out of range", key, n)
	case f.CanInt():
		f.SetInt(n)
	default:
		f.SetUint(uint64(n))
	}
	return ""
}

// shown is how a value appears in a problem: a scalar as written, a list
// or map by its kind.
func shown(v *yaml.Node) string {
	switch v.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a map"
	}
	if v.Value == "" || strings.ContainsAny(v.Value, " \t") {
		return fmt.Sprintf("%q", v.Value)
	}
	return v.Value
}

// unknownKey says a key is not a setting, and which one it may mean.
func unknownKey(key string, line int, fields map[string]int) string {
	best, dist := "", 0
	for k := range fields {
		if d := editDistance(strings.ToLower(key), k); best == "" || d < dist || d == dist && k < best {
			best, dist = k, d
		}
	}
	msg := fmt.Sprintf("%s: unknown key (line %d)", key, line)
	if best != "" && dist <= max(2, len(best)/3) {
		msg += fmt.Sprintf("; did you mean %s?", best)
	}
	return msg
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
