package wire_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/schemas/wire"
)

func ptr[T any](v T) *T { return &v }

func TestDecodeTextFrames(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want any
	}{
		{"hello", `{"type":"hello","device_id":"d1","access_token":"t","region":"eu-1","client_version":"1.0.0","platform":"android"}`,
			schemas.Hello{Type: schemas.FrameHello, DeviceID: "d1", AccessToken: "t", Region: "eu-1", ClientVersion: "1.0.0", Platform: "android"}},
		{"hello with features", `{"type":"hello","device_id":"d1","access_token":"t","region":"eu-1","features":["binary","flow_control"]}`,
			schemas.Hello{Type: schemas.FrameHello, DeviceID: "d1", AccessToken: "t", Region: "eu-1", Features: []string{"binary", "flow_control"}}},
		{"hello_ok", `{"type":"hello_ok","session_id":"s"}`, schemas.HelloOK{Type: schemas.FrameHelloOK, SessionID: "s"}},
		{"error", `{"type":"error","code":"NO_SUBSCRIPTION"}`, schemas.ErrorFrame{Type: schemas.FrameError, Code: schemas.CodeNoSubscription}},
		{"stream error", `{"type":"error","code":"LIMIT_REACHED","stream_id":7,"limit":"streams"}`,
			schemas.ErrorFrame{Type: schemas.FrameError, Code: schemas.CodeLimitReached, StreamID: ptr(uint32(7)), Limit: schemas.LimitStreams}},
		{"stream_open", `{"type":"stream_open","stream_id":13,"target":"example.com:443"}`,
			schemas.StreamOpen{Type: schemas.FrameStreamOpen, StreamID: 13, Target: "example.com:443"}},
		{"stream_data canonical", `{"type":"stream_data","stream_id":13,"payload":"aGVsbG8="}`,
			schemas.StreamData{Type: schemas.FrameStreamData, StreamID: 13, Payload: []byte("hello")}},
		{"stream_data reordered", `{"payload":"aGVsbG8=", "stream_id":13, "type":"stream_data"}`,
			schemas.StreamData{Type: schemas.FrameStreamData, StreamID: 13, Payload: []byte("hello")}},
		{"stream_data escaped slash", `{"type":"stream_data","stream_id":2,"payload":"\/w=="}`,
			schemas.StreamData{Type: schemas.FrameStreamData, StreamID: 2, Payload: []byte{0xff}}},
		{"stream_data empty payload", `{"type":"stream_data","stream_id":2,"payload":""}`,
			schemas.StreamData{Type: schemas.FrameStreamData, StreamID: 2, Payload: []byte{}}},
		{"stream_close", `{"type":"stream_close","stream_id":13}`, schemas.StreamClose{Type: schemas.FrameStreamClose, StreamID: 13}},
		{"stream_close with code", `{"type":"stream_close","stream_id":13,"code":"UPSTREAM_UNREACHABLE"}`,
			schemas.StreamClose{Type: schemas.FrameStreamClose, StreamID: 13, Code: schemas.CodeUpstreamUnreachable}},
		{"stream_window", `{"type":"stream_window","stream_id":13,"credit":65536}`,
			schemas.StreamWindow{Type: schemas.FrameStreamWindow, StreamID: 13, Credit: 65536}},
		{"stream_ok", `{"type":"stream_ok","stream_id":13}`, schemas.StreamOK{Type: schemas.FrameStreamOK, StreamID: 13}},
		{"ping", `{"type":"ping","id":4}`, schemas.Ping{Type: schemas.FramePing, ID: 4}},
		{"pong", `{"type":"pong"}`, schemas.Pong{Type: schemas.FramePong}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wire.DecodeText([]byte(tt.msg))
			if err != nil {
				t.Fatalf("DecodeText: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestDecodeTextErrors(t *testing.T) {
	tests := []struct {
		name     string
		msg      string
		stream   bool
		streamID uint32
		contains string
	}{
		{"not json", `hello`, false, 0, "malformed JSON"},
		{"truncated", `{"type":"stream_data","stream_id":1,"payload":"aGVs`, false, 0, "malformed JSON"},
		{"no type", `{"stream_id":1}`, false, 0, "no type"},
		{"unknown type", `{"type":"teleport"}`, false, 0, `unknown frame type "teleport"`},
		{"wrong field type", `{"type":"stream_open","stream_id":"x","target":"a:1"}`, false, 0, `field "stream_id"`},
		{"negative stream id", `{"type":"stream_close","stream_id":-1}`, false, 0, `field "stream_id"`},
		{"stream id too large", `{"type":"stream_data","stream_id":4294967296,"payload":""}`, false, 0, `field "stream_id"`},
		{"stream id zero", `{"type":"stream_data","stream_id":0,"payload":""}`, false, 0, "stream 0"},
		{"stream_close without id", `{"type":"stream_close"}`, false, 0, "stream_close has no stream_id"},
		{"stream_ok without id", `{"type":"stream_ok"}`, false, 0, "stream_ok has no stream_id"},
		{"bad base64 canonical", `{"type":"stream_data","stream_id":9,"payload":"!!!!"}`, true, 9, "not valid base64"},
		{"bad base64 reordered", `{"payload":"a","type":"stream_data","stream_id":9}`, true, 9, "not valid base64"},
		{"no payload", `{"type":"stream_data","stream_id":9}`, true, 9, "no payload"},
		{"open without target", `{"type":"stream_open","stream_id":5}`, true, 5, "no target"},
		{"zero credit", `{"type":"stream_window","stream_id":5,"credit":0}`, true, 5, "credit must be positive"},
		{"hello without token", `{"type":"hello","device_id":"d","region":"r"}`, false, 0, "no access_token"},
		{"hello without device", `{"type":"hello","access_token":"t","region":"r"}`, false, 0, "no device_id"},
		{"hello without region", `{"type":"hello","device_id":"d","access_token":"t"}`, false, 0, "no region"},
		{"error without code", `{"type":"error"}`, false, 0, "no code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wire.DecodeText([]byte(tt.msg))
			var we *wire.Error
			if !errors.As(err, &we) {
				t.Fatalf("err = %v, want *wire.Error", err)
			}
			if we.Code != schemas.CodeProtocolError || we.Stream != tt.stream || we.StreamID != tt.streamID {
				t.Fatalf("err = %+v, want PROTOCOL_ERROR stream=%v id=%d", we, tt.stream, tt.streamID)
			}
			if !strings.Contains(we.Message, tt.contains) {
				t.Fatalf("message %q does not contain %q", we.Message, tt.contains)
			}
		})
	}
}

func TestDecodeBinary(t *testing.T) {
	tests := []struct {
		name    string
		msg     []byte
		want    any
		errText string
		stream  bool
	}{
		{"data", wire.AppendBinaryStreamData(nil, 7, []byte("abc")), schemas.StreamData{Type: schemas.FrameStreamData, StreamID: 7, Payload: []byte("abc")}, "", false},
		{"empty data", wire.AppendBinaryStreamData(nil, 7, nil), schemas.StreamData{Type: schemas.FrameStreamData, StreamID: 7, Payload: []byte{}}, "", false},
		{"window", wire.AppendBinaryStreamWindow(nil, 9, 1<<20), schemas.StreamWindow{Type: schemas.FrameStreamWindow, StreamID: 9, Credit: 1 << 20}, "", false},
		{"short", []byte{1, 0, 0}, nil, "shorter than", false},
		{"stream zero", wire.AppendBinaryStreamData(nil, 0, []byte("x")), nil, "stream 0", false},
		{"unknown type", []byte{9, 0, 0, 0, 1}, nil, "unknown binary frame type 0x09", false},
		{"window without credit", []byte{2, 0, 0, 0, 1, 0}, nil, "credit", true},
		{"window zero credit", wire.AppendBinaryStreamWindow(nil, 1, 0), nil, "positive", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wire.DecodeBinary(tt.msg)
			if tt.errText == "" {
				if err != nil || !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("got %#v, %v; want %#v", got, err, tt.want)
				}
				return
			}
			var we *wire.Error
			if !errors.As(err, &we) || we.Code != schemas.CodeProtocolError || we.Stream != tt.stream || !strings.Contains(we.Message, tt.errText) {
				t.Fatalf("err = %v, want PROTOCOL_ERROR containing %q (stream=%v)", err, tt.errText, tt.stream)
			}
		})
	}
}

