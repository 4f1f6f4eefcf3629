package backend

import (
	"context"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/metrics"
)

// OpenSession claims the session's slot and its first lease, or returns the refusal for the client.
func (c *Client) OpenSession(ctx context.Context, req schemas.SessionOpenRequest) (schemas.SessionOpenReply, *schemas.RPCError) {
	rep, err := call[schemas.SessionOpenReply](ctx, c, metrics.OpSlots, schemas.SlotSubject(schemas.SubjectSessionOpen, req.GatewayID), req)
	if err != nil {
		return rep, err
	}
	if !rep.OK || rep.Lease == nil {
		return rep, refusal(rep.Error)
	}
	return rep, nil
}

// Lease asks for more traffic. A refusal is a *schemas.RPCError; BACKEND_UNAVAILABLE is worth a retry.
func (c *Client) Lease(ctx context.Context, req schemas.LeaseRequest) (schemas.LeaseGrant, error) {
	rep, re := call[schemas.LeaseReply](ctx, c, metrics.OpSlots, schemas.SlotSubject(schemas.SubjectSessionLease, req.GatewayID), req)
	switch {
	case re != nil && re.Code == schemas.CodeBackendUnavailable:
		return schemas.LeaseGrant{}, errRetry{re}
	case re != nil:
		return schemas.LeaseGrant{}, re
	case !rep.OK || rep.Lease == nil:
		return schemas.LeaseGrant{}, refusal(rep.Error)
	}
	return *rep.Lease, nil
}

// CloseSession returns the slot and what the session did not use of its lease.
func (c *Client) CloseSession(ctx context.Context, req schemas.SessionCloseRequest) error {
	if _, re := call[schemas.SlotReply](ctx, c, metrics.OpSlots, schemas.SlotSubject(schemas.SubjectSessionClose, req.GatewayID), req); re != nil {
		return re
	}
	return nil
}

// Keepalive renews the slots of the live sessions and returns those that hold none any more.
func (c *Client) Keepalive(ctx context.Context, req schemas.KeepaliveRequest) ([]string, error) {
	rep, re := call[schemas.KeepaliveReply](ctx, c, metrics.OpSlots, schemas.SlotSubject(schemas.SubjectSessionKeepalive, req.GatewayID), req)
	if re != nil {
		return nil, re
	}
	if !rep.OK {
		return nil, refusal(rep.Error)
	}
	return rep.Unknown, nil
}

// errRetry is a failure to reach the control plane, not an answer.
type errRetry struct{ re *schemas.RPCError }

func (e errRetry) Error() string { return e.re.Error() }
