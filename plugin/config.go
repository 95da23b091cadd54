package plugin

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-i2p/go-opentracker/i2p"
	"github.com/go-i2p/go-opentracker/tracker/ratelimit"
)

// ConfigFileName is the configuration file in the data directory. It is
// YAML because go-i2p keeps its own configuration in YAML (through
// viper): an operator of the bundled tracker edits one kind of file.
const ConfigFileName = "go-opentracker.yaml"

// ErrConfig marks an error in the configuration file: one that can't be
// parsed, an unknown key, or a value out of range. A host tells it apart
// from a runtime failure with errors.Is (the standalone binary exits 78 on
// it, so systemd does not restart it in a loop).
var ErrConfig = errors.New("configuration error")

// Config is every setting, all optional: the zero file means defaults.
type Config struct {
	TrackerPort      uint16       `yaml:"tracker_port"`        // UDP tracker port on I2P; 6969
	Interval         int          `yaml:"interval"`            // announce interval, seconds; 1620
	PeerExpiry       int          `yaml:"peer_expiry"`         // seconds; 1.5 × interval when 0
	Lifetime         int          `yaml:"connection_lifetime"` // UDP connection-id lifetime, seconds; 1200
	MaxPeers         int          `yaml:"max_peers"`           // peers per reply (≤ 50); 50
	UDP              bool         `yaml:"udp"`                 // serve UDP announces; true
	HTTP             bool         `yaml:"http"`                // serve HTTP announces; true
	HTTPAddress      string       `yaml:"http_address"`        // an optional HTTP server tunnel's .b32.i2p or .i2p name; "" = none
	FullScrape       bool         `yaml:"full_scrape"`         // allow scrape without info_hash; false
	Bids             bool         `yaml:"bids"`                // bid announces and bid scrapes (docs/bids.md); false
	StrictDests      bool         `yaml:"strict_destinations"` // refuse HTTP announces from a peer neither a stream nor a tunnel verified; true
	LegacyLeaseSet   LeaseSetMode `yaml:"legacy_leaseset"`     // auto: LeaseSet2, the older LeaseSet when probes find LeaseSet2 unreachable (i2pd < 2.48); true, false fix the form
	TunnelQuantity   int          `yaml:"tunnel_quantity"`     // inbound and outbound tunnels; 3
	TunnelLength     int          `yaml:"tunnel_length"`       // hops; 3
	MaxSwarms        int          `yaml:"max_swarms"`          // 1,000,000
	MaxPeersPerSwarm int          `yaml:"max_peers_per_swarm"` // 100,000
	MaxSwarmsPerPeer int          `yaml:"max_swarms_per_peer"` // 2,000
	DestinationCache int          `yaml:"destination_cache"`   // Destinations kept for replies; 100,000
	// Abuse limits per sender (a Destination): requests a minute, 0 for
	// no limit, and the burst an idle sender may send at once.
	NewSwarmsPerMinute    int    `yaml:"new_swarms_per_minute"` // torrents one peer may create; 10
	NewSwarmBurst         int    `yaml:"new_swarm_burst"`       // 500
	UDPConnectsPerMinute  int    `yaml:"udp_connects_per_minute"`
	UDPConnectBurst       int    `yaml:"udp_connect_burst"`
	UDPAnnouncesPerMinute int    `yaml:"udp_announces_per_minute"`
	UDPAnnounceBurst      int    `yaml:"udp_announce_burst"`
	UDPScrapesPerMinute   int    `yaml:"udp_scrapes_per_minute"`
	UDPScrapeBurst        int    `yaml:"udp_scrape_burst"`
	HTTPRequestsPerMinute int    `yaml:"http_requests_per_minute"`
	HTTPRequestBurst      int    `yaml:"http_request_burst"`
	FlushSeconds          int    `yaml:"flush_seconds"`    // store write-behind interval; 1
	ConsolePassword       string `yaml:"console_password"` // required when the console is not on loopback
	I2CPUsername          string `yaml:"i2cp_username"`    // for a router whose I2CP asks for credentials (i2cp.auth)
	I2CPPassword          string `yaml:"i2cp_password"`

	// Limits on I2P streams (HTTP on the tracker's own address), zzzot's
	// i2ptunnel defaults; 0 turns a rate limit off.
	MaxStreams            int `yaml:"max_streams"`                // open at once; 80
	MaxStreamsPerPeer     int `yaml:"max_streams_per_peer"`       // open at once from one Destination; 16
	StreamsPerMinute      int `yaml:"max_conns_per_minute"`       // new streams per peer per minute; 20
	StreamsPerHour        int `yaml:"max_conns_per_hour"`         // new streams per peer per hour; 300
	StreamsTotalPerMinute int `yaml:"max_total_conns_per_minute"` // new streams from everyone per minute; 2000
}

