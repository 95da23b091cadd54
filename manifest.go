// Package opentracker holds go-opentracker's plugin manifest.
//
// The manifest is plugin.config in the I2P plugin format: the one source
// of truth for the name, version and console link that the binary, the
// console and the router read.
package opentracker

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strings"
)

//go:embed plugin.config
var pluginConfig []byte

// Manifest is the parsed plugin.config.
type Manifest struct {
	Name, Version, Description, Author, License string
	WebsiteURL                                  string
	// ConsoleLinkName is the console page's title and heading.
	ConsoleLinkName string
	// ConsoleLinkURL is where the console page lives in the router's
	// console: a path such as "/opentracker/", the prefix a router that
	// bundles the plugin mounts its console handler under. (The
	// standalone binary serves the console at the root of its own
	// listener.)
	ConsoleLinkURL     string
	ConsoleLinkTooltip string
	MinI2PVersion      string
	// All holds every key, including those without a field above.
	All map[string]string
}

// LoadManifest parses the embedded plugin.config.
func LoadManifest() (Manifest, error) { return ParseManifest(pluginConfig) }

// ParseManifest parses key=value lines; '#' starts a comment line.
func ParseManifest(b []byte) (Manifest, error) {
	m := Manifest{All: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		key, value, ok := strings.Cut(text, "=")
		if !ok {
			return Manifest{}, fmt.Errorf("plugin.config line %d: no '='", line)
		}
		m.All[strings.TrimSpace(key)] = strings.TrimSpace(value)
	}
	if err := sc.Err(); err != nil {
		return Manifest{}, fmt.Errorf("plugin.config: %w", err)
	}
	m.Name, m.Version, m.Description = m.All["name"], m.All["version"], m.All["description"]
	m.Author, m.License, m.WebsiteURL = m.All["author"], m.All["license"], m.All["websiteURL"]
	m.ConsoleLinkName, m.ConsoleLinkURL = m.All["consoleLinkName"], m.All["consoleLinkURL"]
	m.ConsoleLinkTooltip, m.MinI2PVersion = m.All["consoleLinkTooltip"], m.All["min-i2p-version"]
	for _, required := range []string{"name", "version", "consoleLinkName", "consoleLinkURL"} {
		if m.All[required] == "" {
			return Manifest{}, fmt.Errorf("plugin.config: %s is missing", required)
		}
	}
	if u := m.ConsoleLinkURL; !strings.HasPrefix(u, "/") || !strings.HasSuffix(u, "/") || strings.HasPrefix(u, "//") ||
		strings.ContainsAny(u, "?#:") {
		return Manifest{}, fmt.Errorf("plugin.config: consoleLinkURL %q must be a path in the router console, like /opentracker/", u)
	}
	return m, nil
}
