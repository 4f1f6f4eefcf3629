package wire

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/httvps/httvps/schemas"
)

// DecodeText decodes a JSON text message into one of the frame values of package schemas
// (schemas.Hello, schemas.StreamData, ...). Errors are *Error.
func DecodeText(msg []byte) (any, error) {
	if frame, ok, err := decodeStreamDataFast(msg); ok {
		if err != nil {
			return nil, err
		}
		return frame, nil
	}
	var probe struct {
		Type *schemas.FrameType `json:"type"`
	}
	if err := json.Unmarshal(msg, &probe); err != nil {
		return nil, malformed(err)
	}
	if probe.Type == nil {
		return nil, protocolError("frame has no type")
	}
	switch *probe.Type {
	case schemas.FrameHello:
		return decodeHello(msg)
	case schemas.FrameHelloOK:
		return decodeHelloOK(msg)
	case schemas.FrameError:
		return decodeError(msg)
	case schemas.FrameStreamOpen:
		return decodeStreamOpen(msg)
	case schemas.FrameStreamData:
		return decodeStreamData(msg)
	case schemas.FrameStreamClose:
		return decodeStream(msg, *probe.Type, func(f schemas.StreamClose) uint32 { return f.StreamID })
	case schemas.FrameStreamWindow:
		return decodeStreamWindow(msg)
	case schemas.FrameStreamOK:
		return decodeStream(msg, *probe.Type, func(f schemas.StreamOK) uint32 { return f.StreamID })
	case schemas.FrameUDPData:
		return decodeUDPData(msg)
	case schemas.FrameUDPClose:
		return decodeUDPClose(msg)
	case schemas.FramePing:
		return decodeAny[schemas.Ping](msg)
	case schemas.FramePong:
		return decodeAny[schemas.Pong](msg)
	default:
		return nil, protocolError("unknown frame type %q", truncate(string(*probe.Type)))
	}
}

func decodeInto[T any](msg []byte) (T, error) {
	var f T
	if err := json.Unmarshal(msg, &f); err != nil {
		return f, malformed(err)
	}
	return f, nil
}

func decodeAny[T any](msg []byte) (any, error) {
	f, err := decodeInto[T](msg)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func decodeStream[T any](msg []byte, name schemas.FrameType, id func(T) uint32) (any, error) {
	f, err := decodeInto[T](msg)
	if err != nil {
		return nil, err
	}
	if id(f) == 0 {
		return nil, protocolError("%s has no stream_id (stream ids start at 1)", name)
	}
	return f, nil
}

func decodeHello(msg []byte) (any, error) {
	f, err := decodeInto[schemas.Hello](msg)
	if err != nil {
		return nil, err
	}
	switch {
	case f.DeviceID == "":
		return nil, protocolError("hello has no device_id")
	case f.AccessToken == "":
		return nil, protocolError("hello has no access_token")
	case f.Region == "":
		return nil, protocolError("hello has no region")
	}
	return f, nil
}

func decodeHelloOK(msg []byte) (any, error) {
	f, err := decodeInto[schemas.HelloOK](msg)
	if err != nil {
		return nil, err
	}
	if f.SessionID == "" {
		return nil, protocolError("hello_ok has no session_id")
	}
	return f, nil
}

func decodeError(msg []byte) (any, error) {
	f, err := decodeInto[schemas.ErrorFrame](msg)
	if err != nil {
		return nil, err
	}
	if f.Code == "" {
		return nil, protocolError("error frame has no code")
	}
	return f, nil
}

func decodeStreamOpen(msg []byte) (any, error) {
	v, err := decodeStream(msg, schemas.FrameStreamOpen, func(f schemas.StreamOpen) uint32 { return f.StreamID })
	if err != nil {
		return nil, err
	}
	f := v.(schemas.StreamOpen)
	if f.Target == "" {
		return nil, streamError(f.StreamID, "stream_open has no target (host:port)")
	}
	return f, nil
}

func decodeStreamData(msg []byte) (any, error) {
	var f struct {
		StreamID uint32  `json:"stream_id"`
		Payload  *string `json:"payload"`
	}
	if err := json.Unmarshal(msg, &f); err != nil {
		return nil, malformed(err)
	}
	if f.StreamID == 0 {
		return nil, protocolError("stream_data has no stream_id (stream ids start at 1)")
	}
	if f.Payload == nil {
		return nil, streamError(f.StreamID, "stream_data has no payload")
	}
	payload, err := decodePayload(f.StreamID, []byte(*f.Payload))
	if err != nil {
		return nil, err
	}
	return schemas.StreamData{Type: schemas.FrameStreamData, StreamID: f.StreamID, Payload: payload}, nil
}

func decodeStreamWindow(msg []byte) (any, error) {
	v, err := decodeStream(msg, schemas.FrameStreamWindow, func(f schemas.StreamWindow) uint32 { return f.StreamID })
	if err != nil {
		return nil, err
	}
	f := v.(schemas.StreamWindow)
	if f.Credit == 0 {
		return nil, streamError(f.StreamID, "stream_window credit must be positive")
	}
	return f, nil
}

func malformed(err error) *Error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return protocolError("field %q: %s is not a valid %s", typeErr.Field, typeErr.Value, typeErr.Type)
	}
	return protocolError("malformed JSON frame: %v", err)
}

func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// AppendJSON appends the JSON text message of a frame value of package schemas, filling in its
// type. stream_data takes the fast path.
func AppendJSON(dst []byte, frame any) ([]byte, error) {
	var v any
	switch f := frame.(type) {
	case schemas.StreamData:
		return AppendStreamDataJSON(dst, f.StreamID, f.Payload), nil
	case schemas.Hello:
		f.Type = schemas.FrameHello
		v = f
	case schemas.HelloOK:
		f.Type = schemas.FrameHelloOK
		v = f
	case schemas.ErrorFrame:
		f.Type = schemas.FrameError
		v = f
	case schemas.StreamOpen:
		f.Type = schemas.FrameStreamOpen
		v = f
	case schemas.StreamClose:
		f.Type = schemas.FrameStreamClose
		v = f
	case schemas.StreamWindow:
		f.Type = schemas.FrameStreamWindow
		v = f
	case schemas.StreamOK:
		f.Type = schemas.FrameStreamOK
		v = f
	case schemas.UDPData:
		f.Type = schemas.FrameUDPData
		v = f
	case schemas.UDPClose:
		f.Type = schemas.FrameUDPClose
		v = f
	case schemas.Ping:
		f.Type = schemas.FramePing
		v = f
	case schemas.Pong:
		f.Type = schemas.FramePong
		v = f
	default:
		return dst, fmt.Errorf("wire: %T is not a frame", frame)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return dst, fmt.Errorf("wire: encode %T: %w", frame, err)
	}
	return append(dst, b...), nil
}