func TestAppendJSONRoundTrip(t *testing.T) {
	frames := []any{
		schemas.Hello{DeviceID: "d", AccessToken: "t", Region: "r", Features: []string{schemas.FeatureBinary}},
		schemas.HelloOK{SessionID: "s", Features: []string{schemas.FeatureFlowControl}, Limits: &schemas.SessionLimits{MaxStreams: 3, MaxFrameSize: 100, InitialWindow: 9, PingIntervalMS: 1, IdleTimeoutMS: 2}},
		schemas.ErrorFrame{Code: schemas.CodeTargetForbidden, StreamID: ptr(uint32(3)), Message: "no"},
		schemas.StreamOpen{StreamID: 1, Target: "[::1]:80"},
		schemas.StreamData{StreamID: 4294967295, Payload: bytes.Repeat([]byte{0, 1, 2, 255}, 100)},
		schemas.StreamClose{StreamID: 2, Code: schemas.CodeUpstreamUnreachable, Message: "refused"},
		schemas.StreamWindow{StreamID: 2, Credit: 10},
		schemas.StreamOK{StreamID: 7},
		schemas.UDPData{FlowID: 3, Addr: "[2001:db8::1]:53", Payload: []byte{0, 1, 255}},
		schemas.UDPClose{FlowID: 3, Code: schemas.CodeLimitReached, Limit: schemas.LimitFlows, Message: "cap"},
		schemas.ErrorFrame{Code: schemas.CodeTargetForbidden, FlowID: ptr(uint32(5)), Message: "no"},
		schemas.Ping{ID: 1},
		schemas.Pong{ID: 1},
	}
	for _, f := range frames {
		t.Run(reflect.TypeOf(f).Name(), func(t *testing.T) {
			msg, err := wire.AppendJSON(nil, f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := wire.DecodeText(msg)
			if err != nil {
				t.Fatalf("decode %s: %v", msg, err)
			}
			want := withType(f)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip of %s: got %#v, want %#v", msg, got, want)
			}
		})
	}
	if _, err := wire.AppendJSON(nil, struct{}{}); err == nil {
		t.Fatal("AppendJSON accepted a non-frame")
	}
}

