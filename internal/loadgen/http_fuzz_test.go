package loadgen

import (
	"bytes"
	"testing"
)

func FuzzReadHTTPResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nd1:ae"))
	f.Add([]byte("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + compactReply))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, body, _, err := ReadHTTPResponse(bytes.NewReader(b), nil)
		if err != nil {
			return
		}
		if h.ContentLength >= 0 && len(body) != h.ContentLength {
			t.Fatalf("body of %d bytes, Content-Length %d", len(body), h.ContentLength)
		}
	})
}

func FuzzParseAnnounceBody(f *testing.F) {
	f.Add([]byte(compactReply), 6)
	f.Add([]byte("d14:failure reason3:note"), 32)
	f.Add([]byte("d5:peersld2:ip4:abcdeee"), 32)
	f.Fuzz(func(t *testing.T, b []byte, peerLen int) {
		out, err := ParseAnnounceBody(b, peerLen%64)
		if err == nil && out.Peers < 0 {
			t.Fatalf("negative peers %d", out.Peers)
		}
	})
}
