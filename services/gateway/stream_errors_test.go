package gateway_test

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/services/gateway/internal/testenv"
)

// stillWorks proves the session goes on after a stream-level failure.
func stillWorks(t *testing.T, c *testenv.Client, echo string) {
	t.Helper()
	if err := echoRoundTrip(c, echo, []byte("the session goes on")); err != nil {
		t.Fatalf("session after the failure: %v", err)
	}
}

func TestForbiddenTargets(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) {
		c.AllowTargets = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	echo := testenv.EchoTarget(t)
	c := w.connect(t)
	for _, target := range []string{"127.0.0.2:80", "10.1.2.3:80", "172.16.5.4:443", "192.168.1.1:22", "169.254.169.254:80",
		"100.64.0.1:80", "0.0.0.0:80", "[::1]:80", "[fe80::1]:80", "[fc00::1]:80", "[::ffff:10.0.0.1]:80", "224.0.0.1:80",
		"[64:ff9b::a00:5]:5432", "[2002:a00:1::1]:80", "[::a00:1]:80", "[fec0::1]:80", "93.184.216.34:25"} {
		t.Run(target, func(t *testing.T) {
			st := c.Open(target)
			code, err := st.WaitClosed(5 * time.Second)
			if err != nil || code != schemas.CodeTargetForbidden {
				t.Fatalf("close code = %q (%v), want TARGET_FORBIDDEN", code, err)
			}
		})
	}
	stillWorks(t, c, echo.Addr)
}

func TestUpstreamUnreachable(t *testing.T) {
	for _, kind := range []nodeKind{outlineNode, libevNode} {
		t.Run(kind.String(), func(t *testing.T) {
			w := newWorld(t, kind, nil)
			echo := testenv.EchoTarget(t)
			c := w.connect(t)
			for _, target := range []string{testenv.ClosedAddr(t), "127.0.0.1:0", "not-a-target"} {
				st := c.Open(target)
				code, err := st.WaitClosed(10 * time.Second)
				if err != nil || code != schemas.CodeUpstreamUnreachable {
					t.Fatalf("%s: close code = %q (%v), want UPSTREAM_UNREACHABLE", target, code, err)
				}
			}
			stillWorks(t, c, echo.Addr)
		})
	}
}

func TestStreamLimit(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) { c.MaxStreams = 3 })
	echo := testenv.EchoTarget(t)
	c := w.connect(t)
	var open []*testenv.Stream
	for range 3 {
		st := c.Open(echo.Addr)
		if _, err := st.ReadN(0, time.Second); err != nil {
			t.Fatal(err)
		}
		open = append(open, st)
	}
	extra := c.Open(echo.Addr)
	if _, err := extra.WaitClosed(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	f := extra.Fault()
	if f == nil || f.Code != schemas.CodeLimitReached || f.Limit != schemas.LimitStreams || *f.StreamID != extra.ID {
		t.Fatalf("fault = %+v, want LIMIT_REACHED streams for stream %d", f, extra.ID)
	}
	for _, st := range open {
		if err := st.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		if got, err := st.ReadN(4, 5*time.Second); err != nil || string(got) != "ping" {
			t.Fatalf("stream %d after the refusal: %q %v", st.ID, got, err)
		}
	}
	if err := open[0].CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if code, err := open[0].WaitClosed(5 * time.Second); err != nil || code != "" {
		t.Fatalf("close: %q %v", code, err)
	}
	stillWorks(t, c, echo.Addr)
}

func TestStreamProtocolErrors(t *testing.T) {
	w := newWorld(t, outlineNode, nil)
	echo := testenv.EchoTarget(t)
	c := w.connect(t)
	tests := []struct {
		name string
		send func(t *testing.T) uint32
	}{
		{"data for a stream never opened", func(t *testing.T) uint32 {
			_ = c.SendRaw(websocket.TextMessage, wire.AppendStreamDataJSON(nil, 900, []byte("x")))
			return 900
		}},
		{"stream_close for a stream never opened", func(t *testing.T) uint32 {
			_ = c.Send(schemas.StreamClose{StreamID: 901})
			return 901
		}},
		{"bad base64 on an open stream", func(t *testing.T) uint32 {
			st := c.Open(echo.Addr)
			_ = c.SendRaw(websocket.TextMessage, []byte(fmt.Sprintf(`{"type":"stream_data","stream_id":%d,"payload":"!!not base64!!"}`, st.ID)))
			return st.ID
		}},
		{"stream_open without target", func(t *testing.T) uint32 {
			_ = c.SendRaw(websocket.TextMessage, []byte(`{"type":"stream_open","stream_id":902}`))
			return 902
		}},
		{"duplicate stream id", func(t *testing.T) uint32 {
			st := c.OpenID(903, echo.Addr)
			_ = c.Send(schemas.StreamOpen{StreamID: st.ID, Target: echo.Addr})
			return st.ID
		}},
		{"data after stream_close", func(t *testing.T) uint32 {
			st := c.OpenID(904, testenv.SourceTarget(t, 1<<20).Addr)
			_ = st.CloseWrite()
			_ = st.Write([]byte("late"))
			return st.ID
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.send(t)
			f := waitStreamFault(t, c, id)
			if f.Code != schemas.CodeProtocolError || f.Message == "" {
				t.Fatalf("fault = %+v, want PROTOCOL_ERROR with a message", f)
			}
		})
	}
	stillWorks(t, c, echo.Addr)
}

