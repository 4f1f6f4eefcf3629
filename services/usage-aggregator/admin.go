package usageaggregator

import (
	"context"
	"fmt"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/nats-io/nats.go/micro"
)

// adminHandlers serves the commands schemas gives usage-aggregator, keyed by AdminCommand.Key.
func (s *Service) adminHandlers() map[string]rpc.AdminFunc {
	return map[string]rpc.AdminFunc{
		schemas.ResourceSessions + "." + schemas.VerbList: s.listSessions,
		schemas.ResourceSessions + "." + schemas.VerbGet:  s.getSession,
		schemas.ResourceUsage + "." + schemas.VerbList:    s.listUsage,
		schemas.ResourceUsage + "." + schemas.VerbGet:     s.getUsage,
		schemas.ResourceUsage + "." + schemas.VerbReset:   s.resetUsage,
	}
}

func (s *Service) startAdmin(ctx context.Context) (micro.Service, error) {
	svc, err := micro.AddService(s.nc, micro.Config{
		Name:        schemas.ServiceUsageAggregator,
		Version:     ServiceVersion,
		Description: "HTTVPS sessions and traffic usage: admin commands",
	})
	if err != nil {
		return nil, fmt.Errorf("usage-aggregator: add micro service: %w", err)
	}
	srv := rpc.Server{Ctx: ctx, Log: s.log, Metrics: s.m.rpc, Timeout: s.cfg.RequestTimeout}
	cmds, handlers, err := schemas.BindAdmin(schemas.ServiceUsageAggregator, s.adminHandlers())
	if err != nil {
		_ = svc.Stop()
		return nil, fmt.Errorf("usage-aggregator: %w", err)
	}
	for i, c := range cmds {
		handler := rpc.HandleAdmin(srv, c.EndpointName(), s.countingDBErrors(handlers[i]))
		if err := svc.AddEndpoint(c.EndpointName(), handler, micro.WithEndpointSubject(c.Subject())); err != nil {
			_ = svc.Stop()
			return nil, fmt.Errorf("usage-aggregator: add endpoint %s: %w", c.EndpointName(), err)
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
