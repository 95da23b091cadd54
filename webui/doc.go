// Package webui serves the tracker's public pages.
//
// They are served on its HTTP listener: a help
// page with the announce URLs, the current totals, and how to add
// the tracker to i2psnark and BiglyBT.
package webui