// waitStreamFault returns the error frame naming stream id, for tracked and untracked streams.
func waitStreamFault(t *testing.T, c *testenv.Client, id uint32) schemas.ErrorFrame {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case e := <-c.Errors():
			if e.StreamID == nil || *e.StreamID != id {
				t.Fatalf("unexpected error frame %+v", e)
			}
			return e
		case <-time.After(20 * time.Millisecond):
		}
		if st := c.Tracked(id); st != nil && st.Fault() != nil {
			return *st.Fault()
		}
	}
	t.Fatalf("no error frame for stream %d", id)
	return schemas.ErrorFrame{}
}

func TestSessionProtocolErrors(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) { c.MaxFrameSize = 8 << 10 })
	tests := []struct {
		name     string
		features []string
		kind     int
		msg      []byte
		code     schemas.ErrorCode
		limit    schemas.LimitKind
	}{
		{"unknown frame type", nil, websocket.TextMessage, []byte(`{"type":"stream_teleport","stream_id":1}`), schemas.CodeProtocolError, ""},
		{"malformed json", nil, websocket.TextMessage, []byte(`{"type":"stream_data",`), schemas.CodeProtocolError, ""},
		{"second hello", nil, websocket.TextMessage, []byte(`{"type":"hello","device_id":"d","access_token":"t","region":"r"}`), schemas.CodeProtocolError, ""},
		{"binary not negotiated", nil, websocket.BinaryMessage, wire.AppendBinaryStreamData(nil, 1, []byte("x")), schemas.CodeProtocolError, ""},
		{"window without flow control", nil, websocket.TextMessage, []byte(`{"type":"stream_window","stream_id":1,"credit":5}`), schemas.CodeProtocolError, ""},
		{"unknown binary type", []string{"binary"}, websocket.BinaryMessage, []byte{7, 0, 0, 0, 1}, schemas.CodeProtocolError, ""},
		{"stream id zero", nil, websocket.TextMessage, []byte(`{"type":"stream_close","stream_id":0}`), schemas.CodeProtocolError, ""},
		{"frame too large", nil, websocket.TextMessage, bytes.Repeat([]byte("x"), 9<<10), schemas.CodeLimitReached, schemas.LimitFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := w.connect(t, tt.features...)
			if err := c.SendRaw(tt.kind, tt.msg); err != nil {
				t.Fatal(err)
			}
			e, err := c.NextError(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if e.Code != tt.code || e.Limit != tt.limit || e.StreamID != nil || e.Message == "" {
				t.Fatalf("error = %+v, want session-level %s limit %q", e, tt.code, tt.limit)
			}
			select {
			case <-c.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("session not closed after a session-level error")
			}
		})
	}
}

func TestHalfCloseReachesTheTarget(t *testing.T) {
	w := newWorld(t, outlineNode, nil)
	digest := testenv.DigestTarget(t)
	for _, features := range [][]string{nil, {"binary", "flow_control"}} {
		t.Run(fmt.Sprint(features), func(t *testing.T) {
			c := w.connect(t, features...)
			data := randomBytes(t, 300<<10)
			st := c.Open(digest.Addr)
			if err := st.Write(data); err != nil {
				t.Fatal(err)
			}
			if err := st.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			got, code, err := st.ReadToClose(10 * time.Second)
			if err != nil || code != "" {
				t.Fatalf("close: %q %v", code, err)
			}
			if string(got) != testenv.Digest(data) {
				t.Fatalf("target answered %q, want %q", got, testenv.Digest(data))
			}
		})
	}
}

func TestClientAbortEndsStream(t *testing.T) {
	w := newWorld(t, outlineNode, nil)
	source := testenv.SourceTarget(t, 64<<20)
	echo := testenv.EchoTarget(t)
	c := w.connect(t, "flow_control")
	st := c.Open(source.Addr)
	if _, err := st.ReadN(1024, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := st.Abort(schemas.CodeUpstreamUnreachable); err != nil {
		t.Fatal(err)
	}
	w.waitStreams(t, 0)
	stillWorks(t, c, echo.Addr)
}

func TestSlowStreamDoesNotStallOthers(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) { c.StreamWindow = 64 << 10 })
	source := testenv.SourceTarget(t, 32<<20)
	echo := testenv.EchoTarget(t)
	c := w.connect(t, "binary", "flow_control")
	slow := c.Open(source.Addr)
	testkitEventually(t, "the slow stream's window is full", func() bool { return slow.Buffered() == 64<<10 })
	for range 5 {
		if err := echoRoundTrip(c, echo.Addr, randomBytes(t, 256<<10)); err != nil {
			t.Fatal(err)
		}
	}
	if got := slow.Buffered(); got != 64<<10 {
		t.Fatalf("the slow stream holds %d bytes, more than its window", got)
	}
	want := make([]byte, 32<<20)
	_, _ = io.ReadFull(testenv.Pattern(), want)
	got, err := slow.ReadN(len(want), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the slow stream's bytes differ")
	}
}

func TestFlowControlOverrun(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) {
		c.StreamWindow = 16 << 10
		c.MaxFrameSize = 16 << 10
	})
	dead := testenv.DeadNode(t, 2, testenv.Region)
	w.cp.SetNodes(testenv.Region, dead, w.node)
	w.cp.DelayReassign(500 * time.Millisecond)
	echo := testenv.EchoTarget(t)
	c := w.connect(t, "binary", "flow_control")
	st := c.Open(echo.Addr)
	for range 3 {
		_ = c.SendRaw(websocket.BinaryMessage, wire.AppendBinaryStreamData(nil, st.ID, make([]byte, 10<<10)))
	}
	if _, err := st.WaitClosed(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if f := st.Fault(); f == nil || f.Code != schemas.CodeProtocolError {
		t.Fatalf("fault = %+v, want PROTOCOL_ERROR for the window overrun", f)
	}
	stillWorks(t, c, echo.Addr)
}
