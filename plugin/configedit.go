package plugin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// configHeader opens a configuration file the tracker creates.
const configHeader = "# go-opentracker settings. Edit here or on the console; the console changes\n" +
	"# only the lines of the settings it saves and adds the ones it sets anew.\n"

// editConfig returns the configuration file src changed so that it reads
// as want: each setting whose value in src differs from want is changed
// where it is written, and one that src does not name is added at the
// end. Everything else (comments, blank lines, key order, the settings
// left alone) stays byte for byte. A value that is one scalar on its
// key's line is replaced in the text; any other (a block scalar, a flow
// mapping) is changed in the parsed node tree, and then the whole file is
// written from the tree, which keeps comments and order but not the
// layout. src that does not parse, is not a mapping or holds a bad
// setting is refused; so is an edit whose result would not read as want.
func editConfig(src []byte, want Config) ([]byte, error) {
	doc, err := oneDocument(src)
	if err != nil {
		return nil, err
	}
	have, problems := fileConfig(src)
	if len(problems) > 0 {
		return nil, fmt.Errorf("the file has errors to fix first: %s", strings.Join(problems, "; "))
	}
	root, err := rootMapping(doc)
	if err != nil {
		return nil, err
	}
	changed := changedKeys(have, want)
	if len(changed) == 0 {
		return src, nil
	}
	if out, ok := editText(src, root, want, changed); ok && readsAs(out, want) {
		return out, nil
	}
	out, err := editTree(doc, root, want, changed)
	if err != nil {
		return nil, err
	}
	if !readsAs(out, want) {
		return nil, errors.New("the file is written in a form the console cannot change: edit it by hand")
	}
	return out, nil
}

// readsAs tells whether the file b gives want, with no problem.
func readsAs(b []byte, want Config) bool {
	got, problems := fileConfig(b)
	return len(problems) == 0 && got == want
}

// oneDocument parses src, which must hold one YAML document at most: a
// setting after a second --- would be read by no one.
func oneDocument(src []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc, next yaml.Node
	err := dec.Decode(&doc)
	if err == nil {
		if err = dec.Decode(&next); err == nil {
			return nil, fmt.Errorf("line %d: a second document (after ---): the settings are one document", next.Line)
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return &doc, nil
}

// rootMapping is the mapping at the top of doc; an empty document (one
// of comments only, or null) gets an empty one.
func rootMapping(doc *yaml.Node) (*yaml.Node, error) {
	if len(doc.Content) == 0 {
		root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if doc.Kind != yaml.DocumentNode {
			*doc = yaml.Node{Kind: yaml.DocumentNode, HeadComment: doc.HeadComment, FootComment: doc.FootComment}
		}
		doc.Content = []*yaml.Node{root}
		return root, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		// "---" alone, or ~: no settings, as the loader reads it.
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", HeadComment: root.HeadComment, LineComment: root.LineComment,
			FootComment: root.FootComment}
		doc.Content[0] = m
		return m, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: want key: value lines, one setting each", root.Line)
	}
	return root, nil
}

// changedKeys are the keys, in Config's order, whose values differ
// between have and want.
func changedKeys(have, want Config) []string {
	var keys []string
	h, w := reflect.ValueOf(have), reflect.ValueOf(want)
	t := h.Type()
	for i := range t.NumField() {
		if key := yamlKey(t.Field(i)); key != "" && !h.Field(i).Equal(w.Field(i)) {
			keys = append(keys, key)
		}
	}
	return keys
}

// valueNode is the value of key in the mapping m, or nil. A key set
// twice was refused before (fileConfig), so the first is the only one.
func valueNode(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Kind == yaml.ScalarNode && m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// scalarText is cfg's setting key as a one-line YAML scalar, quoted
// where a plain one would read otherwise; ok is false when it takes more
// than a line.
func scalarText(cfg *Config, key string) (string, bool) {
	b, err := yaml.Marshal(reflect.ValueOf(cfg).Elem().Field(configFields()[key]).Interface())
	if err != nil {
		return "", false
	}
	s := strings.TrimSuffix(string(b), "\n")
	return s, s != "" && !strings.ContainsAny(s, "\r\n")
}

// editText makes the changes in the text of src: a value replaced where
// it stands, a new key appended at the root mapping's indentation. ok is
// false when a value is not one scalar on one line, or the mapping is in
// flow style ({...}).
func editText(src []byte, root *yaml.Node, want Config, changed []string) ([]byte, bool) {
	if root.Style&yaml.FlowStyle != 0 {
		return nil, false
	}
	type splice struct {
		line, from, to int // 0-based line, byte span in it
		text           string
	}
	lines := bytes.SplitAfter(src, []byte("\n"))
	var splices []splice
	var added strings.Builder
	indent := ""
	if len(root.Content) > 0 {
		indent = strings.Repeat(" ", max(root.Content[0].Column-1, 0))
	}
	for _, key := range changed {
		text, ok := scalarText(&want, key)
		if !ok {
			return nil, false
		}
		v := valueNode(root, key)
		if v == nil {
			fmt.Fprintf(&added, "%s%s: %s\n", indent, key, text)
			continue
		}
		from, to, ok := scalarSpan(lines, v)
		if !ok {
			return nil, false
		}
		splices = append(splices, splice{v.Line - 1, from, to, text})
	}
	var out bytes.Buffer
	for i, line := range lines {
		for _, s := range splices {
			if s.line == i {
				line = append(append(append([]byte{}, line[:s.from]...), s.text...), line[s.to:]...)
			}
		}
		out.Write(line)
	}
	if added.Len() > 0 {
		if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
			out.WriteByte('\n')
		}
		out.WriteString(added.String())
	}
	return out.Bytes(), true
}

// scalarSpan is where the value v stands in its line, in bytes: ok only
// for a plain or quoted scalar, with no tag or anchor, that ends on the
// line it starts on and reads back as v.
func scalarSpan(lines [][]byte, v *yaml.Node) (from, to int, ok bool) {
	if v.Kind != yaml.ScalarNode || v.Anchor != "" || v.Style&(yaml.TaggedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 ||
		v.ShortTag() == "!!null" || v.Line < 1 || v.Line > len(lines) || v.Column < 1 {
		return 0, 0, false
	}
	line := lines[v.Line-1]
	// Column counts characters; find the byte it names.
	for n := 1; n < v.Column; n++ {
		if from >= len(line) {
			return 0, 0, false
		}
		_, size := utf8.DecodeRune(line[from:])
		from += size
	}
	rest := line[from:]
	switch {
	case v.Style&yaml.DoubleQuotedStyle != 0:
		to = doubleQuotedEnd(rest)
	case v.Style&yaml.SingleQuotedStyle != 0:
		to = singleQuotedEnd(rest)
	default:
		to = plainEnd(rest)
	}
	if to <= 0 {
		return 0, 0, false
	}
	var back yaml.Node
	if err := yaml.Unmarshal(rest[:to], &back); err != nil || len(back.Content) != 1 ||
		back.Content[0].Kind != yaml.ScalarNode || back.Content[0].Value != v.Value {
		return 0, 0, false
	}
	return from, from + to, true
}

// doubleQuotedEnd is the length of the double-quoted scalar s starts
// with, or 0 when it does not end on this line.
func doubleQuotedEnd(s []byte) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		case '\n', '\r':
			return 0
		}
	}
	return 0
}

