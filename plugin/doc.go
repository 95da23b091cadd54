// Package plugin assembles the tracker an operator runs.
//
// Start creates or loads the identity, opens the store and restores the
// swarms, attaches to the router's session layer through the Host,
// registers the UDP handlers, serves the HTTP tracker and the public
// pages, and mounts the console. Stop flushes and closes everything;
// Start after Stop works.
//
// # The Host seam
//
// The plugin imports no router. Whoever hosts it — the standalone binary,
// or a Go I2P router such as go-i2p — implements Host: how to open an I2CP
// connection to the router's session layer, the data directory, and where
// to mount the tracker's HTTP handler and the console. Example_router
// (example_test.go) is a router's host, compiled and run with the tests:
// the console under the manifest's consoleLinkURL in the router's console
// (where plugin.config's consoleLinkName links to it; its pages link
// relatively, so they work under that prefix), the tracker handler on
// what the router's HTTP server tunnel points at, and the i2cptest
// simulator as the router's I2CP port. A router in the same process can
// hand the plugin one end of a net.Pipe its I2CP server serves instead
// of a TCP connection: the protocol is the same.
//
// HTTP announces need no tunnel: each run serves the same routes over I2P
// streaming on its own session (stream.go), so the HTTP announce URL is on
// the tracker's own address beside the UDP one, and the stream's verified
// Destination is the peer. An HTTP server tunnel an operator prefers has
// keys of its own; its address goes into the http_address setting, and
// its URL is shown too.
//
// Options.Config is the configuration of a first start: written as the
// config file in the data directory, which from then on the operator and
// the console edit; later starts read the file.
//
// The plugin calls MountTracker and MountConsole once, on its first
// Start. The handlers are the plugin's for its whole life: they serve the
// current run and answer 503 while it is stopped, so a host registers
// them on an http.ServeMux once and Stop/Start cycles register nothing
// again.
//
// The tracker handler is any http.Handler server's to serve; a host that
// serves it with NewTrackerServer (as the standalone binary does on its
// tracker listener) has announces and scrapes answered without net/http.
package plugin
