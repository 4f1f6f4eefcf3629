package testenv

import (
	"context"
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/nats-io/nats.go/micro"
)

// addSlots answers the usage-aggregator's slot endpoints as for users without limits: every
// session gets its slot and unlimited traffic.
func addSlots(tb testing.TB, svc micro.Service, srv rpc.Server) {
	tb.Helper()
	unlimited := &schemas.LeaseGrant{Unlimited: true}
	endpoints := []struct {
		name, subject string
		h             micro.Handler
	}{
		{"session-open", schemas.SubjectSessionOpen, rpc.Handle(srv, "session-open", func(context.Context, schemas.SessionOpenRequest) (schemas.SessionOpenReply, error) {
			return schemas.SessionOpenReply{OK: true, Lease: unlimited, TTLMS: 30000}, nil
		})},
		{"lease", schemas.SubjectSessionLease, rpc.Handle(srv, "lease", func(context.Context, schemas.LeaseRequest) (schemas.LeaseReply, error) {
			return schemas.LeaseReply{OK: true, Lease: unlimited}, nil
		})},
		{"session-close", schemas.SubjectSessionClose, rpc.Handle(srv, "session-close", func(context.Context, schemas.SessionCloseRequest) (schemas.SlotReply, error) {
			return schemas.SlotReply{OK: true}, nil
		})},
		{"keepalive", schemas.SubjectSessionKeepalive, rpc.Handle(srv, "keepalive", func(context.Context, schemas.KeepaliveRequest) (schemas.KeepaliveReply, error) {
			return schemas.KeepaliveReply{OK: true}, nil
		})},
	}
	for _, e := range endpoints {
		if err := svc.AddEndpoint(e.name, e.h, micro.WithEndpointSubject(schemas.SlotEndpoint(e.subject))); err != nil {
			tb.Fatalf("control plane: %v", err)
		}
	}
}