// singleQuotedEnd is the length of the single-quoted scalar s starts
// with (” is a quote inside it), or 0 when it does not end on this line.
func singleQuotedEnd(s []byte) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\'':
			if i+1 < len(s) && s[i+1] == '\'' {
				i++
				continue
			}
			return i + 1
		case '\n', '\r':
			return 0
		}
	}
	return 0
}

// plainEnd is the length of the plain scalar s starts with: up to a
// comment or the end of the line, less the blanks before them. Whether
// it goes on on the next line, the caller checks by reading it back.
func plainEnd(s []byte) int {
	end := len(s)
	if i := bytes.IndexAny(s, "\r\n"); i >= 0 {
		end = i
	}
	for i := 1; i < end; i++ {
		if s[i] == '#' && (s[i-1] == ' ' || s[i-1] == '\t') {
			end = i
			break
		}
	}
	return len(bytes.TrimRight(s[:end], " \t"))
}

// editTree makes the changes in the node tree and writes the file from
// it: comments and key order stay, the layout is yaml's.
func editTree(doc, root *yaml.Node, want Config, changed []string) ([]byte, error) {
	for _, key := range changed {
		var n yaml.Node
		if err := n.Encode(reflect.ValueOf(want).Field(configFields()[key]).Interface()); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		if v := valueNode(root, key); v != nil {
			n.HeadComment, n.LineComment, n.FootComment = v.HeadComment, v.LineComment, v.FootComment
			*v = n
			continue
		}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, &n)
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return out.Bytes(), nil
}

// fileConfig is the configuration the file b gives over the defaults, as
// the tracker keeps it, and what is wrong with it key by key (Validate
// checks the rest).
func fileConfig(b []byte) (Config, []string) {
	cfg := DefaultConfig()
	problems := decodeConfig(b, &cfg)
	cfg.HTTPAddress = strings.ToLower(strings.TrimSpace(cfg.HTTPAddress))
	return cfg, problems
}
