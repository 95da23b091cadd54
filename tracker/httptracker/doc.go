// Package httptracker serves HTTP announces and scrapes the way the I2P
// BitTorrent guide specifies them: the peer is an I2P Destination (the ip
// parameter, or the X-I2P-Dest* headers an I2P server tunnel adds, which
// win), compact replies list 32-byte destination hashes, non-compact ones
// Base64 Destinations, and requests that came through an inproxy from the
// clearnet are refused.
package httptracker
