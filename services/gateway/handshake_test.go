package gateway_test

import (
	"bytes"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/google/uuid"
	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/services/gateway/internal/testenv"
)

func TestHelloOKNegotiatesFeaturesAndLimits(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) {
		c.MaxStreams = 9
		c.MaxFrameSize = 32 << 10
		c.StreamWindow = 128 << 10
		c.MaxStreamWindow = 1 << 20
		c.SessionWindow = 4 << 20
	})
	tests := []struct {
		name     string
		features []string
		want     []string
		window   int
	}{
		{"spec client", nil, nil, 0},
		{"binary", []string{"binary"}, []string{"binary"}, 0},
		{"both and an unknown one", []string{"flow_control", "telepathy", "binary"}, []string{"binary", "flow_control"}, 128 << 10},
		{"confirmation alone", []string{"stream_confirm"}, []string{"stream_confirm"}, 0},
		{"every feature", []string{"stream_confirm", "flow_control", "binary"}, []string{"binary", "flow_control", "stream_confirm"}, 128 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := w.connect(t, tt.features...)
			ok := c.HelloOK
			if _, err := uuid.Parse(ok.SessionID); err != nil {
				t.Fatalf("session_id %q is not a uuid", ok.SessionID)
			}
			if !slices.Equal(ok.Features, tt.want) {
				t.Fatalf("features = %v, want %v", ok.Features, tt.want)
			}
			want := schemas.SessionLimits{MaxStreams: 9, MaxFrameSize: 32 << 10, InitialWindow: tt.window,
				PingIntervalMS: int(w.gw.Config.PingInterval.Milliseconds()), IdleTimeoutMS: int(w.gw.Config.IdleTimeout.Milliseconds())}
			if tt.window > 0 {
				want.MaxWindow, want.SessionWindow = 1<<20, 4<<20
			}
			if ok.Limits == nil || *ok.Limits != want {
				t.Fatalf("limits = %+v, want %+v", ok.Limits, want)
			}
		})
	}
}

func TestHelloRefusals(t *testing.T) {
	w := newWorld(t, outlineNode, nil)
	w.cp.SetNodes("empty-region")
	refuse := func(id string, code schemas.ErrorCode, limit schemas.LimitKind) {
		w.cp.AddDevice(testenv.Device{ID: id, Token: token, UserID: 5, Refusal: &schemas.RPCError{Code: code, Limit: limit, Message: "refused"}})
	}
	refuse("no-sub", schemas.CodeNoSubscription, "")
	refuse("expired", schemas.CodeSubscriptionExpired, "")
	refuse("banned-device", schemas.CodeDeviceBanned, "")
	refuse("revoked", schemas.CodeDeviceRevoked, "")
	refuse("banned-user", schemas.CodeUserBanned, "")
	refuse("too-many-devices", schemas.CodeDeviceLimitReached, schemas.LimitDevices)
	refuse("over-traffic", schemas.CodeLimitReached, schemas.LimitTraffic)
	tests := []struct {
		name  string
		hello schemas.Hello
		code  schemas.ErrorCode
		limit schemas.LimitKind
	}{
		{"no subscription", schemas.Hello{DeviceID: "no-sub", AccessToken: token, Region: testenv.Region}, schemas.CodeNoSubscription, ""},
		{"subscription expired", schemas.Hello{DeviceID: "expired", AccessToken: token, Region: testenv.Region}, schemas.CodeSubscriptionExpired, ""},
		{"device banned", schemas.Hello{DeviceID: "banned-device", AccessToken: token, Region: testenv.Region}, schemas.CodeDeviceBanned, ""},
		{"device revoked", schemas.Hello{DeviceID: "revoked", AccessToken: token, Region: testenv.Region}, schemas.CodeDeviceRevoked, ""},
		{"user banned", schemas.Hello{DeviceID: "banned-user", AccessToken: token, Region: testenv.Region}, schemas.CodeUserBanned, ""},
		{"device limit", schemas.Hello{DeviceID: "too-many-devices", AccessToken: token, Region: testenv.Region}, schemas.CodeDeviceLimitReached, schemas.LimitDevices},
		{"traffic limit", schemas.Hello{DeviceID: "over-traffic", AccessToken: token, Region: testenv.Region}, schemas.CodeLimitReached, schemas.LimitTraffic},
		{"device not found", schemas.Hello{DeviceID: "ghost", AccessToken: token, Region: testenv.Region}, schemas.CodeDeviceNotFound, ""},
		{"invalid token", schemas.Hello{DeviceID: deviceID, AccessToken: "wrong", Region: testenv.Region}, schemas.CodeInvalidToken, ""},
		{"region unknown", schemas.Hello{DeviceID: deviceID, AccessToken: token, Region: "mars-1"}, schemas.CodeRegionUnknown, ""},
		{"no capacity", schemas.Hello{DeviceID: deviceID, AccessToken: token, Region: "empty-region"}, schemas.CodeNoCapacity, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, refusal := testenv.Connect(t, w.gw, tt.hello)
			if refusal == nil {
				t.Fatal("hello was accepted")
			}
			if refusal.Code != tt.code || refusal.Limit != tt.limit || refusal.StreamID != nil {
				t.Fatalf("refusal = %+v, want code %s limit %q", *refusal, tt.code, tt.limit)
			}
		})
	}
}