// DefaultConfig is what a tracker runs with when nothing is configured.
func DefaultConfig() Config {
	c := Config{
		TrackerPort: 6969, Interval: 1620, Lifetime: 1200, MaxPeers: 50,
		UDP: true, HTTP: true, StrictDests: true, TunnelQuantity: 3, TunnelLength: 3,
		MaxSwarms: 1_000_000, MaxPeersPerSwarm: 100_000, MaxSwarmsPerPeer: 2_000, FlushSeconds: 1,
		DestinationCache: 100_000, NewSwarmsPerMinute: 10, NewSwarmBurst: 500,
		MaxStreams: 80, MaxStreamsPerPeer: 16, StreamsPerMinute: 20, StreamsPerHour: 300, StreamsTotalPerMinute: 2000,
	}
	for k, lim := range ratelimit.DefaultLimits() {
		perMinute, burst := c.limitPair(ratelimit.Kind(k))
		*perMinute, *burst = lim.PerMinute, lim.Burst
	}
	return c
}

// limitPair returns the settings of the request limit of kind k.
func (c *Config) limitPair(k ratelimit.Kind) (perMinute, burst *int) {
	switch k {
	case ratelimit.Connect:
		return &c.UDPConnectsPerMinute, &c.UDPConnectBurst
	case ratelimit.Announce:
		return &c.UDPAnnouncesPerMinute, &c.UDPAnnounceBurst
	case ratelimit.Scrape:
		return &c.UDPScrapesPerMinute, &c.UDPScrapeBurst
	default:
		return &c.HTTPRequestsPerMinute, &c.HTTPRequestBurst
	}
}

// RequestLimits are the per-sender request limits in c.
func (c Config) RequestLimits() [ratelimit.NumKinds]ratelimit.Limit {
	var out [ratelimit.NumKinds]ratelimit.Limit
	for k := range out {
		perMinute, burst := c.limitPair(ratelimit.Kind(k))
		out[k] = ratelimit.Limit{PerMinute: *perMinute, Burst: *burst}
	}
	return out
}

// SwarmCreations is the bound on new swarms per peer, as the tracker
// takes it (PerMinute -1: none).
func (c Config) SwarmCreations() ratelimit.Limit {
	if c.NewSwarmsPerMinute == 0 {
		return ratelimit.Limit{PerMinute: -1}
	}
	return ratelimit.Limit{PerMinute: c.NewSwarmsPerMinute, Burst: c.NewSwarmBurst}
}

// intLimit is the range a whole-number setting must be in.
type intLimit struct {
	key    string
	lo, hi int
}

// intLimits are the ranges of the whole-number settings, by their keys in
// the file (peer_expiry, whose range depends on the interval, is checked
// on its own).
var intLimits = []intLimit{
	{"tracker_port", 1, 65535},
	{"interval", 60, 86400},
	{"connection_lifetime", 60, 65535},
	{"max_peers", 0, 50},
	{"tunnel_quantity", 1, 16},
	{"tunnel_length", 0, 7},
	{"max_swarms", 1, 100_000_000},
	{"max_peers_per_swarm", 1, 10_000_000},
	{"max_swarms_per_peer", 1, 1_000_000},
	{"flush_seconds", 1, 60},
	{"destination_cache", 1_000, 100_000_000},
	{"new_swarms_per_minute", 0, 1_000_000},
	{"new_swarm_burst", 1, 1_000_000},
	{"max_streams", 1, 100_000},
	{"max_streams_per_peer", 1, 100_000},
	{"max_conns_per_minute", 0, 1_000_000},
	{"max_conns_per_hour", 0, 1_000_000},
	{"max_total_conns_per_minute", 0, 100_000_000},
}

// intRange is the range of the whole-number setting named key, from
// intLimits or the per-sender limits; ok is false for a key with none.
func intRange(key string) (lo, hi int, ok bool) {
	for _, l := range intLimits {
		if l.key == key {
			return l.lo, l.hi, true
		}
	}
	for _, l := range limitSettings {
		if l.key == key {
			return l.lo, l.hi, true
		}
	}
	return 0, 0, false
}

