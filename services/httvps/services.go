package httvps

import (
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/httvps/httvps/services/accounts"
	"github.com/httvps/httvps/services/edge"
	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/services/httvps/system"
	noderegistry "github.com/httvps/httvps/services/node-registry"
	usageaggregator "github.com/httvps/httvps/services/usage-aggregator"
	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/natsx"
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

// systemConfig is the all-in-one shape: one copy of every service and one gateway, NATS
// embedded unless HTTVPS_NATS_URL is set, PostgreSQL local unless HTTVPS_DATABASE_URL is.
func systemConfig(c Config, svc serviceConfigs, pgLog io.Writer, outline []system.Node) system.Config {
	host, portStr, _ := net.SplitHostPort(c.NATSListen)
	port, _ := strconv.Atoi(portStr)
	var urls []string
	if c.NATSURL != "" {
		urls = strings.Split(c.NATSURL, ",")
	}
	return system.Config{
		NATSURLs:        urls,
		Embedded:        natsx.EmbeddedConfig{Host: host, Port: port, StoreDir: c.natsStoreDir(), ServerName: "httvps-dev"},
		Streams:         c.Streams,
		DatabaseURL:     c.DatabaseURL,
		Postgres:        system.LocalPostgres{Dir: c.postgresDir(), Port: c.LocalPGPort, Database: localDatabase, Log: pgLog},
		Pool:            c.Pool,
		Copies:          system.Copies{Accounts: 1, NodeRegistry: 1, Aggregator: 1, Edge: 1},
		Accounts:        svc.Accounts,
		NodeRegistry:    svc.NodeRegistry,
		Aggregator:      svc.Aggregator,
		Edge:            svc.Edge,
		Gateways:        []gateway.Config{svc.Gateway},
		Outline:         outline,
		ShutdownTimeout: c.ShutdownTimeout,
	}
}
