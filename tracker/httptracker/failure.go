package httptracker

import (
	"context"
	"errors"
	"log/slog"

	"github.com/go-i2p/go-opentracker/tracker"
)

// failure is a request the handler refuses: its text goes to the client
// as the bencoded failure reason, counted under its reason.
type failure = tracker.ClientError[FailReason]

func newFailure(r FailReason, msg string) *failure { return &failure{Reason: r, Msg: msg} }

// Failures sent to clients: the query's, then the announcing peer's.
var (
	errBadInfoHash    = newFailure(FailMalformed, "info_hash must be 20 bytes")
	errBadPeerID      = newFailure(FailMalformed, "peer_id must be 20 bytes")
	errBadNumber      = newFailure(FailMalformed, "malformed number")
	errBadEscape      = newFailure(FailMalformed, "malformed percent escape")
	errTooMany        = newFailure(FailMalformed, "too many info_hash parameters")
	errIPTooLong      = newFailure(FailIPTooLong, "ip is too long to be an I2P Destination")
	errNoInfoHash     = newFailure(FailMalformed, "missing info_hash")
	errNoPeerID       = newFailure(FailMalformed, "missing peer_id")
	errNoIP           = newFailure(FailNoIP, "missing ip: announce your Base64 Destination in the ip parameter")
	errClearnetIP     = newFailure(FailClearnetIP, "ip is a clearnet address; this tracker only serves I2P Destinations")
	errBadDest        = newFailure(FailBadDest, "ip is not a valid Base64 I2P Destination")
	errDestLength     = newFailure(FailBadDest, "ip is not a client's I2P Destination: a Destination has 387 to 395 bytes, its key certificate exactly as long as its key types need")
	errDestSigType    = newFailure(FailBadDest, "ip is not a client's I2P Destination: its signature type is not one a Destination uses")
	errMismatch       = newFailure(FailMismatch, "ip does not match the destination this request came from")
	errNotTunneled    = newFailure(FailNotTunneled, "announce over I2P: to the tracker's own address, or through its I2P server tunnel")
	errUnverifiedRate = newFailure(FailUnverifiedRate, "too many announces without a verified I2P Destination; try again later")
	errLimited        = newFailure(FailLimited, "too many requests: slow down")
	errFullScrape     = newFailure(FailFullScrape, "full scrape is disabled: give info_hash")
)

// Texts of the announces the swarm model refused.
const (
	failTooManyPeers = "tracker full: "
	failInternal     = "internal error"
)

// fail counts err under its reason and appends its failure response;
// at debug only it logs the request's kind ("announce", "scrape"), the
// reason and err, so above debug a failure is not formatted for the
// log. An error that is no failure is malformed input (a parser's own
// error).
func (h *Handler) fail(dst []byte, kind string, err error) []byte {
	r := FailMalformed
	if f, ok := errors.AsType[*failure](err); ok {
		r = f.Reason
	}
	h.stats.count(r)
	if tracker.Debugging(h.cfg.Logger) {
		h.logFailure(kind, r, err)
	}
	return appendFailure(dst, err.Error())
}

func (h *Handler) logFailure(kind string, r FailReason, err error) {
	h.cfg.Logger.LogAttrs(context.Background(), slog.LevelDebug, "http request failed",
		slog.String("transport", "http"), slog.String("kind", kind), slog.String("reason", r.String()), slog.String("err", err.Error()))
}

// refused answers an announce the swarm model refused: with the text of
// a tracker.ClientError, else (an error of the tracker's own, logged)
// with failInternal.
func (h *Handler) refused(dst []byte, err error) []byte {
	h.stats.count(FailRefused)
	if ce, ok := errors.AsType[*tracker.ClientError[tracker.RefusedReason]](err); ok {
		return appendFailure(dst, failTooManyPeers+ce.Msg)
	}
	h.cfg.Logger.Error("announce failed", "err", err)
	return appendFailure(dst, failInternal)
}