// Validate clamps nothing silently: out-of-range values are errors, one
// per key, each naming the key, the value and the range.
func (c Config) Validate() error {
	var errs []error
	for _, l := range intLimits {
		if v := c.intValue(l.key); v < int64(l.lo) || v > int64(l.hi) {
			errs = append(errs, fmt.Errorf("%s: %d: must be %d..%d", l.key, v, l.lo, l.hi))
		}
	}
	if c.PeerExpiry != 0 && (c.PeerExpiry < c.Interval || c.PeerExpiry > 4*86400) {
		errs = append(errs, fmt.Errorf("peer_expiry: %d: must be %d..%d (the interval to 4 days), or 0 for 1.5 × interval",
			c.PeerExpiry, c.Interval, 4*86400))
	}
	for _, l := range limitSettings {
		if v := *l.field(&c); v < l.lo || v > l.hi {
			errs = append(errs, fmt.Errorf("%s: %d: must be %d..%d", l.key, v, l.lo, l.hi))
		}
	}
	if err := checkHTTPAddress(c.HTTPAddress); err != nil {
		errs = append(errs, fmt.Errorf("http_address: %q: %w", c.HTTPAddress, err))
	}
	return errors.Join(errs...)
}

// Expiry is the peer expiry in force.
func (c Config) Expiry() time.Duration {
	if c.PeerExpiry > 0 {
		return time.Duration(c.PeerExpiry) * time.Second
	}
	return time.Duration(c.Interval) * time.Second * 3 / 2
}

// UDPAnnounceURL is the UDP announce URL on the tracker's own address
// (its .b32.i2p name).
func (c Config) UDPAnnounceURL(b32 string) string {
	return fmt.Sprintf("udp://%s:%d/", b32, c.TrackerPort)
}

// HTTPAnnounceURL is the HTTP announce URL on the tracker's own address
// (its .b32.i2p name), which the tracker serves over I2P streaming on its
// own session. The path is /announce, from which clients derive the
// scrape URL; zzzot's /a is answered too.
func (c Config) HTTPAnnounceURL(b32 string) string {
	return "http://" + b32 + "/announce"
}

// TunnelAnnounceURL is the HTTP announce URL on the router's HTTP server
// tunnel that an operator set up (http_address), or "" while none is set.
func (c Config) TunnelAnnounceURL() string {
	if c.HTTPAddress == "" {
		return ""
	}
	return "http://" + c.HTTPAddress + "/announce"
}

// checkHTTPAddress accepts what http_address may hold: nothing, a
// .b32.i2p address (52 characters, or a longer encrypted-LeaseSet one),
// or an I2P host name ending in .i2p (at most 67 characters, labels of
// letters, digits and inner hyphens).
func checkHTTPAddress(s string) error {
	if s == "" {
		return nil
	}
	const want = "want the HTTP server tunnel's host name, like <52 characters>.b32.i2p or tracker.i2p, without http:// or a path"
	h := strings.ToLower(s)
	if b, ok := strings.CutSuffix(h, i2p.B32Suffix); ok {
		switch {
		case len(b) == 52:
			if _, err := i2p.ParseB32(h); err == nil {
				return nil
			}
		case len(b) >= 56:
			if _, err := i2p.DecodeBase32(b); err == nil {
				return nil
			}
		}
		return errors.New("not a valid .b32.i2p address: " + want)
	}
	name, ok := strings.CutSuffix(h, ".i2p")
	if !ok || name == "" || len(h) > 67 {
		return errors.New(want)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New(want)
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return errors.New(want)
			}
		}
	}
	return nil
}

// checkOwnAddress refuses an http_address that is the tracker's own
// address own (its .b32.i2p name): that is no HTTP server tunnel, and the
// tracker serves HTTP there itself and shows its URL already. The error
// names the key and the value.
func (c Config) checkOwnAddress(own string) error {
	if own == "" || !strings.EqualFold(c.HTTPAddress, own) {
		return nil
	}
	return fmt.Errorf("http_address: %q: is the tracker's own address, where the tracker serves HTTP itself "+
		"(http://%s/announce, always shown); http_address names a separate HTTP server tunnel with keys of its own: "+
		"leave it empty for none", c.HTTPAddress, own)
}

// LoadConfig reads dir/go-opentracker.yaml over the defaults; a missing
// file means defaults. A file that does not parse or holds a bad value
// is a *ConfigError (which wraps ErrConfig); one that cannot be read is
// not.
func LoadConfig(dir string) (Config, error) {
	cfg := DefaultConfig()
	path := filepath.Join(dir, ConfigFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("read config: %w", err)
	}
	cfg, problems := fileConfig(b)
	if err := cfg.Validate(); err != nil {
		problems = append(problems, errorLines(err)...)
	}
	// The tracker's own address, where its address file records it (a
	// file that cannot be read is the identity's to report).
	if own, err := readAddressFile(dir); err == nil {
		if err := cfg.checkOwnAddress(own); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return cfg, &ConfigError{File: path, Problems: problems}
	}
	return cfg, nil
}

