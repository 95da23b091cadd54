// Package webui serves the public pages of the tracker on its HTTP
// listener (the one a router's HTTP server tunnel exposes to I2P users):
// a help page with the announce URLs, the current totals, and how to add
// the tracker to i2psnark and BiglyBT.
package webui
