package i2cp

// Message is one received payload. Payload is valid only during the
// handler call: copy what must outlive it.
type Message struct {
	Protocol         uint8
	FromPort, ToPort uint16
	Payload          []byte
}

// Handler processes received messages. It runs on the receive goroutine
// and must not block.
type Handler func(m *Message)

// Handle registers h for protocol on port (0: any port). A handler for a
// specific port wins over one for any port. Handlers survive reconnects.
func (s *Session) Handle(protocol uint8, port uint16, h Handler) {
	s.handleMu.Lock()
	defer s.handleMu.Unlock()
	next := map[uint32]Handler{}
	for k, v := range *s.handlers.Load() {
		next[k] = v
	}
	next[uint32(protocol)<<16|uint32(port)] = h
	s.handlers.Store(&next)
}

func (s *Session) dispatch(m *Message) {
	table := *s.handlers.Load()
	h := table[uint32(m.Protocol)<<16|uint32(m.ToPort)]
	if h == nil {
		h = table[uint32(m.Protocol)<<16]
	}
	if h == nil {
		s.unclaimed.Add(1)
		return
	}
	h(m)
}
