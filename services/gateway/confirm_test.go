package gateway_test

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/services/gateway/internal/testenv"
)

var confirmFeatures = []string{schemas.FeatureBinary, schemas.FeatureFlowControl, schemas.FeatureStreamConfirm}

func TestStreamConfirmation(t *testing.T) {
	for _, kind := range []nodeKind{outlineNode, libevNode} {
		t.Run(kind.String(), func(t *testing.T) {
			w := newWorld(t, kind, nil)
			echo := testenv.EchoTarget(t)
			for _, features := range [][]string{confirmFeatures, {schemas.FeatureStreamConfirm}} {
				c := w.connect(t, features...)
				st := c.Open(echo.Addr)
				if err := st.WaitOpened(streamTimeout); err != nil {
					t.Fatalf("%v: %v", features, err)
				}
				if err := echoRoundTrip(c, echo.Addr, []byte("after the confirmation")); err != nil {
					t.Fatalf("%v: %v", features, err)
				}
				if oks, _ := st.Confirmation(); oks != 1 {
					t.Fatalf("%v: %d stream_ok frames, want 1", features, oks)
				}
			}
		})
	}
}

func TestDataBeforeConfirmationFlows(t *testing.T) {
	w := newWorld(t, outlineNode, nil)
	echo := testenv.EchoTarget(t)
	c := w.connect(t, confirmFeatures...)
	data := bytes.Repeat([]byte("spoken first "), 4096)
	st := c.Open(echo.Addr)
	if err := st.Write(data); err != nil {
		t.Fatal(err)
	}
	got, err := st.ReadN(len(data), streamTimeout)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("echo of data sent before stream_ok: %d bytes, %v", len(got), err)
	}
	if oks, early := st.Confirmation(); oks != 1 || early != 0 {
		t.Fatalf("stream_ok frames %d, data bytes before it %d: want 1 and 0", oks, early)
	}
}

func TestSpecClientGetsNoConfirmation(t *testing.T) {
	w := newWorld(t, outlineNode, nil)
	echo := testenv.EchoTarget(t)
	for _, features := range [][]string{nil, {schemas.FeatureBinary, schemas.FeatureFlowControl}} {
		c := w.connect(t, features...)
		st := c.Open(echo.Addr)
		if err := echoRoundTrip(c, echo.Addr, []byte("no stream_ok")); err != nil {
			t.Fatal(err)
		}
		if err := st.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		if _, err := st.WaitClosed(streamTimeout); err != nil {
			t.Fatal(err)
		}
		if oks, _ := st.Confirmation(); oks != 0 {
			t.Fatalf("features %v: %d stream_ok frames, want none", features, oks)
		}
	}
}

func TestConfirmationRefusals(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) {
		c.MaxStreams = 2
		c.AllowTargets = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	echo := testenv.EchoTarget(t)
	tests := []struct {
		name   string
		target string
		code   schemas.ErrorCode
		fault  bool
	}{
		{"forbidden target", "10.1.2.3:80", schemas.CodeTargetForbidden, false},
		{"unresolvable name", "no-such-host.invalid:80", schemas.CodeUpstreamUnreachable, false},
		{"port zero", "127.0.0.1:0", schemas.CodeUpstreamUnreachable, false},
	}
	c := w.connect(t, confirmFeatures...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := c.Open(tt.target)
			code, err := st.WaitClosed(streamTimeout)
			if err != nil || code != tt.code {
				t.Fatalf("close code %q (%v), want %s", code, err, tt.code)
			}
			if oks, _ := st.Confirmation(); oks != 0 {
				t.Fatalf("a refused stream got stream_ok")
			}
		})
	}
	t.Run("too many streams", func(t *testing.T) {
		held := []*testenv.Stream{c.Open(echo.Addr), c.Open(echo.Addr)}
		for _, st := range held {
			if err := st.WaitOpened(streamTimeout); err != nil {
				t.Fatal(err)
			}
		}
		extra := c.Open(echo.Addr)
		if _, err := extra.WaitClosed(streamTimeout); err != nil {
			t.Fatal(err)
		}
		if f := extra.Fault(); f == nil || f.Code != schemas.CodeLimitReached || f.Limit != schemas.LimitStreams {
			t.Fatalf("fault %+v, want LIMIT_REACHED streams", f)
		}
		if oks, _ := extra.Confirmation(); oks != 0 {
			t.Fatal("the refused stream got stream_ok")
		}
		for _, st := range held {
			_ = st.Abort(schemas.CodeUpstreamUnreachable)
		}
		w.waitStreams(t, 0)
	})
	t.Run("duplicate stream id", func(t *testing.T) {
		first := c.OpenID(100, echo.Addr)
		if err := first.WaitOpened(streamTimeout); err != nil {
			t.Fatal(err)
		}
		again := c.OpenID(100, echo.Addr)
		if _, err := again.WaitClosed(streamTimeout); err != nil {
			t.Fatal(err)
		}
		if f := again.Fault(); f == nil || f.Code != schemas.CodeProtocolError {
			t.Fatalf("fault %+v, want PROTOCOL_ERROR", f)
		}
	})
}

func TestConfirmationWaitsForANodeThatTakesTheStream(t *testing.T) {
	w := newWorld(t, outlineNode, nil)
	w.cp.SetNodes(testenv.Region, testenv.DeadNode(t, 2, testenv.Region), testenv.DeadNode(t, 3, testenv.Region))
	echo := testenv.EchoTarget(t)
	c := w.connect(t, confirmFeatures...)
	st := c.Open(echo.Addr)
	code, err := st.WaitClosed(streamTimeout)
	if err != nil || code != schemas.CodeUpstreamUnreachable {
		t.Fatalf("close code %q (%v), want UPSTREAM_UNREACHABLE with every node down", code, err)
	}
	if oks, _ := st.Confirmation(); oks != 0 {
		t.Fatal("stream_ok although no node took the stream")
	}
}

func TestConfirmedStreamToAClosedPortFailsAfterwards(t *testing.T) {
	w := newWorld(t, outlineNode, nil)
	c := w.connect(t, confirmFeatures...)
	st := c.Open(testenv.ClosedAddr(t))
	code, err := st.WaitClosed(streamTimeout)
	if err != nil || code != schemas.CodeUpstreamUnreachable {
		t.Fatalf("close code %q (%v), want UPSTREAM_UNREACHABLE", code, err)
	}
	if oks, _ := st.Confirmation(); oks != 1 {
		t.Fatalf("%d stream_ok frames: the node took the stream, so it is confirmed before the target's failure", oks)
	}
}
