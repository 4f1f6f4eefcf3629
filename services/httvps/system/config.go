// Package system assembles HTTVPS from its services: NATS (the servers given, or an embedded
// JetStream server), PostgreSQL (the database given, or a local cluster), any number of copies
// of accounts, node-registry, usage-aggregator and edge, any number of gateways, and the
// Outline nodes registered with node-registry. The all-in-one command, the end-to-end tests,
// the cluster tests and the benchmark build the system with it.
package system

import (
	"io"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/httvps/httvps/services/accounts"
	"github.com/httvps/httvps/services/edge"
	"github.com/httvps/httvps/services/gateway"
	noderegistry "github.com/httvps/httvps/services/node-registry"
	usageaggregator "github.com/httvps/httvps/services/usage-aggregator"
	"github.com/httvps/httvps/shared/db"
	"github.com/httvps/httvps/shared/natsx"
)

// Copies is how many copies of each control-plane service Start runs (0: none).
type Copies struct {
	Accounts, NodeRegistry, Aggregator, Edge int
}

// Node is an Outline node Start registers (idempotently) in its region.
type Node struct {
	Region, IP       string
	Port             int
	Method, Password string
	MaxSessions      int
}

// LocalPostgres is the cluster Start runs when Config.DatabaseURL is empty.
type LocalPostgres struct {
	Dir      string
	Port     int
	Database string
	Log      io.Writer
}

type Config struct {
	// NATSURLs are the servers every component connects to; copy i of a kind tries URL i mod n
	// first. Empty: an embedded JetStream server on Embedded.
	NATSURLs []string
	// NATSFor, when set and not empty for a unit, are the servers that unit connects to, in
	// order (e.g. a fault-injecting proxy in front of one gateway). kind is "accounts",
	// "node-registry", "usage-aggregator", "edge", "gateway" or "system"; copy counts from 0.
	NATSFor func(kind string, copy int) []string
	// NATSAuth, when set, is the identity a unit connects with (nkey, CA, inbox prefix); kind
	// and copy as for NATSFor, "system" for the builder's own connection.
	NATSAuth     func(kind string, copy int) natsx.Auth
	Embedded     natsx.EmbeddedConfig
	Streams      natsx.StreamsConfig
	DatabaseURL  string
	Postgres     LocalPostgres
	Pool         db.PoolConfig
	Copies       Copies
	Accounts     accounts.Config
	NodeRegistry noderegistry.Config
	Aggregator   usageaggregator.Config
	Edge         edge.Config
	// Gateways are started in this order, each on its own NATS connection.
	Gateways        []gateway.Config
	Outline         []Node
	ReadyTimeout    time.Duration
	ShutdownTimeout time.Duration
}

const (
	// LoopbackRegion is the region of Loopback's gateway.
	LoopbackRegion = "local-1"
	// LoopbackSecret signs access tokens in Loopback systems (tests and benchmarks only).
	LoopbackSecret = "httvps-loopback-secret-key-0123456789abcdef"
	// LoopbackAdminToken and LoopbackNodeToken are the edge's bearer tokens in Loopback systems.
	LoopbackAdminToken = "httvps-loopback-admin-token-0123456789"
	LoopbackNodeToken  = "httvps-loopback-node-token-0123456789"
)

// Loopback is a system on 127.0.0.1 with random ports and its state in dir: embedded NATS, a
// local PostgreSQL cluster, one copy of each control-plane service except the edge, and one
// gateway admitting loopback targets. Callers change what they need before Start.
func Loopback(dir string) Config {
	acc := accounts.DefaultConfig()
	acc.SecretKey = []byte(LoopbackSecret)
	acc.MetricsAddr = ""
	reg := noderegistry.DefaultConfig()
	reg.FetchWait = 100 * time.Millisecond
	reg.MetricsAddr = ""
	agg := usageaggregator.DefaultConfig()
	agg.FetchWait = 100 * time.Millisecond
	agg.MetricsAddr = ""
	ed := edge.DefaultConfig()
	ed.Addr = "127.0.0.1:0"
	ed.AdminToken, ed.NodeToken = LoopbackAdminToken, LoopbackNodeToken
	pool := db.DefaultPool()
	pool.MaxOpenConns, pool.MaxIdleConns = 64, 64
	return Config{
		Embedded:        natsx.EmbeddedConfig{Host: "127.0.0.1", Port: 0, StoreDir: filepath.Join(dir, "nats"), ServerName: "httvps-loopback"},
		Streams:         natsx.DefaultStreams(),
		Postgres:        LocalPostgres{Dir: filepath.Join(dir, "postgres"), Database: "httvps", Log: io.Discard},
		Pool:            pool,
		Copies:          Copies{Accounts: 1, NodeRegistry: 1, Aggregator: 1},
		Accounts:        acc,
		NodeRegistry:    reg,
		Aggregator:      agg,
		Edge:            ed,
		Gateways:        []gateway.Config{LoopbackGateway(filepath.Join(dir, "tls"), "gw-1", LoopbackRegion)},
		ReadyTimeout:    30 * time.Second,
		ShutdownTimeout: 15 * time.Second,
	}
}

// LoopbackGateway is a gateway on 127.0.0.1 (random port) with its self-signed pair in tlsDir,
// 127.0.0.0/8 targets admitted, one-second usage and heartbeat intervals, and no per-address
// session cap or stream_open rate (every client of a loopback test shares 127.0.0.1).
func LoopbackGateway(tlsDir, id, region string) gateway.Config {
	cfg := gateway.DefaultConfig()
	cfg.GatewayID = id
	cfg.Region = region
	cfg.Listen = "127.0.0.1:0"
	cfg.TLSDir = tlsDir
	cfg.Metrics = false
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.UsageInterval = time.Second
	cfg.HeartbeatInterval = time.Second
	cfg.AllowTargets = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	cfg.Protection.PerAddress = 0
	cfg.Protection.StreamOpenRate = 0
	return cfg
}

// WebSocketURL is the address clients dial for a gateway.
func WebSocketURL(g *gateway.Service) string { return "wss://" + g.Addr() + "/ws" }
