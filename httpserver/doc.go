// Package httpserver serves HTTP/1.1 with a fast path for plain requests.
//
// A Server parses GET and HEAD heads in place and has its Responder
// answer them; on Linux a connection whose whole request arrives at once
// costs four system calls and no goroutine. Whatever the fast path does
// not take — other methods, bodies, malformed or overlong heads, paths
// the Responder leaves — goes, with the bytes already read, to an
// http.Server over the Server's Handler, so every request gets the
// answer net/http would give. The package knows nothing of what it
// serves: the Responder decides which requests are its own.
//
// Every path has deadlines for reading a head, a whole request and
// writing a reply, and for idling between requests. Connections held
// beyond the accept loop are bounded in total and, if asked, per peer;
// what goes over a bound is closed and counted (Stats).
package httpserver
