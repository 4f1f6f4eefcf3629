package noderegistry

import (
	"context"
	"fmt"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/rpc"
	"github.com/nats-io/nats.go/micro"
)

const endpointAssignOutline = "assign-outline"

// adminHandlers serves the commands schemas gives node-registry, keyed by AdminCommand.Key.
func (s *Service) adminHandlers() map[string]rpc.AdminFunc {
	return map[string]rpc.AdminFunc{
		schemas.ResourceRegions + "." + schemas.VerbCreate:         s.createRegion,
		schemas.ResourceRegions + "." + schemas.VerbList:           s.listRegions,
		schemas.ResourceRegions + "." + schemas.VerbGet:            s.getRegion,
		schemas.ResourceOutlineNodes + "." + schemas.VerbCreate:    s.createOutlineNode,
		schemas.ResourceOutlineNodes + "." + schemas.VerbList:      s.listOutlineNodes,
		schemas.ResourceOutlineNodes + "." + schemas.VerbGet:       s.getOutlineNode,
		schemas.ResourceOutlineNodes + "." + schemas.VerbSetStatus: s.setOutlineNodeStatus,
		schemas.ResourceGatewayNodes + "." + schemas.VerbCreate:    s.createGatewayNode,
		schemas.ResourceGatewayNodes + "." + schemas.VerbList:      s.listGatewayNodes,
		schemas.ResourceGatewayNodes + "." + schemas.VerbGet:       s.getGatewayNode,
		schemas.ResourceGatewayNodes + "." + schemas.VerbSetStatus: s.setGatewayNodeStatus,
	}
}

func (s *Service) startMicro(ctx context.Context, pool *rpc.Pool) (micro.Service, error) {
	svc, err := micro.AddService(s.nc, micro.Config{
		Name:        schemas.ServiceNodeRegistry,
		Version:     Version,
		Description: "HTTVPS node registry: regions, outline and gateway nodes, outline assignment",
	})
	if err != nil {
		return nil, fmt.Errorf("node-registry: add micro service: %w", err)
	}
	server := rpc.Server{
		Ctx:     context.WithoutCancel(ctx),
		Log:     s.log,
		Metrics: s.metrics.rpc,
		Timeout: s.cfg.RequestTimeout,
	}
	if err := svc.AddEndpoint(endpointAssignOutline, pool.Wrap(rpc.Handle(server, endpointAssignOutline, s.assignOutline)),
		micro.WithEndpointSubject(schemas.SubjectAssignOutline)); err != nil {
		_ = svc.Stop()
		return nil, fmt.Errorf("node-registry: endpoint %s: %w", endpointAssignOutline, err)
	}
	cmds, handlers, err := schemas.BindAdmin(schemas.ServiceNodeRegistry, s.adminHandlers())
	if err != nil {
		_ = svc.Stop()
		return nil, fmt.Errorf("node-registry: %w", err)
	}
	for i, c := range cmds {
		name := c.EndpointName()
		if err := svc.AddEndpoint(name, pool.Wrap(rpc.HandleAdmin(server, name, handlers[i])),
			micro.WithEndpointSubject(c.Subject())); err != nil {
			_ = svc.Stop()
			return nil, fmt.Errorf("node-registry: endpoint %s: %w", name, err)
		}
	}
	if err := s.nc.Flush(); err != nil {
		return nil, fmt.Errorf("node-registry: flush endpoints: %w", err)
	}
	return svc, nil
}