func withType(f any) any {
	switch v := f.(type) {
	case schemas.Hello:
		v.Type = schemas.FrameHello
		return v
	case schemas.HelloOK:
		v.Type = schemas.FrameHelloOK
		return v
	case schemas.ErrorFrame:
		v.Type = schemas.FrameError
		return v
	case schemas.StreamOpen:
		v.Type = schemas.FrameStreamOpen
		return v
	case schemas.StreamData:
		v.Type = schemas.FrameStreamData
		return v
	case schemas.StreamClose:
		v.Type = schemas.FrameStreamClose
		return v
	case schemas.StreamWindow:
		v.Type = schemas.FrameStreamWindow
		return v
	case schemas.StreamOK:
		v.Type = schemas.FrameStreamOK
		return v
	case schemas.UDPData:
		v.Type = schemas.FrameUDPData
		return v
	case schemas.UDPClose:
		v.Type = schemas.FrameUDPClose
		return v
	case schemas.Ping:
		v.Type = schemas.FramePing
		return v
	case schemas.Pong:
		v.Type = schemas.FramePong
		return v
	}
	return f
}

func TestMaxStreamDataPayloadFits(t *testing.T) {
	for _, size := range []int{128, 1000, 65536} {
		for _, binary := range []bool{false, true} {
			n := wire.MaxStreamDataPayload(size, binary)
			payload := make([]byte, n)
			var msg []byte
			if binary {
				msg = wire.AppendBinaryStreamData(nil, 4294967295, payload)
			} else {
				msg = wire.AppendStreamDataJSON(nil, 4294967295, payload)
			}
			if len(msg) > size {
				t.Fatalf("size %d binary=%v: payload %d gives a %d-byte message", size, binary, n, len(msg))
			}
		}
	}
}
