// Command httvps-edge serves the /api/v1 REST edge of HTTVPS.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/httvps/httvps/services/edge"
	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/logging"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "httvps-edge:", err)
		os.Exit(1)
	}
}

func run() error {
	env := config.FromOS()
	logLevel := env.String("HTTVPS_LOG_LEVEL", "info")
	natsURL := env.String("HTTVPS_NATS_URL", "nats://127.0.0.1:4222")
	metricsAddr := env.HostPort("HTTVPS_EDGE_METRICS_ADDR", "127.0.0.1:9105")
	cfg := edge.LoadConfig(env)
	if err := env.Err(); err != nil {
		return err
	}
	log, err := logging.New(logLevel, os.Stderr)
	if err != nil {
		return fmt.Errorf("HTTVPS_LOG_LEVEL: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	nc, err := natsx.Connect(ctx, natsx.ConnectConfig{URL: natsURL, Name: "httvps-edge"}, log)
	if err != nil {
		return err
	}
	defer nc.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	svc, err := edge.New(cfg, edge.Deps{NC: nc, Log: log, Registerer: reg})
	if err != nil {
		return err
	}

	metrics := &http.Server{Addr: metricsAddr, Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := metrics.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Str(logging.FieldAddr, metricsAddr).Msg("metrics server")
		}
	}()
	defer metrics.Close()

	if err := svc.Run(ctx); err != nil {
		return err
	}
	if err := nc.Drain(); err != nil {
		return fmt.Errorf("drain nats: %w", err)
	}
	return nil
}
