package gateway_test

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/services/gateway/internal/testenv"
)

// refusedWith says hello on a new connection and expects an error frame with code and limit.
func refusedWith(t *testing.T, w *world, header http.Header, code schemas.ErrorCode, limit schemas.LimitKind) {
	t.Helper()
	conn := testenv.DialHeader(t, w.gw, header)
	testenv.SendJSON(t, conn, hello())
	frame, err := testenv.ReadFrame(t, conn, 5*time.Second)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if f, ok := frame.(schemas.ErrorFrame); !ok || f.Code != code || f.Limit != limit {
		t.Fatalf("got %#v, want error %s limit %s", frame, code, limit)
	}
}

func connectHeader(t *testing.T, w *world, header http.Header) {
	t.Helper()
	conn := testenv.DialHeader(t, w.gw, header)
	testenv.SendJSON(t, conn, hello())
	frame, err := testenv.ReadFrame(t, conn, 5*time.Second)
	if _, ok := frame.(schemas.HelloOK); err != nil || !ok {
		t.Fatalf("hello answered %#v, %v", frame, err)
	}
}

func TestConnectionCaps(t *testing.T) {
	tests := []struct {
		name    string
		tune    func(*gateway.Protection)
		admit   []http.Header
		refused http.Header
		limit   schemas.LimitKind
	}{
		{"sessions on the gateway", func(p *gateway.Protection) { p.MaxSessions = 2 }, []http.Header{nil, nil}, nil, schemas.LimitGatewaySessions},
		{"sessions per address", func(p *gateway.Protection) { p.PerAddress = 2 }, []http.Header{nil, nil}, nil, schemas.LimitAddressSessions},
		{"per address behind a trusted proxy", func(p *gateway.Protection) {
			p.PerAddress, p.ProxyHeader, p.TrustedProxies = 1, "X-Forwarded-For", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		}, []http.Header{{"X-Forwarded-For": {"203.0.113.7"}}, {"X-Forwarded-For": {"203.0.113.8, 10.0.0.1"}}},
			http.Header{"X-Forwarded-For": {"203.0.113.7"}}, schemas.LimitAddressSessions},
		{"proxy header from an untrusted peer is ignored", func(p *gateway.Protection) {
			p.PerAddress, p.ProxyHeader, p.TrustedProxies = 1, "X-Forwarded-For", []netip.Prefix{netip.MustParsePrefix("192.0.2.1/32")}
		}, []http.Header{{"X-Forwarded-For": {"203.0.113.7"}}}, http.Header{"X-Forwarded-For": {"203.0.113.8"}}, schemas.LimitAddressSessions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, outlineNode, func(c *gateway.Config) { tt.tune(&c.Protection) })
			for _, h := range tt.admit {
				connectHeader(t, w, h)
			}
			refusedWith(t, w, tt.refused, schemas.CodeLimitReached, tt.limit)
			if got := testutilCounter(t, w, "httvps_gateway_limit_refusals_total", string(tt.limit)); got != 1 {
				t.Fatalf("limit_refusals_total{limit=%s} = %v, want 1", tt.limit, got)
			}
		})
	}
}

func TestSessionSlotIsFreedAtTheEnd(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) { c.Protection.MaxSessions = 1 })
	first := w.connect(t)
	refusedWith(t, w, nil, schemas.CodeLimitReached, schemas.LimitGatewaySessions)
	first.Close()
	testkitEventually(t, "the slot of the closed session is free", func() bool {
		c, refusal := testenv.Connect(t, w.gw, hello())
		if refusal != nil {
			return false
		}
		c.Close()
		return true
	})
}

func TestHandshakesInFlight(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) {
		c.Protection.MaxHandshakes = 1
		c.HelloTimeout = time.Minute
	})
	silent := testenv.Dial(t, w.gw)
	testkitEventually(t, "the silent connection holds the handshake slot", func() bool {
		conn := testenv.Dial(t, w.gw)
		testenv.SendJSON(t, conn, hello())
		frame, _ := testenv.ReadFrame(t, conn, 5*time.Second)
		f, ok := frame.(schemas.ErrorFrame)
		return ok && f.Code == schemas.CodeLimitReached && f.Limit == schemas.LimitHandshakes
	})
	testenv.SendJSON(t, silent, hello())
	if frame, err := testenv.ReadFrame(t, silent, 5*time.Second); err != nil {
		t.Fatal(err)
	} else if _, ok := frame.(schemas.HelloOK); !ok {
		t.Fatalf("the slow hello got %#v", frame)
	}
	testkitEventually(t, "the slot is free once the slow handshake is done", func() bool {
		c, refusal := testenv.Connect(t, w.gw, hello())
		if refusal != nil {
			return false
		}
		c.Close()
		return true
	})
}

