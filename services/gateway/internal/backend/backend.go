// Package backend asks the control plane over NATS: device validation and Outline assignment.
package backend

import (
	"context"
	"errors"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/metrics"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/nats-io/nats.go"
)

type Client struct {
	nc      *nats.Conn
	timeout time.Duration
	m       *metrics.Metrics
}

func New(nc *nats.Conn, timeout time.Duration, m *metrics.Metrics) *Client {
	return &Client{nc: nc, timeout: timeout, m: m}
}

// ValidateDevice returns the accepted reply, or the refusal to send to the client.
func (c *Client) ValidateDevice(ctx context.Context, req schemas.ValidateDeviceRequest) (schemas.ValidateDeviceReply, *schemas.RPCError) {
	rep, err := call[schemas.ValidateDeviceReply](ctx, c, metrics.OpValidate, schemas.SubjectValidateDevice, req)
	if err != nil {
		return rep, err
	}
	if !rep.OK {
		return rep, refusal(rep.Error)
	}
	return rep, nil
}

// AssignOutline returns the node for a session, or the refusal to send to the client.
func (c *Client) AssignOutline(ctx context.Context, req schemas.AssignOutlineRequest) (schemas.OutlineAssignment, *schemas.RPCError) {
	rep, err := call[schemas.AssignOutlineReply](ctx, c, metrics.OpAssign, schemas.SubjectAssignOutline, req)
	if err != nil {
		return schemas.OutlineAssignment{}, err
	}
	if !rep.OK || rep.Node == nil {
		return schemas.OutlineAssignment{}, refusal(rep.Error)
	}
	return *rep.Node, nil
}

func call[Rep any](ctx context.Context, c *Client, op, subject string, req any) (Rep, *schemas.RPCError) {
	start := time.Now()
	rep, err := rpc.Call[Rep](ctx, c.nc, subject, req, c.timeout)
	c.m.NATSLatency.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err == nil {
		return rep, nil
	}
	if re, ok := rpc.AsRPCError(err); ok {
		return rep, refusal(re)
	}
	c.m.NATSErrors.WithLabelValues(op).Inc()
	if errors.Is(err, rpc.ErrUnavailable) {
		return rep, &schemas.RPCError{Code: schemas.CodeBackendUnavailable, Message: "the control plane did not answer in time"}
	}
	return rep, &schemas.RPCError{Code: schemas.CodeBackendUnavailable, Message: "the control plane gave an unreadable answer"}
}

// refusal turns a control-plane error into the error a client may see.
func refusal(re *schemas.RPCError) *schemas.RPCError {
	if re == nil {
		return &schemas.RPCError{Code: schemas.CodeBackendUnavailable, Message: "the control plane refused without a reason"}
	}
	switch re.Code {
	case schemas.CodeInternal, schemas.CodeUnauthorized, schemas.CodeNotFound, schemas.CodeConflict, "":
		return &schemas.RPCError{Code: schemas.CodeBackendUnavailable, Message: "the control plane failed"}
	case schemas.CodeInvalidArgument:
		return &schemas.RPCError{Code: schemas.CodeProtocolError, Message: re.Message}
	case schemas.CodeLimitReached:
		out := *re
		if out.Limit == "" {
			out.Limit = schemas.LimitTraffic
		}
		return &out
	}
	out := *re
	return &out
}
