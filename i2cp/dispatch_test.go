package i2cp

import "testing"

// TestRoutes: the exact port wins over any port, any port covers the
// rest of its protocol only, and a nil handler removes a registration
// without touching the table it was made from.
func TestRoutes(t *testing.T) {
	var got string
	named := func(name string) Handler { return func(*Message) { got = name } }
	base := routes{}.with(6, AnyPort, named("streaming")).with(6, 80, named("web")).with(17, 6969, named("udp"))
	cases := []struct {
		protocol uint8
		port     uint16
		want     string
	}{
		{6, 80, "web"}, {6, 0, "streaming"}, {6, 1, "streaming"}, {6, 65535, "streaming"},
		{17, 6969, "udp"}, {17, 6970, ""}, {18, 80, ""}, {7, 80, ""},
	}
	for _, c := range cases {
		got = ""
		if h := base.find(c.protocol, c.port); h != nil {
			h(nil)
		}
		if got != c.want {
			t.Errorf("protocol %d port %d: handler %q, want %q", c.protocol, c.port, got, c.want)
		}
	}
	less := base.with(6, 80, nil)
	got = ""
	less.find(6, 80)(nil)
	if got != "streaming" {
		t.Errorf("after removing port 80, protocol 6 port 80 went to %q", got)
	}
	if len(base) != 3 || len(less) != 2 {
		t.Errorf("tables of %d and %d handlers, want 3 and 2", len(base), len(less))
	}
}

// BenchmarkDispatch measures the reader's hand-off of one message to its
// handler: the table lookup and the panic guard around the call.
func BenchmarkDispatch(b *testing.B) {
	s := &Session{}
	s.handlers.Store(&routes{})
	n := 0
	s.Handle(17, 6969, func(*Message) { n++ })
	m := &Message{Protocol: 17, FromPort: 1, ToPort: 6969, Payload: []byte("x")}
	for b.Loop() {
		s.dispatch(m)
	}
	if n == 0 {
		b.Fatal("handler not called")
	}
}
