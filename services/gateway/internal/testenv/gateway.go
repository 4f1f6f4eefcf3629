package testenv

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	Region    = "test-1"
	GatewayID = "gw-test"
)

// Gateway is a running gateway service.
type Gateway struct {
	Svc      *gateway.Service
	Config   gateway.Config
	NC       *nats.Conn
	Registry *prometheus.Registry
	cancel   context.CancelFunc
	done     chan error
	stopped  bool
	stopErr  error
}

// TestConfig is a gateway config for tests: 127.0.0.1 on a random port, a self-signed pair in
// a temporary directory, loopback targets admitted and short intervals.
func TestConfig(tb testing.TB, natsURL string) gateway.Config {
	cfg := gateway.DefaultConfig()
	cfg.GatewayID = GatewayID
	cfg.Region = Region
	cfg.Listen = "127.0.0.1:0"
	cfg.TLSDir = tb.TempDir()
	cfg.NATSURL = natsURL
	cfg.RequestTimeout = 2 * time.Second
	cfg.HelloTimeout = 5 * time.Second
	cfg.DialTimeout = 2 * time.Second
	cfg.UsageInterval = 100 * time.Millisecond
	cfg.HeartbeatInterval = 200 * time.Millisecond
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.AllowTargets = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	return cfg
}

// StartGateway runs a gateway with TestConfig changed by mutate, on its own NATS connection.
func StartGateway(tb testing.TB, natsURL string, mutate func(*gateway.Config)) *Gateway {
	tb.Helper()
	cfg := TestConfig(tb, natsURL)
	if mutate != nil {
		mutate(&cfg)
	}
	log := testkit.Logger(tb)
	nc, err := natsx.Connect(context.Background(), natsx.ConnectConfig{URL: natsURL, Name: "gateway-under-test", ReconnectWait: 50 * time.Millisecond, Auth: cfg.NATSAuth}, log)
	if err != nil {
		tb.Fatalf("gateway nats: %v", err)
	}
	reg := prometheus.NewRegistry()
	svc, err := gateway.New(cfg, gateway.Deps{NC: nc, Log: log, Registerer: reg})
	if err != nil {
		nc.Close()
		tb.Fatalf("gateway.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &Gateway{Svc: svc, Config: cfg, NC: nc, Registry: reg, cancel: cancel, done: make(chan error, 1)}
	go func() { g.done <- svc.Run(ctx) }()
	tb.Cleanup(func() {
		g.Stop(tb)
		nc.Close()
	})
	return g
}

// Stop cancels the gateway and waits for Run to return its error.
func (g *Gateway) Stop(tb testing.TB) error {
	tb.Helper()
	if g.stopped {
		return g.stopErr
	}
	g.stopped = true
	g.cancel()
	select {
	case g.stopErr = <-g.done:
	case <-time.After(2 * g.Config.ShutdownTimeout):
		tb.Fatalf("gateway did not stop within %s", 2*g.Config.ShutdownTimeout)
	}
	return g.stopErr
}

// URL is the WebSocket URL of the gateway.
func (g *Gateway) URL() string { return "wss://" + g.Svc.Addr() + "/ws" }
