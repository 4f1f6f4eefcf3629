package system

import (
	"context"
	"fmt"
	"strconv"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/accounts"
	"github.com/httvps/httvps/services/edge"
	"github.com/httvps/httvps/services/gateway"
	noderegistry "github.com/httvps/httvps/services/node-registry"
	outlineagent "github.com/httvps/httvps/services/outline-agent"
	usageaggregator "github.com/httvps/httvps/services/usage-aggregator"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

type deps struct {
	nc  *nats.Conn
	reg *prometheus.Registry
}

// StartAccounts runs one more copy of accounts and waits until it serves.
func (s *System) StartAccounts(ctx context.Context) (*Unit[*accounts.Service], error) {
	return startUnit(ctx, s, "accounts", &s.accounts, func(d deps) (*accounts.Service, error) {
		return accounts.New(s.cfg.Accounts, accounts.Deps{NC: d.nc, DB: s.db, Log: s.log, Registerer: d.reg})
	}, func(ctx context.Context, u *Unit[*accounts.Service], _ int) error {
		return waitClosed(ctx, u.Service.Ready(), u.Done(), s.cfg.ReadyTimeout)
	})
}

// StartNodeRegistry runs one more copy of node-registry and waits until every live copy
// answers on NATS.
func (s *System) StartNodeRegistry(ctx context.Context) (*Unit[*noderegistry.Service], error) {
	return startUnit(ctx, s, "node-registry", &s.registries, func(d deps) (*noderegistry.Service, error) {
		return noderegistry.New(s.cfg.NodeRegistry, noderegistry.Deps{NC: d.nc, DB: s.db, Log: s.log, Registerer: d.reg})
	}, func(ctx context.Context, u *Unit[*noderegistry.Service], live int) error {
		return waitResponders(ctx, s.nc, schemas.ServiceNodeRegistry, live, u.Done(), s.cfg.ReadyTimeout)
	})
}

// StartAggregator runs one more copy of the usage-aggregator and waits until every live copy
// answers on NATS.
func (s *System) StartAggregator(ctx context.Context) (*Unit[*usageaggregator.Service], error) {
	return startUnit(ctx, s, "usage-aggregator", &s.aggregators, func(d deps) (*usageaggregator.Service, error) {
		return usageaggregator.New(s.cfg.Aggregator, usageaggregator.Deps{NC: d.nc, DB: s.db, Log: s.log, Registerer: d.reg})
	}, func(ctx context.Context, u *Unit[*usageaggregator.Service], live int) error {
		return waitResponders(ctx, s.nc, usageaggregator.ServiceName, live, u.Done(), s.cfg.ReadyTimeout)
	})
}

// StartEdge runs one more copy of the REST edge; its listener is bound on return.
func (s *System) StartEdge(ctx context.Context) (*Unit[*edge.Service], error) {
	return startUnit(ctx, s, "edge", &s.edges, func(d deps) (*edge.Service, error) {
		return edge.New(s.cfg.Edge, edge.Deps{NC: d.nc, Log: s.log, Registerer: d.reg})
	}, nil)
}

// StartGateway runs one more gateway on cfg (its NATS URL is set from the system's); its
// listener is bound on return. Start it again on the same cfg to restart a stopped gateway.
func (s *System) StartGateway(ctx context.Context, cfg gateway.Config) (*Unit[*gateway.Service], error) {
	return startUnit(ctx, s, "gateway", &s.gateways, func(d deps) (*gateway.Service, error) {
		cfg.NATSURL = d.nc.ConnectedUrlRedacted()
		return gateway.New(cfg, gateway.Deps{NC: d.nc, Log: s.log, Registerer: d.reg})
	}, nil)
}

// StartOutlineAgent runs an outline agent for the node cfg names, on its own NATS connection.
func (s *System) StartOutlineAgent(ctx context.Context, cfg outlineagent.Config) (*Unit[*outlineagent.Service], error) {
	return startUnit(ctx, s, "outline-agent", &s.agents, func(d deps) (*outlineagent.Service, error) {
		return outlineagent.New(cfg, outlineagent.Deps{NC: d.nc, Log: s.log, Registerer: d.reg})
	}, nil)
}

func startUnit[S Runner](ctx context.Context, s *System, kind string, list *[]*Unit[S], build func(deps) (S, error), ready func(context.Context, *Unit[S], int) error) (*Unit[S], error) {
	s.mu.Lock()
	copy, live := len(*list), 1
	for _, u := range *list {
		select {
		case <-u.Done():
		default:
			live++
		}
	}
	s.mu.Unlock()
	name := kind + "-" + strconv.Itoa(copy+1)
	nc, err := s.connect(ctx, kind, copy)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	reg := prometheus.NewRegistry()
	svc, err := build(deps{nc: nc, reg: reg})
	if err != nil {
		nc.Close()
		return nil, err
	}
	u := &Unit[S]{Name: name, Service: svc, NC: nc, Registry: reg, timeout: s.cfg.ShutdownTimeout, log: s.log}
	u.run(s.failed)
	s.mu.Lock()
	*list = append(*list, u)
	s.started = append(s.started, u)
	s.mu.Unlock()
	if ready != nil {
		if err := ready(ctx, u, live); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return u, nil
}
