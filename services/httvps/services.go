package httvps

import (
	"fmt"

	"github.com/httvps/httvps/services/accounts"
	"github.com/httvps/httvps/services/edge"
	"github.com/httvps/httvps/services/gateway"
	noderegistry "github.com/httvps/httvps/services/node-registry"
	usageaggregator "github.com/httvps/httvps/services/usage-aggregator"
	"github.com/httvps/httvps/shared/config"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

type serviceConfigs struct {
	Accounts     accounts.Config
	NodeRegistry noderegistry.Config
	Aggregator   usageaggregator.Config
	Edge         edge.Config
	Gateway      gateway.Config
	Demo         DemoConfig
}

func loadServiceConfigs(env *config.Env) serviceConfigs {
	return serviceConfigs{
		Accounts:     accounts.LoadConfig(env),
		NodeRegistry: noderegistry.LoadConfig(env),
		Aggregator:   usageaggregator.LoadConfig(env),
		Edge:         edge.LoadConfig(env),
		Gateway:      gateway.LoadConfig(env),
		Demo:         LoadDemoConfig(env),
	}
}

type built struct {
	components []component
	edge       *edge.Service
	gateway    *gateway.Service
	accounts   *accounts.Service
	registries []*prometheus.Registry
}

func (b *built) registry() prometheus.Registerer {
	r := prometheus.NewRegistry()
	b.registries = append(b.registries, r)
	return r
}

func (b *built) gatherers() prometheus.Gatherers {
	g := prometheus.Gatherers{}
	for _, r := range b.registries {
		g = append(g, r)
	}
	return g
}

func buildServices(cfg serviceConfigs, in *infra, log zerolog.Logger) (*built, error) {
	b := &built{}
	reg := b.registry
	var err error
	if b.accounts, err = accounts.New(cfg.Accounts, accounts.Deps{NC: in.nc, DB: in.db, Log: log, Registerer: reg()}); err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	registry, err := noderegistry.New(cfg.NodeRegistry, noderegistry.Deps{NC: in.nc, DB: in.db, Log: log, Registerer: reg()})
	if err != nil {
		return nil, fmt.Errorf("node-registry: %w", err)
	}
	aggregator, err := usageaggregator.New(cfg.Aggregator, usageaggregator.Deps{NC: in.nc, DB: in.db, Log: log, Registerer: reg()})
	if err != nil {
		return nil, fmt.Errorf("usage-aggregator: %w", err)
	}
	if b.edge, err = edge.New(cfg.Edge, edge.Deps{NC: in.nc, Log: log, Registerer: reg()}); err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	if b.gateway, err = gateway.New(cfg.Gateway, gateway.Deps{NC: in.nc, Log: log, Registerer: reg()}); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	b.components = []component{
		{"accounts", b.accounts},
		{"node-registry", registry},
		{"usage-aggregator", aggregator},
		{"edge", b.edge},
		{"gateway", b.gateway},
	}
	return b, nil
}
