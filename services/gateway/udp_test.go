package gateway_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/services/gateway/internal/testenv"
)

const udpWait = 10 * time.Second

func sendDatagram(t *testing.T, c *testenv.Client, binary bool, flow uint32, addr string, p []byte) {
	t.Helper()
	var err error
	if binary {
		msg, aerr := wire.AppendBinaryUDPData(nil, flow, addr, p)
		if aerr != nil {
			t.Fatal(aerr)
		}
		err = c.SendRaw(websocket.BinaryMessage, msg)
	} else {
		err = c.Send(schemas.UDPData{FlowID: flow, Addr: addr, Payload: p})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func nextUDP(t *testing.T, c *testenv.Client) any {
	t.Helper()
	select {
	case f := <-c.UDP():
		return f
	case e := <-c.Errors():
		t.Fatalf("error frame %+v while waiting for a UDP frame", e)
	case <-time.After(udpWait):
		t.Fatal("no UDP frame from the gateway")
	}
	return nil
}

func TestUDPEchoBothEncodings(t *testing.T) {
	for _, kind := range []nodeKind{outlineNode, libevNode} {
		t.Run(kind.String(), func(t *testing.T) {
			w := newWorld(t, kind, nil)
			echo := testenv.UDPEcho(t)
			for _, features := range [][]string{{schemas.FeatureUDP}, {schemas.FeatureBinary, schemas.FeatureUDP}} {
				c := w.connect(t, features...)
				binary := len(features) == 2
				if l := c.HelloOK.Limits; l.MaxFlows == 0 || l.MaxDatagram == 0 || l.UDPRate == 0 || l.UDPIdleMS == 0 {
					t.Fatalf("hello_ok limits without the udp ones: %+v", l)
				}
				for i, size := range []int{0, 1, 100, 1300} {
					p := bytes.Repeat([]byte{byte(i + 1)}, size)
					sendDatagram(t, c, binary, 7, echo, p)
					got, ok := nextUDP(t, c).(schemas.UDPData)
					if !ok || got.FlowID != 7 || got.Addr != echo || !bytes.Equal(got.Payload, p) {
						t.Fatalf("%v: echo of %d bytes: %+v", features, size, got)
					}
				}
			}
			if got := testutilGauge(t, w, "httvps_gateway_udp_flows_active"); got != 2 {
				t.Fatalf("udp_flows_active %v, want 2", got)
			}
		})
	}
}

func TestUDPRefusals(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) {
		c.AllowTargets = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.UDPMaxDatagram = 1024
		c.UDPMaxFlows = 2
	})
	echo := testenv.UDPEcho(t)
	c := w.connect(t, schemas.FeatureUDP)
	tests := []struct {
		name  string
		addr  string
		size  int
		code  schemas.ErrorCode
		limit schemas.LimitKind
	}{
		{"oversize", echo, 1025, schemas.CodeLimitReached, schemas.LimitDatagram},
		{"loopback outside the allow list", "127.0.0.2:53", 1, schemas.CodeTargetForbidden, ""},
		{"private range", "10.1.2.3:53", 1, schemas.CodeTargetForbidden, ""},
		{"unresolvable", "no-such-host.invalid:53", 1, schemas.CodeUpstreamUnreachable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sendDatagram(t, c, false, 1, tt.addr, make([]byte, tt.size))
			e, err := c.NextError(udpWait)
			if err != nil {
				t.Fatal(err)
			}
			if e.FlowID == nil || *e.FlowID != 1 || e.StreamID != nil || e.Code != tt.code || e.Limit != tt.limit {
				t.Fatalf("error %+v, want %s %s for flow 1", e, tt.code, tt.limit)
			}
		})
	}
	t.Run("flow cap", func(t *testing.T) {
		sendDatagram(t, c, false, 2, echo, []byte("two"))
		nextUDP(t, c)
		sendDatagram(t, c, false, 3, echo, []byte("three"))
		got, ok := nextUDP(t, c).(schemas.UDPClose)
		if !ok || got.FlowID != 3 || got.Code != schemas.CodeLimitReached || got.Limit != schemas.LimitFlows {
			t.Fatalf("third flow: %+v, want udp_close LIMIT_REACHED udp_flows", got)
		}
		if err := c.Send(schemas.UDPClose{FlowID: 2}); err != nil {
			t.Fatal(err)
		}
		testkitEventually(t, "the closed flow frees its slot", func() bool {
			return testutilGauge(t, w, "httvps_gateway_udp_flows_active") == 1
		})
		sendDatagram(t, c, false, 3, echo, []byte("three again"))
		if got, ok := nextUDP(t, c).(schemas.UDPData); !ok || string(got.Payload) != "three again" {
			t.Fatalf("third flow after a close: %+v", got)
		}
	})
	t.Run("the session goes on", func(t *testing.T) {
		sendDatagram(t, c, false, 1, echo, []byte("still here"))
		if got, ok := nextUDP(t, c).(schemas.UDPData); !ok || string(got.Payload) != "still here" {
			t.Fatalf("after the refusals: %+v", got)
		}
	})
}

