package usageaggregator

import (
	"context"
	"fmt"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/nats-io/nats.go/micro"
)

type adminEndpoint struct {
	name     string
	resource string
	verb     string
	fn       rpc.AdminFunc
}

func (s *Service) adminEndpoints() []adminEndpoint {
	return []adminEndpoint{
		{"sessions-list", schemas.ResourceSessions, schemas.VerbList, s.listSessions},
		{"sessions-get", schemas.ResourceSessions, schemas.VerbGet, s.getSession},
		{"usage-list", schemas.ResourceUsage, schemas.VerbList, s.listUsage},
		{"usage-get", schemas.ResourceUsage, schemas.VerbGet, s.getUsage},
	}
}

func (s *Service) startAdmin(ctx context.Context) (micro.Service, error) {
	svc, err := micro.AddService(s.nc, micro.Config{
		Name:        ServiceName,
		Version:     ServiceVersion,
		Description: "HTTVPS sessions and traffic usage: admin commands",
	})
	if err != nil {
		return nil, fmt.Errorf("usage-aggregator: add micro service: %w", err)
	}
	srv := rpc.Server{Ctx: ctx, Log: s.log, Metrics: s.m.rpc, Timeout: s.cfg.RequestTimeout}
	for _, e := range s.adminEndpoints() {
		handler := rpc.HandleAdmin(srv, e.name, s.countingDBErrors(e.fn))
		if err := svc.AddEndpoint(e.name, handler, micro.WithEndpointSubject(schemas.AdminSubject(e.resource, e.verb))); err != nil {
			_ = svc.Stop()
			return nil, fmt.Errorf("usage-aggregator: add endpoint %s: %w", e.name, err)
		}
	}
	if err := s.nc.Flush(); err != nil {
		return nil, fmt.Errorf("usage-aggregator: flush endpoints: %w", err)
	}
	return svc, nil
}

func (s *Service) countingDBErrors(fn rpc.AdminFunc) rpc.AdminFunc {
	return func(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
		data, total, err := fn(ctx, req)
		if _, ok := rpc.AsRPCError(err); err != nil && !ok {
			s.m.dbErrors.WithLabelValues(opAdmin).Inc()
		}
		return data, total, err
	}
}
