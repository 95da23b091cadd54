// Package loadgen is the workload and measurement core of otload.
//
// otload is the tracker load tool. This core is transport-agnostic: a
// Workload describes N virtual clients with stable peer ids and M torrents
// of Zipf-distributed popularity; Streams turn it into per-worker request
// sequences (a connect sweep, a populate sweep in which every (client,
// torrent) pair announces "started" once, and a steady mix of started,
// none, completed and stopped announces and scrapes); an Engine drives
// them through a transport at a target rate or as fast as a bounded
// in-flight window allows, matches replies by transaction id, times
// requests out, and measures answered/s, loss and latency percentiles.
// Proc samples a process's CPU time and memory from /proc so a Report can
// state announces per tracker CPU-second and bytes per peer.
//
// Datagram transports (BEP 15 over UDP, or over I2P datagrams through an
// I2CP router) send with an AsyncConn and hand every reply to
// Engine.Deliver; request/response transports (HTTP) implement SyncConn.
package loadgen
