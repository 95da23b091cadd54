package plugin

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LeaseSetMode is the legacy_leaseset setting: which form of LeaseSet
// the tracker publishes. Auto, the zero value, publishes a LeaseSet2
// and republishes the older LeaseSet by itself when no probe reaches the
// tracker under the LeaseSet2 (old i2pd); true and false fix the form.
type LeaseSetMode int8

// The legacy_leaseset values.
const (
	LeaseSetAuto   LeaseSetMode = iota // "auto"
	LeaseSetLegacy                     // true: the older LeaseSet, for i2pd older than 2.48
	LeaseSetV2                         // false: a LeaseSet2 only
)

func (m LeaseSetMode) String() string {
	switch m {
	case LeaseSetLegacy:
		return "true"
	case LeaseSetV2:
		return "false"
	}
	return "auto"
}

// ParseLeaseSetMode reads "auto" or a boolean.
func ParseLeaseSetMode(s string) (LeaseSetMode, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "auto") || s == "" {
		return LeaseSetAuto, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return LeaseSetAuto, fmt.Errorf("legacy_leaseset: %q: must be auto, true or false", s)
	}
	if b {
		return LeaseSetLegacy, nil
	}
	return LeaseSetV2, nil
}

// UnmarshalYAML takes auto, true or false.
func (m *LeaseSetMode) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("legacy_leaseset: line %d: must be auto, true or false", n.Line)
	}
	v, err := ParseLeaseSetMode(n.Value)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// MarshalYAML writes auto as a string and the overrides as booleans.
func (m LeaseSetMode) MarshalYAML() (any, error) {
	switch m {
	case LeaseSetLegacy:
		return true, nil
	case LeaseSetV2:
		return false, nil
	}
	return "auto", nil
}
