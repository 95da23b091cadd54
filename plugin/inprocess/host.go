// Package inprocess is a plugin.Host for a router that runs the tracker.
//
// The router runs it in its own process: the I2CP connection is a net.Pipe whose other end
// the router's I2CP server serves, the console sits under the router
// console's prefix with an on/off toggle, and the toggle's state is kept
// in the data directory.
package inprocess

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	opentracker "github.com/go-i2p/go-opentracker"
	"github.com/go-i2p/go-opentracker/plugin"
)

// Config is what the router supplies.
type Config struct {
	// DataDir holds the tracker's identity, store, config and the
	// enabled file.
	DataDir string
	// ServeI2CP serves the router's end of one I2CP connection until
	// either side closes it; it may return at once or block. It is
	// called on a goroutine of its own for every connection.
	ServeI2CP func(net.Conn)
	// HandleConsole registers a handler on the router's console
	// (http.ServeMux.Handle fits); called once, by New, with Prefix.
	HandleConsole func(pattern string, h http.Handler)
	// MountTracker receives the HTTP tracker's handler, for the router's
	// HTTP server tunnel; called once, on the first start.
	MountTracker func(http.Handler)
	// Prefix is the console's path in the router console; default the
	// manifest's consoleLinkURL ("/opentracker/").
	Prefix string
	// Options go to plugin.New.
	Options plugin.Options
}

// enabledFile is the toggle's state in the data directory.
const enabledFile = "enabled"

// Host runs one tracker inside a router. It implements plugin.Host.
type Host struct {
	cfg     Config
	plugin  *plugin.Plugin
	console atomic.Pointer[http.Handler] // the plugin's console, once mounted
	conns   sync.WaitGroup               // ServeI2CP calls in flight

	mu      sync.Mutex // orders start and stop
	running bool
}

// New makes the Host and its plugin and mounts the console (with the
// toggle) under cfg.Prefix. The tracker is not started: call Resume.
func New(cfg Config) (*Host, error) {
	if cfg.DataDir == "" || cfg.ServeI2CP == nil || cfg.HandleConsole == nil || cfg.MountTracker == nil {
		return nil, errors.New("inprocess: DataDir, ServeI2CP, HandleConsole and MountTracker are required")
	}
	if cfg.Prefix == "" {
		m, err := opentracker.LoadManifest()
		if err != nil {
			return nil, fmt.Errorf("inprocess: manifest: %w", err)
		}
		cfg.Prefix = m.ConsoleLinkURL
	}
	if !strings.HasPrefix(cfg.Prefix, "/") || !strings.HasSuffix(cfg.Prefix, "/") {
		return nil, fmt.Errorf("inprocess: prefix %q must start and end with /", cfg.Prefix)
	}
	if cfg.Options.Logger == nil {
		cfg.Options.Logger = slog.Default()
	}
	h := &Host{cfg: cfg}
	p, err := plugin.New(h, cfg.Options)
	if err != nil {
		return nil, fmt.Errorf("inprocess: %w", err)
	}
	h.plugin = p
	cfg.HandleConsole(cfg.Prefix, http.StripPrefix(strings.TrimSuffix(cfg.Prefix, "/"), h.consoleHandler()))
	return h, nil
}

// DialI2CP gives the plugin one end of a net.Pipe and the router's I2CP
// server the other.
func (h *Host) DialI2CP(ctx context.Context) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("inprocess: dial: %w", err)
	}
	client, router := net.Pipe()
	h.conns.Add(1)
	go func() {
		defer h.conns.Done()
		h.cfg.ServeI2CP(router)
	}()
	return client, nil
}

// DataDir is the tracker's data directory.
func (h *Host) DataDir() string { return h.cfg.DataDir }

// MountTracker hands the tracker's handler to the router.
func (h *Host) MountTracker(hd http.Handler) { h.cfg.MountTracker(hd) }

// MountConsole keeps the plugin's console, which the Host's own console
// handler serves while the tracker runs.
func (h *Host) MountConsole(hd http.Handler) { h.console.Store(&hd) }

// Plugin is the tracker the Host runs.
func (h *Host) Plugin() *plugin.Plugin { return h.plugin }

// Enabled reports whether the tracker runs.
func (h *Host) Enabled() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.running
}

// Resume starts the tracker if the enabled file says so; a router calls
// it once its I2CP server is up. A data directory without the file
// leaves the tracker off.
func (h *Host) Resume(ctx context.Context) error {
	b, err := os.ReadFile(filepath.Join(h.cfg.DataDir, enabledFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("inprocess: resume: %w", err)
	}
	if strings.TrimSpace(string(b)) != "true" {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.start(ctx)
}

// SetEnabled starts or stops the tracker and records the choice in the
// data directory, for Resume after a router restart. The console's
// toggle calls it.
func (h *Host) SetEnabled(ctx context.Context, on bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if on {
		if err := h.start(ctx); err != nil {
			return err
		}
		return h.record(true)
	}
	// The choice is recorded first: a stop that fails part way still
	// leaves the tracker off after a restart, as the operator asked.
	if err := h.record(false); err != nil {
		return err
	}
	return h.stop(ctx)
}

// Close stops the tracker for a router shutdown and leaves the recorded
// choice alone; it waits, within ctx, for the router's side of the I2CP
// connections to finish.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	err := h.stop(ctx)
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.conns.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return errors.Join(err, fmt.Errorf("inprocess: close: I2CP connections still served: %w", ctx.Err()))
	}
	return err
}

func (h *Host) start(ctx context.Context) error {
	if h.running {
		return nil
	}
	if err := h.plugin.Start(ctx); err != nil {
		return fmt.Errorf("inprocess: start: %w", err)
	}
	h.running = true
	return nil
}

func (h *Host) stop(ctx context.Context) error {
	if !h.running {
		return nil
	}
	h.running = false
	if err := h.plugin.Stop(ctx); err != nil {
		return fmt.Errorf("inprocess: stop: %w", err)
	}
	return nil
}

// record writes the enabled file: a temporary file, synced, renamed
// over the old one, so a crash leaves one state or the other.
func (h *Host) record(on bool) error {
	if err := os.MkdirAll(h.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("inprocess: record: %w", err)
	}
	f, err := os.CreateTemp(h.cfg.DataDir, enabledFile+".*")
	if err != nil {
		return fmt.Errorf("inprocess: record: %w", err)
	}
	_, err = fmt.Fprintf(f, "%t\n", on)
	err = errors.Join(err, f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(h.cfg.DataDir, enabledFile))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("inprocess: record: %w", err)
	}
	return nil
}
