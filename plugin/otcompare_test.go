package plugin

import (
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-i2p/go-opentracker/internal/simclient"
	"github.com/go-i2p/go-opentracker/tracker"
)

// requireOpentrackerEnv makes the comparison fail, not skip, where
// Debian's opentracker is missing (CI installs it).
const requireOpentrackerEnv = "GO_OPENTRACKER_REQUIRE_OPENTRACKER"

// debianOT is Debian's opentracker, run on a loopback port in a
// directory of its own.
type debianOT struct{ base string }

// startOpentracker runs /usr/bin/opentracker on 127.0.0.1 with a
// whitelist of infos and 127.0.0.1 as its admin address (it serves
// /stats only to one); it skips when the binary is not installed.
func startOpentracker(t *testing.T, infos ...[20]byte) *debianOT {
	t.Helper()
	bin, err := exec.LookPath("opentracker")
	if err != nil {
		if os.Getenv(requireOpentrackerEnv) != "" {
			t.Fatalf("opentracker is not installed and %s is set", requireOpentrackerEnv)
		}
		t.Skip("opentracker is not installed (apt-get install opentracker)")
	}
	// It drops to nobody and chroots into dir, so dir is world-readable.
	dir, err := os.MkdirTemp("", "opentracker")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var list strings.Builder
	for _, ih := range infos {
		list.WriteString(hex.EncodeToString(ih[:]) + "\n")
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "whitelist.txt"), []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	args := []string{"-i", "127.0.0.1", "-p", port, "-P", port, "-A", "127.0.0.1", "-w", "whitelist.txt", "-d", dir}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "nobody") // it refuses to keep root
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ot := &debianOT{base: "http://127.0.0.1:" + port}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err == nil {
			c.Close()
			return ot
		}
		if time.Now().After(deadline) {
			t.Fatalf("opentracker did not listen on %s: %v\n%s", port, err, log.String())
		}
	}
}

// announce sends one plain HTTP announce from peer id, left bytes to go.
func (o *debianOT) announce(t *testing.T, info [20]byte, id string, port int, left uint64, event string) {
	t.Helper()
	q := url.Values{"info_hash": {string(info[:])}, "peer_id": {id}, "port": {fmt.Sprint(port)},
		"left": {fmt.Sprint(left)}, "event": {event}, "compact": {"1"}}
	if code, body := otGet(t, o.base+"/announce?"+q.Encode()); code != 200 || strings.Contains(body, "failure") {
		t.Fatalf("opentracker announce: %d %q", code, body)
	}
}

// otGet fetches u with a deadline: opentracker leaves some modes open.
func otGet(t *testing.T, u string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err.Error()
	}
	return resp.StatusCode, string(b)
}

var digits = regexp.MustCompile(`[0-9]+`)

// shape is a text answer with every number replaced by N, after
// checking that the numbers parse.
func shape(body string) string { return digits.ReplaceAllString(body, "N") }

// xmlPaths lists the element paths of an XML document (attributes as
// @name), with the numbers of its leaves checked to parse.
func xmlPaths(t *testing.T, who, doc string) []string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	var stack, paths []string
	var text strings.Builder
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed: %v\n%s", who, err, doc)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			stack = append(stack, e.Name.Local)
			text.Reset()
			p := strings.Join(stack, ">")
			for _, a := range e.Attr {
				p += "@" + a.Name.Local
			}
			if !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		case xml.CharData:
			text.Write(e)
		case xml.EndElement:
			if v := strings.TrimSpace(text.String()); v != "" && stack[len(stack)-1] != "version" && !digits.MatchString(v) {
				t.Errorf("%s: %s holds %q, not a number", who, strings.Join(stack, ">"), v)
			}
			text.Reset()
			stack = stack[:len(stack)-1]
		}
	}
	return paths
}

