package tracker

// ClientError is a refusal meant for the client: Msg is the text a
// transport sends back (in a BEP 15 error reply or a bencoded failure
// reason) and Reason what the refusal is counted under. Transports pick
// it out of an error with errors.AsType; any other error is the
// tracker's own and its text is not sent.
type ClientError[R any] struct {
	Reason R
	Msg    string
}

func (e *ClientError[R]) Error() string { return e.Msg }
