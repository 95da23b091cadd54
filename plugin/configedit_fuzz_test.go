package plugin

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzEditConfig: editConfig takes what an operator wrote. It never
// panics, refuses what it cannot edit, and otherwise returns a file that
// reads as the settings asked for. The change is one setting (picked by
// key, given as YAML text) over what the file says.
func FuzzEditConfig(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "config", "*.yaml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for i, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for j, v := range []string{"900", "false", "tracker.i2p", "'it''s'", "auto", "\"a\\tb\"", "\"two\\nlines\"", "0"} {
			f.Add(src, uint8(i+j), v)
		}
	}
	keys := reflect.TypeFor[Config]()
	f.Fuzz(func(t *testing.T, src []byte, field uint8, value string) {
		want, problems := fileConfig(src)
		if len(problems) > 0 {
			if _, err := editConfig(src, want); err == nil {
				t.Fatalf("a file with problems %q edited", problems)
			}
			return
		}
		i := int(field) % keys.NumField()
		key := yamlKey(keys.Field(i))
		var v yaml.Node
		if yaml.Unmarshal([]byte(value), &v) != nil || len(v.Content) != 1 ||
			decodeField(key, v.Content[0], reflect.ValueOf(&want).Elem().Field(i)) != "" {
			return
		}
		out, err := editConfig(src, want)
		if err != nil {
			return
		}
		got, problems := fileConfig(out)
		if len(problems) > 0 || got != want {
			t.Fatalf("%s: %s over\n%s\ngave\n%s\nwhich reads as %+v, %q", key, strconv.Quote(value), src, out, got, problems)
		}
	})
}