// TestStatsLikeOpentracker: the same announces to Debian's opentracker
// and to this tracker give /stats answers of the same shape in every mode
// both serve, and the same numbers where both count the same thing.
func TestStatsLikeOpentracker(t *testing.T) {
	info := [20]byte{0x01, 0x02, 0x03, 0xab}
	ot := startOpentracker(t, info)
	e := start(t, t.TempDir(), newRouter(t))
	ctx := ctx5(t)

	// A leecher and a seed on one torrent, then the leecher completes.
	ot.announce(t, info, "-OT0001-aaaaaaaaaaaa", 6881, 100, "started")
	ot.announce(t, info, "-OT0001-bbbbbbbbbbbb", 6882, 0, "started")
	ot.announce(t, info, "-OT0001-aaaaaaaaaaaa", 6881, 0, "completed")
	var clients []*simclient.Client
	for _, port := range []uint16{6881, 6882} {
		c, _ := e.net.NewClient(port, true)
		if err := c.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	for _, step := range []struct {
		c     *simclient.Client
		left  uint64
		event tracker.Event
	}{{clients[0], 100, tracker.EventStarted}, {clients[1], 0, tracker.EventStarted}, {clients[0], 0, tracker.EventCompleted}} {
		if _, err := step.c.Announce(ctx, info, step.event, step.left, 50); err != nil {
			t.Fatal(err)
		}
	}

	ours := func(mode string) (int, string) { return get(t, e.consoleURL+"stats"+mode) }
	theirs := func(mode string) (int, string) { return otGet(t, ot.base+"/stats"+mode) }

	// The same numbers: swarm and peer counts, the top lists, completions.
	for _, mode := range []string{"", "?mode=peer", "?mode=torr", "?mode=top10", "?mode=top100"} {
		oc, ob := ours(mode)
		tc, tb := theirs(mode)
		if oc != 200 || oc != tc || ob != tb {
			t.Errorf("%q: ours %d %q, opentracker %d %q", mode, oc, ob, tc, tb)
		}
	}
	// The same shape; the request counts differ by transport (UDP here,
	// HTTP there) and the uptimes by a second or two.
	for _, mode := range []string{"conn", "udp4", "tcp4", "scrp", "completed"} {
		oc, ob := ours("?mode=" + mode)
		tc, tb := theirs("?mode=" + mode)
		if oc != 200 || tc != 200 || shape(ob) != shape(tb) {
			t.Errorf("%s: ours %d %q, opentracker %d %q", mode, oc, ob, tc, tb)
		}
		if mode == "completed" && strings.SplitN(ob, "\n", 2)[0] != strings.SplitN(tb, "\n", 2)[0] {
			t.Errorf("completed: ours %q, opentracker %q", ob, tb)
		}
	}
	// Refusals answer with opentracker's status codes.
	for _, mode := range []string{"?mode=", "?mode=bogus", "?mode=busy"} {
		oc, _ := ours(mode)
		if tc, tb := theirs(mode); oc != tc {
			t.Errorf("%q: ours %d, opentracker %d %q", mode, oc, tc, tb)
		}
	}
	// fscr: off, a refusal; on, one full scrape counted alike.
	if oc, _ := ours("?mode=fscr"); oc != 500 {
		t.Errorf("fscr with full scrape off: %d", oc)
	}
	applyLive(e.plugin, "full_scrape", "true")(t)
	if code, body := get(t, e.http.URL+"/scrape"); code != 200 || !strings.HasPrefix(body, "d5:filesd20:") {
		t.Fatalf("our full scrape: %d %q", code, body)
	}
	if code, body := otGet(t, ot.base+"/scrape"); code != 200 || !strings.HasPrefix(body, "d5:filesd20:") {
		t.Fatalf("opentracker's full scrape: %d %q", code, body)
	}
	oc, ob := ours("?mode=fscr")
	tc, tb := theirs("?mode=fscr")
	if oc != 200 || tc != 200 || shape(ob) != shape(tb) || !strings.HasPrefix(ob, "1000\n") {
		t.Errorf("fscr: ours %d %q, opentracker %d %q", oc, ob, tc, tb)
	}

	// version: lines of text ending in a newline.
	if _, ob := ours("?mode=version"); ob == "" || !strings.HasSuffix(ob, "\n") {
		t.Errorf("version %q", ob)
	}

	// everything: every element opentracker has, but the debug counters
	// that do not exist here (README: /stats), and the same totals.
	_, ob = ours("?mode=everything")
	tc, tb = theirs("?mode=everything")
	if tc != 200 {
		t.Fatalf("opentracker everything: %d %q", tc, tb)
	}
	have := xmlPaths(t, "ours", ob)
	for _, p := range xmlPaths(t, "opentracker", tb) {
		if strings.HasPrefix(p, "stats>debug>") && p != "stats>debug>renew" && p != "stats>debug>http_error" {
			continue
		}
		if !slices.Contains(have, p) {
			t.Errorf("everything lacks %s", p)
		}
	}
	var o, th struct {
		Torrents  uint64 `xml:"torrents>count_mutex"`
		Iterator  uint64 `xml:"torrents>count_iterator"`
		Peers     uint64 `xml:"peers>count"`
		Seeds     uint64 `xml:"seeds>count"`
		Completed uint64 `xml:"completed>count"`
	}
	if err := errors.Join(xml.Unmarshal([]byte(ob), &o), xml.Unmarshal([]byte(tb), &th)); err != nil || o != th || o.Peers != 2 {
		t.Errorf("everything totals: ours %+v, opentracker %+v (%v)", o, th, err)
	}
}