func TestStreamOpenRate(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) {
		c.Protection.StreamOpenRate, c.Protection.StreamOpenBurst = 1, 3
	})
	echo := testenv.EchoTarget(t)
	c := w.connect(t, confirmFeatures...)
	var refused, opened int
	for range 8 {
		st := c.Open(echo.Addr)
		if err := st.WaitOpened(streamTimeout); err == nil {
			opened++
			_ = st.Abort(schemas.CodeUpstreamUnreachable)
			continue
		}
		if f := st.Fault(); f == nil || f.Code != schemas.CodeLimitReached || f.Limit != schemas.LimitStreamOpenRate {
			t.Fatalf("fault %+v, want LIMIT_REACHED stream_open_rate", f)
		}
		refused++
	}
	if opened < 3 || refused == 0 {
		t.Fatalf("%d opened and %d refused of 8 opened at once with a burst of 3", opened, refused)
	}
}

func TestStreamsBeyondTheSessionMemoryAreRefused(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) {
		c.StreamWindow, c.MaxFrameSize = 64<<10, 16<<10
		c.Protection.SessionMemory = 1 << 20
	})
	silent := testenv.SilentTarget(t)
	c := w.connect(t, confirmFeatures...)
	var limited *schemas.ErrorFrame
	for range 64 {
		st := c.Open(silent.Addr)
		if err := st.WaitOpened(streamTimeout); err != nil {
			limited = st.Fault()
			break
		}
	}
	if limited == nil || limited.Code != schemas.CodeLimitReached || limited.Limit != schemas.LimitMemory {
		t.Fatalf("fault %+v, want LIMIT_REACHED memory before 64 streams fit in 1 MiB", limited)
	}
}

func TestStalledTargetFailsItsStreamOnly(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) {
		c.StreamWindow, c.MaxFrameSize = 64<<10, 16<<10
		c.PingInterval, c.IdleTimeout = 200*time.Millisecond, time.Second
	})
	silent, echo := testenv.SilentTarget(t), testenv.EchoTarget(t)
	c := w.connect(t)
	st := c.Open(silent.Addr)
	go func() {
		for i := 0; i < 4096 && st.Write(make([]byte, 8<<10)) == nil; i++ {
		}
	}()
	code, err := st.WaitClosed(30 * time.Second)
	if err != nil || code != schemas.CodeUpstreamUnreachable {
		t.Fatalf("close code %q (%v), want UPSTREAM_UNREACHABLE for a target that takes nothing", code, err)
	}
	stillWorks(t, c, echo.Addr)
}

func TestSessionThatFillsItsMemoryEnds(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) {
		c.StreamWindow, c.MaxFrameSize = 256<<10, 16<<10
		c.Protection.SessionMemory = 1 << 20
		c.PingInterval, c.IdleTimeout = 200*time.Millisecond, time.Second
	})
	silent := testenv.SilentTarget(t)
	c := w.connect(t, "binary", "flow_control")
	chunk := make([]byte, 8<<10)
	for range 6 {
		st := c.Open(silent.Addr)
		go func() {
			for i := 0; i < 4096 && st.Write(chunk) == nil; i++ {
			}
		}()
	}
	e, err := c.NextError(30 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if e.Code != schemas.CodeLimitReached || e.Limit != schemas.LimitMemory {
		t.Fatalf("session ended with %+v, want LIMIT_REACHED memory", e)
	}
	testkitEventually(t, "the session's memory is given back", func() bool { return w.gw.Svc.MemoryCharged() == 0 })
}

func TestHelloFieldsAreCheckedBeforeUse(t *testing.T) {
	w := newWorld(t, outlineNode, nil)
	tests := []struct {
		name  string
		hello schemas.Hello
		code  schemas.ErrorCode
		limit schemas.LimitKind
	}{
		{"device id with a dot", schemas.Hello{DeviceID: "a.b", AccessToken: token, Region: testenv.Region}, schemas.CodeProtocolError, ""},
		{"region with a space", schemas.Hello{DeviceID: deviceID, AccessToken: token, Region: "eu 1"}, schemas.CodeProtocolError, ""},
		{"control character in the token", schemas.Hello{DeviceID: deviceID, AccessToken: "tok\x01en", Region: testenv.Region}, schemas.CodeProtocolError, ""},
		{"device id too long", schemas.Hello{DeviceID: strings.Repeat("d", 129), AccessToken: token, Region: testenv.Region}, schemas.CodeProtocolError, ""},
		{"first frame over 4 KiB", schemas.Hello{DeviceID: deviceID, AccessToken: strings.Repeat("t", 5000), Region: testenv.Region}, schemas.CodeLimitReached, schemas.LimitFrame},
		{"platform with a newline", schemas.Hello{DeviceID: deviceID, AccessToken: token, Region: testenv.Region, Platform: "li\nnux"}, schemas.CodeProtocolError, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, refusal := testenv.Connect(t, w.gw, tt.hello)
			if refusal == nil || refusal.Code != tt.code || refusal.Limit != tt.limit {
				t.Fatalf("refusal %+v, want %s %s", refusal, tt.code, tt.limit)
			}
			if strings.Contains(refusal.Message, tt.hello.AccessToken) || (tt.hello.DeviceID != deviceID && strings.Contains(refusal.Message, tt.hello.DeviceID)) {
				t.Fatalf("the refusal echoes the rejected value: %q", refusal.Message)
			}
		})
	}
}
