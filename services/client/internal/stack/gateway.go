package stack

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/httvps/httvps/services/gateway"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// GatewayConfig is a gateway on 127.0.0.1 (random port unless listen is given) with its
// self-signed pair in tlsDir and loopback targets admitted.
func GatewayConfig(region, listen, tlsDir, natsURL string) gateway.Config {
	cfg := gateway.DefaultConfig()
	cfg.GatewayID = "gw-client-" + region
	cfg.Region = region
	cfg.Listen = listen
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	cfg.TLSDir = tlsDir
	cfg.NATSURL = natsURL
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.UsageInterval = time.Second
	cfg.HeartbeatInterval = time.Second
	cfg.AllowTargets = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	return cfg
}

// Gateway is a gateway service running in this process.
type Gateway struct {
	Svc    *gateway.Service
	cancel context.CancelFunc
	once   sync.Once
	err    error
	done   chan struct{}
}

func StartGateway(cfg gateway.Config, nc *nats.Conn, log zerolog.Logger) (*Gateway, error) {
	svc, err := gateway.New(cfg, gateway.Deps{NC: nc, Log: log, Registerer: prometheus.NewRegistry()})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &Gateway{Svc: svc, cancel: cancel, done: make(chan struct{})}
	go func() {
		g.err = svc.Run(ctx)
		close(g.done)
	}()
	return g, nil
}

// URL is the gateway's WebSocket URL.
func (g *Gateway) URL() string { return "wss://" + g.Svc.Addr() + "/ws" }

// Stop shuts the gateway down (sessions end with GATEWAY_SHUTDOWN) and returns Run's error.
func (g *Gateway) Stop() error {
	g.once.Do(func() {
		g.cancel()
		<-g.done
	})
	return g.err
}