func TestHelloBackendUnavailable(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) { c.RequestTimeout = 300 * time.Millisecond })
	w.cp.Stop()
	_, refusal := testenv.Connect(t, w.gw, hello())
	if refusal == nil || refusal.Code != schemas.CodeBackendUnavailable {
		t.Fatalf("refusal = %+v, want BACKEND_UNAVAILABLE", refusal)
	}
}

func TestHelloTimeout(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) { c.HelloTimeout = 200 * time.Millisecond })
	conn := testenv.Dial(t, w.gw)
	frame, err := testenv.ReadFrame(t, conn, 5*time.Second)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if e, ok := frame.(schemas.ErrorFrame); !ok || e.Code != schemas.CodeHelloTimeout {
		t.Fatalf("frame = %#v, want error HELLO_TIMEOUT", frame)
	}
	expectClosed(t, conn)
}

func TestBadFirstFrames(t *testing.T) {
	w := newWorld(t, outlineNode, func(c *gateway.Config) { c.MaxFrameSize = 4 << 10 })
	tests := []struct {
		name  string
		kind  int
		msg   []byte
		code  schemas.ErrorCode
		limit schemas.LimitKind
	}{
		{"data before hello", websocket.TextMessage, wire.AppendStreamDataJSON(nil, 1, []byte("x")), schemas.CodeProtocolError, ""},
		{"open before hello", websocket.TextMessage, []byte(`{"type":"stream_open","stream_id":1,"target":"127.0.0.1:1"}`), schemas.CodeProtocolError, ""},
		{"binary before hello", websocket.BinaryMessage, wire.AppendBinaryStreamData(nil, 1, []byte("x")), schemas.CodeProtocolError, ""},
		{"not json", websocket.TextMessage, []byte("hello gateway"), schemas.CodeProtocolError, ""},
		{"unknown type", websocket.TextMessage, []byte(`{"type":"knock"}`), schemas.CodeProtocolError, ""},
		{"hello without token", websocket.TextMessage, []byte(`{"type":"hello","device_id":"d","region":"r"}`), schemas.CodeProtocolError, ""},
		{"hello too large", websocket.TextMessage, append([]byte(`{"type":"hello","device_id":"`), bytes.Repeat([]byte("x"), 5<<10)...), schemas.CodeLimitReached, schemas.LimitFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := testenv.Dial(t, w.gw)
			if err := conn.WriteMessage(tt.kind, tt.msg); err != nil {
				t.Fatal(err)
			}
			frame, err := testenv.ReadFrame(t, conn, 5*time.Second)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			e, ok := frame.(schemas.ErrorFrame)
			if !ok || e.Code != tt.code || e.Limit != tt.limit || e.Message == "" {
				t.Fatalf("frame = %#v, want error %s limit %q with a message", frame, tt.code, tt.limit)
			}
			expectClosed(t, conn)
		})
	}
}

func expectClosed(t testing.TB, conn *websocket.Conn) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := conn.ReadMessage()
	var netErr net.Error
	switch {
	case err == nil:
		t.Fatalf("connection still open, got %s", msg)
	case errors.As(err, &netErr) && netErr.Timeout():
		t.Fatalf("connection not closed within 5s")
	}
}
