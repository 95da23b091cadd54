package loadgen

import (
	"bufio"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/go-i2p/go-opentracker/tracker"
)

func TestAppendHTTPAnnounce(t *testing.T) {
	a := HTTPAnnounce{Path: "/announce", Port: 6881, Left: 1 << 30, Event: tracker.EventStarted, NumWant: 50, Compact: true,
		IP: "AAAA-~bcd=="}
	for i := range a.InfoHash {
		a.InfoHash[i] = byte(i * 13)
		a.PeerID[i] = byte(255 - i)
	}
	req := AppendHTTPAnnounce(nil, "127.0.0.1:1", &a, false)
	r, err := readRequest(string(req))
	if err != nil {
		t.Fatal(err)
	}
	q := r.URL.Query()
	if q.Get("info_hash") != string(a.InfoHash[:]) || q.Get("peer_id") != string(a.PeerID[:]) {
		t.Errorf("hashes do not round-trip: %q", r.URL.RawQuery)
	}
	for k, v := range map[string]string{"port": "6881", "left": "1073741824", "event": "started", "numwant": "50", "compact": "1", "ip": a.IP} {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if r.Header.Get("Connection") != "close" || r.Host != "127.0.0.1:1" || r.Header.Get("X-I2P-DestB64") != "" {
		t.Errorf("headers %v host %q", r.Header, r.Host)
	}
	a.TunnelDest = a.IP
	if r, err := readRequest(string(AppendHTTPAnnounce(nil, "h", &a, false))); err != nil || r.Header.Get("X-I2P-DestB64") != a.IP {
		t.Errorf("tunnel header: %v %v", r, err)
	}
	a.Event, a.IP, a.TunnelDest, a.NumWant = tracker.EventNone, "", "", -1
	r, err = readRequest(string(AppendHTTPAnnounce(nil, "h", &a, true)))
	if err != nil {
		t.Fatal(err)
	}
	if q := r.URL.Query(); q.Has("event") || q.Has("ip") || q.Has("numwant") || r.Header.Get("Connection") != "keep-alive" {
		t.Errorf("optional parameters sent: %q %v", r.URL.RawQuery, r.Header)
	}
}

func readRequest(s string) (*requestView, error) {
	br := bufio.NewReader(strings.NewReader(s))
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "GET" || f[2] != "HTTP/1.1" {
		return nil, errors.New("bad request line " + line)
	}
	u, err := url.ParseRequestURI(f[1])
	if err != nil {
		return nil, err
	}
	v := &requestView{URL: u, Header: map[string][]string{}}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			return v, nil
		}
		k, val, _ := strings.Cut(l, ": ")
		if k == "Host" {
			v.Host = val
		}
		v.Header[k] = append(v.Header[k], val)
	}
}

type requestView struct {
	URL    *url.URL
	Host   string
	Header url.Values
}

const compactReply = "d8:completei3e10:incompletei1e8:intervali1620e5:peers12:abcdefghijkle"

func TestReadHTTPResponse(t *testing.T) {
	resp := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + itoa(len(compactReply)) + "\r\n\r\n" + compactReply + "HTTP/1.1 next"
	h, body, _, err := ReadHTTPResponse(iotest.OneByteReader(strings.NewReader(resp)), nil)
	if err != nil || h.Status != 200 || h.Close || string(body) != compactReply {
		t.Fatalf("head %+v body %q err %v", h, body, err)
	}
	out, err := ParseAnnounceBody(body, 6)
	if err != nil || out.Refused || out.Peers != 2 {
		t.Fatalf("outcome %+v %v", out, err)
	}
	// opentracker: HTTP/1.0 style, no length, closes.
	resp = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + compactReply
	h, body, _, err = ReadHTTPResponse(strings.NewReader(resp), make([]byte, 0, 8))
	if err != nil || !h.Close || string(body) != compactReply {
		t.Fatalf("head %+v body %q err %v", h, body, err)
	}
	for _, bad := range []string{"", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
		"SIP/2.0 200 OK\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "HTTP/1.1 200 OK\r\nbroken\r\n\r\n",
		"HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: b\r\n", 3000) + "\r\n"} {
		if _, _, _, err := ReadHTTPResponse(strings.NewReader(bad), nil); !errors.Is(err, ErrHTTP) {
			t.Errorf("ReadHTTPResponse(%.40q) = %v", bad, err)
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestParseAnnounceBody(t *testing.T) {
	for _, tc := range []struct {
		body    string
		peerLen int
		want    Outcome
	}{
		{"d14:failure reason21:not a registered hashe", 6, Outcome{Refused: true}},
		{"d8:intervali1620e5:peers0:e", 32, Outcome{}},
		{"d8:intervali1620e5:peers64:" + strings.Repeat("x", 64) + "e", 32, Outcome{Peers: 2}},
		{"d5:peersld2:ip4:abcd4:porti1eed2:ip4:efgh4:porti2eee8:intervali1ee", 32, Outcome{Peers: 2}},
		{"d8:completei0e10:incompletei0e8:intervali1620ee", 6, Outcome{}},
	} {
		got, err := ParseAnnounceBody([]byte(tc.body), tc.peerLen)
		if err != nil || got != tc.want {
			t.Errorf("ParseAnnounceBody(%q) = %+v, %v; want %+v", tc.body, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "l", "d", "d5:peers5:abcde", "d5:peers7:abcdefge", "d5:peersi1", "d99:x", "d1:ai1xe" + "e",
		"d1:a" + strings.Repeat("l", 40) + strings.Repeat("e", 41), "d1:ax"} {
		if _, err := ParseAnnounceBody([]byte(bad), 6); !errors.Is(err, ErrHTTP) {
			t.Errorf("ParseAnnounceBody(%q) = %v", bad, err)
		}
	}
}

var _ io.Reader = iotest.OneByteReader(nil)
