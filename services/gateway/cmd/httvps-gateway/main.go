// Command httvps-gateway runs the HTTVPS gateway: TLS WebSocket sessions relayed to Outline nodes.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/logging"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "httvps-gateway:", err)
		os.Exit(1)
	}
}

func run() error {
	env := config.FromOS()
	cfg := gateway.LoadConfig(env)
	if err := env.Err(); err != nil {
		return err
	}
	log, err := logging.New(cfg.LogLevel, os.Stderr)
	if err != nil {
		return fmt.Errorf("%s: %w", gateway.EnvLogLevel, err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	nc, err := natsx.Connect(ctx, natsx.ConnectConfig{URL: cfg.NATSURL, Name: "httvps-gateway " + cfg.GatewayID, Auth: cfg.NATSAuth}, log)
	if err != nil {
		return err
	}
	defer nc.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	svc, err := gateway.New(cfg, gateway.Deps{NC: nc, Log: log, Registerer: reg})
	if err != nil {
		return err
	}
	if err := svc.Run(ctx); err != nil {
		return err
	}
	if err := nc.Drain(); err != nil {
		return fmt.Errorf("drain nats: %w", err)
	}
	return nil
}