// SaveConfig makes dir/go-opentracker.yaml read as cfg, changing only
// what differs: a setting the file names keeps its line (and comment)
// with the new value, one it does not name is added at its end, and
// comments, blank lines, order and the other settings stay as they are.
// A setting put back to its default stays written, with the default
// value. A file that does not exist is created with the settings that
// differ from the defaults; one that does not parse, is not a mapping or
// holds a bad setting is left untouched and the error wraps ErrConfig.
// The file is replaced atomically, mode 0600 (it may hold the console
// password).
func SaveConfig(dir string, cfg Config) error {
	path := filepath.Join(dir, ConfigFileName)
	src, err := os.ReadFile(path)
	exists := err == nil
	if errors.Is(err, fs.ErrNotExist) {
		src, err = []byte(configHeader), nil
	}
	if err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	b, err := editConfig(src, cfg)
	if err != nil {
		return fmt.Errorf("save config: %w: %s: %w", ErrConfig, path, err)
	}
	if exists && bytes.Equal(b, src) {
		return nil
	}
	if err := writeFileAtomic(dir, ConfigFileName, b); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	return nil
}

// setting describes one console-editable setting.
type setting struct {
	key, label, help string
	kind             string // number, bool, text
	min, max         int64
	restart          bool
	get              func(*Config) string
	set              func(*Config, string) error
}

// intSetting is a whole-number setting, in the range intRange gives its
// key: the file and the console check one table.
func intSetting[T int | uint16](key, label, help string, restart bool, field func(*Config) *T) setting {
	l, h, _ := intRange(key)
	lo, hi := int64(l), int64(h)
	return setting{key: key, label: label, help: help, kind: "number", min: lo, max: hi, restart: restart,
		get: func(c *Config) string { return strconv.FormatInt(int64(*field(c)), 10) },
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n < lo || n > hi {
				return fmt.Errorf("must be a whole number from %d to %d", lo, hi)
			}
			*field(c) = T(n)
			return nil
		}}
}

func boolSetting(key, label, help string, restart bool, field func(*Config) *bool) setting {
	return setting{key: key, label: label, help: help, kind: "bool", restart: restart,
		get: func(c *Config) string { return strconv.FormatBool(*field(c)) },
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("must be true or false")
			}
			*field(c) = b
			return nil
		}}
}

// textSetting is a text setting; parse checks the trimmed value and
// returns it as it is kept.
func textSetting(key, label, help string, restart bool, parse func(string) (string, error), field func(*Config) *string) setting {
	return setting{key: key, label: label, help: help, kind: "text", restart: restart,
		get: func(c *Config) string { return *field(c) },
		set: func(c *Config, v string) error {
			v, err := parse(strings.TrimSpace(v))
			if err != nil {
				return err
			}
			*field(c) = v
			return nil
		}}
}

// parseHTTPAddress checks an http_address and keeps it in lower case
// (host names are case-blind; the URLs made of it then compare equal).
func parseHTTPAddress(s string) (string, error) {
	s = strings.ToLower(s)
	return s, checkHTTPAddress(s)
}

