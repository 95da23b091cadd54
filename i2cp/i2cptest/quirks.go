package i2cptest

// SetLeaseSet2Unreachable makes the router behave, while on, as i2pd
// before 2.48 does: a session that published a LeaseSet2 is published
// and can send, but no message from another session reaches it (the
// router cannot find a LeaseSet2 in its own netDb); one that published
// the older LeaseSet is reached as usual. What is not delivered is
// counted in Stats.Dropped and reported as MsgNoLeaseSet.
func (r *Router) SetLeaseSet2Unreachable(on bool) { r.noLS2.Store(on) }

// unfindable reports whether the router, under its quirks, cannot find
// the LeaseSet target published.
func (r *Router) unfindable(target *conn) bool {
	return r.noLS2.Load() && target.ls2.Load()
}