func TestUDPOneFlowManyTargets(t *testing.T) {
	// More targets than a flow remembers the policy's answers for, each visited twice, with a
	// forbidden one in between: every reply carries its own source, every refusal is answered.
	const targets = 70
	w := newWorld(t, libevNode, func(c *gateway.Config) {
		c.AllowTargets = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	echoes := make([]string, targets)
	for i := range echoes {
		echoes[i] = testenv.UDPEcho(t)
	}
	c := w.connect(t, schemas.FeatureBinary, schemas.FeatureUDP)
	for round := range 2 {
		for i, echo := range echoes {
			p := []byte(fmt.Sprintf("round %d target %d", round, i))
			sendDatagram(t, c, true, 1, echo, p)
			got, ok := nextUDP(t, c).(schemas.UDPData)
			if !ok || got.FlowID != 1 || got.Addr != echo || !bytes.Equal(got.Payload, p) {
				t.Fatalf("round %d: echo from %s: %+v", round, echo, got)
			}
		}
		sendDatagram(t, c, true, 1, "127.0.0.2:53", []byte("x"))
		e, err := c.NextError(udpWait)
		if err != nil || e.FlowID == nil || *e.FlowID != 1 || e.Code != schemas.CodeTargetForbidden {
			t.Fatalf("round %d: forbidden target: %+v, %v", round, e, err)
		}
	}
}

func TestUDPIdleFlowClosed(t *testing.T) {
	w := newWorld(t, libevNode, func(c *gateway.Config) { c.UDPIdleTimeout = 300 * time.Millisecond })
	echo := testenv.UDPEcho(t)
	c := w.connect(t, schemas.FeatureBinary, schemas.FeatureUDP)
	if c.HelloOK.Limits.UDPIdleMS != 300 {
		t.Fatalf("udp_idle_timeout_ms %d, want 300", c.HelloOK.Limits.UDPIdleMS)
	}
	sendDatagram(t, c, true, 4, echo, []byte("hello"))
	nextUDP(t, c)
	got, ok := nextUDP(t, c).(schemas.UDPClose)
	if !ok || got.FlowID != 4 || got.Code != schemas.CodeIdleTimeout {
		t.Fatalf("idle flow: %+v, want udp_close IDLE_TIMEOUT", got)
	}
	if n := testutilGauge(t, w, "httvps_gateway_udp_flows_active"); n != 0 {
		t.Fatalf("udp_flows_active %v after the idle close", n)
	}
}

func TestUDPRateCap(t *testing.T) {
	const rate, sent = 5, 60
	w := newWorld(t, outlineNode, func(c *gateway.Config) { c.UDPRate = rate })
	echo := testenv.UDPEcho(t)
	c := w.connect(t, schemas.FeatureUDP)
	for i := range sent {
		sendDatagram(t, c, false, 1, echo, []byte(fmt.Sprint(i)))
	}
	echoed := 0
	testkitEventually(t, "every datagram echoed or dropped at the rate cap", func() bool {
		for {
			select {
			case <-c.UDP():
				echoed++
				continue
			default:
			}
			break
		}
		return echoed+int(testutilGauge(t, w, "httvps_gateway_udp_dropped_total")) == sent
	})
	if echoed == sent || echoed < 1 {
		t.Fatalf("%d of %d datagrams echoed at %d per second", echoed, sent, rate)
	}
}

func TestUDPNeedsTheFeature(t *testing.T) {
	w := newWorld(t, outlineNode, nil)
	for _, features := range [][]string{nil, {schemas.FeatureBinary}} {
		c := w.connect(t, features...)
		if c.HelloOK.Limits.MaxFlows != 0 {
			t.Fatalf("features %v: hello_ok has udp limits %+v", features, c.HelloOK.Limits)
		}
		sendDatagram(t, c, false, 1, "127.0.0.1:53", []byte("x"))
		e, err := c.NextError(udpWait)
		if err != nil || e.Code != schemas.CodeProtocolError || e.FlowID != nil {
			t.Fatalf("features %v: %+v, %v; want a session PROTOCOL_ERROR", features, e, err)
		}
	}
}