// settings lists what the console edits; restart marks those that only
// take effect after a restart.
var settings = append([]setting{
	intSetting("interval", "Announce interval (s)", "How often clients are told to announce.", false, func(c *Config) *int { return &c.Interval }),
	intSetting("max_peers", "Peers per reply", "Most peers one announce reply lists (50 at most keeps UDP replies in two tunnel messages).", false, func(c *Config) *int { return &c.MaxPeers }),
	textSetting("http_address", "HTTP server tunnel address", "Optional: the .b32.i2p address (or .i2p host name) of a router HTTP server tunnel "+
		"that points at the tracker's HTTP listener, with keys of its own. The tracker serves HTTP on its own address without one; "+
		"when set, http://<this>/announce is shown too. Empty: only the tracker's own HTTP URL is shown. "+
		"Not the tracker's own address, which is no tunnel and is refused.",
		false, parseHTTPAddress, func(c *Config) *string { return &c.HTTPAddress }),
	boolSetting("full_scrape", "Full scrape", "Answer /scrape without info_hash with every torrent.", false, func(c *Config) *bool { return &c.FullScrape }),
	boolSetting("bids", "Bids", "Take bids with announces, list the highest bidders first when asked, and answer /bids (docs/bids.md).", false, func(c *Config) *bool { return &c.Bids }),
	boolSetting("strict_destinations", "Strict destinations", "Refuse HTTP announces whose peer is not verified: "+
		"those that came neither over I2P streaming to the tracker's own address nor through an I2P server tunnel (a local client over TCP, "+
		"say, whose ip parameter would be trusted). Off, such announces may name any Destination in ip, at a bounded rate.", false, func(c *Config) *bool { return &c.StrictDests }),
	boolSetting("udp", "UDP announces", "Serve proposal-160 UDP announces.", false, func(c *Config) *bool { return &c.UDP }),
	boolSetting("http", "HTTP announces", "Serve HTTP announces.", false, func(c *Config) *bool { return &c.HTTP }),
	intSetting("tracker_port", "UDP tracker port", "The I2P port UDP announces go to (part of the UDP announce URL).", true, func(c *Config) *uint16 { return &c.TrackerPort }),
	intSetting("connection_lifetime", "UDP connection lifetime (s)", "How long a UDP connection id stays valid.", true, func(c *Config) *int { return &c.Lifetime }),
	intSetting("max_swarms", "Max torrents", "Torrents tracked at most.", true, func(c *Config) *int { return &c.MaxSwarms }),
	intSetting("destination_cache", "Destination cache", "Destinations kept to reply without a router lookup.", true,
		func(c *Config) *int { return &c.DestinationCache }),
	intSetting("new_swarms_per_minute", "New torrents per peer a minute", "Torrents one peer may create, sustained (0: no limit).", false,
		func(c *Config) *int { return &c.NewSwarmsPerMinute }),
	intSetting("new_swarm_burst", "New torrents per peer at once", "Torrents an idle peer may create at once.", false,
		func(c *Config) *int { return &c.NewSwarmBurst }),
	intSetting("max_streams", "Max open streams", "I2P streams (HTTP announces to the tracker's own address) open at once.", true,
		func(c *Config) *int { return &c.MaxStreams }),
	intSetting("max_streams_per_peer", "Max open streams per peer", "I2P streams one Destination may hold open at once; over it, HTTP 429.", true,
		func(c *Config) *int { return &c.MaxStreamsPerPeer }),
	intSetting("max_conns_per_minute", "New streams per peer a minute", "Streams one Destination may open a minute; over it, HTTP 429. 0: no limit.",
		true, func(c *Config) *int { return &c.StreamsPerMinute }),
	intSetting("max_conns_per_hour", "New streams per peer an hour", "Streams one Destination may open an hour. 0: no limit.",
		true, func(c *Config) *int { return &c.StreamsPerHour }),
	intSetting("max_total_conns_per_minute", "New streams a minute", "Streams all peers together may open a minute. 0: no limit.",
		true, func(c *Config) *int { return &c.StreamsTotalPerMinute }),
}, requestLimitSettings()...)

// limitSetting is one number of a per-sender request limit.
type limitSetting struct {
	key, label, help string
	lo, hi           int
	field            func(*Config) *int
}

// limitSettings are the per-sender request limits, all live.
var limitSettings = func() []limitSetting {
	var out []limitSetting
	for _, k := range []struct {
		kind       ratelimit.Kind
		key, label string
	}{
		{ratelimit.Connect, "udp_connect", "UDP connects"}, {ratelimit.Announce, "udp_announce", "UDP announces"},
		{ratelimit.Scrape, "udp_scrape", "UDP scrapes"}, {ratelimit.HTTP, "http_request", "HTTP requests"},
	} {
		out = append(out,
			limitSetting{k.key + "s_per_minute", k.label + " per sender a minute", "Sustained rate one sender may reach (0: no limit).", 0, 1_000_000,
				func(c *Config) *int { p, _ := c.limitPair(k.kind); return p }},
			limitSetting{k.key + "_burst", k.label + " per sender at once", "Requests an idle sender may send at once.", 1, 1_000_000,
				func(c *Config) *int { _, b := c.limitPair(k.kind); return b }})
	}
	return out
}()

// requestLimitSettings are limitSettings as console settings.
func requestLimitSettings() []setting {
	out := make([]setting, len(limitSettings))
	for i, s := range limitSettings {
		out[i] = intSetting(s.key, s.label, s.help, false, s.field)
	}
	return out
}

// findSetting returns the console setting named key.
func findSetting(key string) (setting, bool) {
	for _, s := range settings {
		if s.key == key {
			return s, true
		}
	}
	return setting{}, false
}
