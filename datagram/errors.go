package datagram

import "errors"

// Reasons a datagram is rejected.
var (
	ErrTooSmall     = errors.New("datagram too small")
	ErrTooLarge     = errors.New("datagram too large")
	ErrBadVersion   = errors.New("datagram bad version")
	ErrBadFlags     = errors.New("datagram bad flags")
	ErrBadOptions   = errors.New("datagram bad options")
	ErrBadSender    = errors.New("datagram bad sender")
	ErrBadOffline   = errors.New("datagram bad offline signature")
	ErrBadSignature = errors.New("datagram bad signature")
)
