package plugin

import (
	"errors"
	"time"

	"github.com/go-i2p/go-opentracker/i2cp"
)

// health is the one definition of a healthy router link that the
// console badge, /api/status and opentracker_router_up share: the
// tracker is healthy when it is reachable, that is when a probe from
// another session on its router arrived after its LeaseSet was
// published. A session that is up, or published but not yet reached, is
// not healthy.
type health struct {
	State, Detail string
	Since         time.Time
	Healthy       bool
}

// health describes the run's router link at now.
func (r *run) health(now time.Time) health {
	ss := r.session.State()
	switch ss.Phase {
	case i2cp.PhasePublished:
		rs := r.reach.Status()
		return health{State: rs.State.String(), Detail: rs.Detail, Since: rs.Since, Healthy: rs.State == ReachReached}
	case i2cp.PhaseSessionUp:
		if _, stuck := r.reach.tunnelsStuck(now); stuck {
			return health{State: "session up, no tunnels", Detail: tunnelAdvice, Since: ss.Since}
		}
	}
	return linkHealth(ss)
}

// linkHealth describes a session that is neither published nor stuck
// without tunnels: its phase, or PhaseRefused when the error that ended
// its link is ErrRefused.
func linkHealth(ss i2cp.State) health {
	if ss.Phase == i2cp.PhaseDisconnected && errors.Is(ss.Err, i2cp.ErrRefused) {
		return health{State: PhaseRefused, Detail: ss.Detail, Since: ss.Since}
	}
	return health{State: ss.Phase.String(), Detail: ss.Detail, Since: ss.Since}
}

// PhaseRefused is the router link's state while the router answers the
// tracker's CreateSession with a refusal (SessionStatus Refused or
// Invalid): a router is there, and starting one is not the answer; the
// session is retried in the background. The i2cp session reports it as
// a disconnect whose error is ErrRefused.
const PhaseRefused = "refused by the router"
