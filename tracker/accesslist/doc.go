// Package accesslist decides, from files in the data directory, which
// torrents and Destinations the tracker serves.
//
// Three files, each optional, one entry a line ('#' starts a comment):
//
//	allowed_torrents.txt      info hashes (40 hex digits); when present,
//	                          only these torrents are tracked
//	denied_torrents.txt       info hashes never tracked
//	denied_destinations.txt   Destinations (.b32.i2p addresses, or their
//	                          52 base-32 characters) whose announces are
//	                          refused
//
// Watch polls the files' size and modification time and reloads what
// changed, so an edit applies without a restart; a file that does not
// parse keeps the lists in force and is reported. Files are bounded
// (MaxFileSize) and so is every line.
package accesslist
