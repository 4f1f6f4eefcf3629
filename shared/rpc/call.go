// Package rpc carries HTTVPS request/reply over NATS: typed calls, strict decoding, micro handlers.
package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/nats-io/nats.go"
)

var ErrUnavailable = errors.New("service unavailable")

func Call[Rep any](ctx context.Context, nc *nats.Conn, subject string, req any, timeout time.Duration) (Rep, error) {
	var rep Rep
	data, err := json.Marshal(req)
	if err != nil {
		return rep, fmt.Errorf("rpc %s: encode: %w", subject, err)
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	msg, err := nc.RequestWithContext(ctx, subject, data)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, context.DeadlineExceeded) ||
			errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrConnectionClosed) ||
			errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrConnectionDraining) {
			return rep, fmt.Errorf("rpc %s: %w: %v", subject, ErrUnavailable, err)
		}
		return rep, fmt.Errorf("rpc %s: %w", subject, err)
	}
	if code := msg.Header.Get("Nats-Service-Error-Code"); code != "" {
		re := &schemas.RPCError{}
		if json.Unmarshal(msg.Data, re) != nil || re.Code != schemas.ErrorCode(code) {
			re = &schemas.RPCError{Code: schemas.ErrorCode(code), Message: msg.Header.Get("Nats-Service-Error")}
		}
		return rep, re
	}
	if err := json.Unmarshal(msg.Data, &rep); err != nil {
		return rep, fmt.Errorf("rpc %s: decode reply: %w", subject, err)
	}
	return rep, nil
}

func Decode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &schemas.RPCError{Code: schemas.CodeInvalidArgument, Message: "malformed request: " + err.Error()}
	}
	if dec.More() {
		return &schemas.RPCError{Code: schemas.CodeInvalidArgument, Message: "malformed request: trailing data"}
	}
	return nil
}

func AsRPCError(err error) (*schemas.RPCError, bool) {
	var re *schemas.RPCError
	if errors.As(err, &re) {
		return re, true
	}
	return nil, false
}

func Errorf(code schemas.ErrorCode, format string, args ...any) *schemas.RPCError {
	return &schemas.RPCError{Code: code, Message: fmt.Sprintf(format, args...)}
}
