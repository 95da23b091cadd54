package plugin

import (
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
	return health{State: ss.Phase.String(), Detail: ss.Detail, Since: ss.Since}
}
