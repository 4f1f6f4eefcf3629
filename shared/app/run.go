package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/httvps/httvps/shared/db"
	"github.com/httvps/httvps/shared/logging"
	"github.com/httvps/httvps/shared/natsx"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"github.com/uptrace/bun"
)

type Runner interface {
	Run(ctx context.Context) error
}

type Resources struct {
	Log      zerolog.Logger
	NC       *nats.Conn
	DB       *bun.DB
	Registry *prometheus.Registry
}

func Run(p Process, build func(r Resources) (Runner, error)) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log, err := logging.New(p.LogLevel, os.Stderr)
	if err != nil {
		return fmt.Errorf("%s: %w", EnvLogLevel, err)
	}
	res := Resources{Log: log, Registry: prometheus.NewRegistry()}
	res.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	startCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	res.NC, err = natsx.Connect(startCtx, natsx.ConnectConfig{URL: p.NATSURL, Name: p.Name, Auth: p.NATSAuth}, log)
	if err != nil {
		return fmt.Errorf("%s: %w", EnvNATSURL, err)
	}
	defer CloseNATS(res.NC, p.ShutdownTimeout, log)
	if p.DatabaseURL != "" {
		res.DB, err = db.Open(startCtx, p.DatabaseURL, db.DefaultPool())
		if err != nil {
			return fmt.Errorf("%s: %w", EnvDatabaseURL, err)
		}
		defer res.DB.Close()
	}
	svc, err := build(res)
	if err != nil {
		return err
	}
	metricsErr := make(chan error, 1)
	if p.MetricsAddr != "" {
		srv, err := ServeMetrics(p.MetricsAddr, promhttp.HandlerFor(res.Registry, promhttp.HandlerOpts{Registry: res.Registry}), metricsErr)
		if err != nil {
			return fmt.Errorf("%s: %w", EnvMetricsAddr, err)
		}
		log.Info().Str(logging.FieldAddr, srv.Addr).Msg("serving /metrics")
		defer ShutdownHTTP(srv, p.ShutdownTimeout)
	}
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	done := make(chan error, 1)
	go func() { done <- svc.Run(runCtx) }()
	select {
	case err := <-done:
		return err
	case err := <-metricsErr:
		cancelRun()
		return errors.Join(err, <-done)
	}
}

func ServeMetrics(addr string, h http.Handler, errs chan<- error) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	srv := &http.Server{Addr: ln.Addr().String(), Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("metrics on %s: %w", addr, err)
		}
	}()
	return srv, nil
}

func ShutdownHTTP(srv *http.Server, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

func CloseNATS(nc *nats.Conn, timeout time.Duration, log zerolog.Logger) {
	if err := nc.Drain(); err != nil {
		log.Warn().Err(err).Msg("nats drain")
		nc.Close()
		return
	}
	deadline := time.Now().Add(timeout)
	for !nc.IsClosed() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	nc.Close()
}
