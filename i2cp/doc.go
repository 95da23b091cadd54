// Package i2cp speaks I2CP, the protocol between an I2P client and its router.
//
// It holds the framing, every message the tracker exchanges, the gzip
// payload envelope that carries I2P ports and protocol numbers, and
// LeaseSets (LeaseSet2 and the older form). A Session connects, creates a
// session for an identity, answers LeaseSet requests, sends and receives
// datagrams (stored, or compressed when that is asked for and pays),
// dispatches them by protocol and port, follows MessageStatus reports when
// reliability is asked for, looks up Destinations, keeps the link alive
// and reconnects with backoff.
//
// The Session's files each hold one job: session.go the lifecycle,
// reader.go the read loop, writer.go the link and the writer, send.go and
// outbox.go the sends, dispatch.go the handler table, lookup.go lookups,
// status.go delivery tracking.
//
// Subpackage i2cptest plays the router's side for tests, benchmarks, the
// load tool and the demo.
package i2cp

// ProtocolByte opens every I2CP connection.
const ProtocolByte = 0x2a

// ProtocolVersion is the I2CP API version this client speaks.
const ProtocolVersion = "0.9.67"

// Message types.
const (
	TypeCreateSession           = 1
	TypeReconfigureSession      = 2
	TypeDestroySession          = 3
	TypeCreateLeaseSet          = 4
	TypeSendMessage             = 5
	TypeSessionStatus           = 20
	TypeRequestLeaseSet         = 21
	TypeMessageStatus           = 22
	TypeDisconnect              = 30
	TypeMessagePayload          = 31
	TypeGetDate                 = 32
	TypeSetDate                 = 33
	TypeSendMessageExpires      = 36
	TypeRequestVariableLeaseSet = 37
	TypeHostLookup              = 38
	TypeHostReply               = 39
	TypeCreateLeaseSet2         = 41
)

// SessionStatus values.
const (
	StatusDestroyed = 0
	StatusCreated   = 1
	StatusUpdated   = 2
	StatusInvalid   = 3
	StatusRefused   = 4
	StatusHost      = 5
)
