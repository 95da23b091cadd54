package loadgen

// SetTracker changes the process sampled around phases, as when the
// tracker was restarted. Call it between phases, not during one.
func (e *Engine) SetTracker(p *Proc) { e.cfg.Tracker = p }
