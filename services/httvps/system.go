package httvps

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/httvps/httvps/services/httvps/system"
	"github.com/httvps/httvps/shared/app"
	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/logging"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

const seedWait = 30 * time.Second

// System is a running all-in-one HTTVPS; Main runs one until ctx ends, tests drive it directly.
type System struct {
	Config     Config
	Services   serviceConfigs
	Secrets    map[string]string
	log        zerolog.Logger
	pgLog      *os.File
	sys        *system.System
	demo       *demo
	metrics    *http.Server
	metricsErr chan error
	stopOnce   sync.Once
	stopErr    error
}

func Main(ctx context.Context, lookup func(string) (string, bool), out, errOut io.Writer) error {
	sys, err := Start(ctx, lookup, errOut)
	if err != nil {
		return err
	}
	printBanner(out, sys)
	var runErr error
	select {
	case <-ctx.Done():
		sys.log.Info().Msg("shutting down")
	case runErr = <-sys.sys.Failed():
		sys.log.Error().Err(runErr).Msg("a component failed, shutting down")
	case runErr = <-sys.metricsErr:
		sys.log.Error().Err(runErr).Msg("metrics endpoint failed, shutting down")
	}
	if err := sys.Stop(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

func Start(ctx context.Context, lookup func(string) (string, bool), errOut io.Writer) (*System, error) {
	dataDir := config.New(lookup).String(EnvDataDir, ".data")
	secrets, err := loadDevSecrets(dataDir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvDataDir, err)
	}
	env := config.New(layered(lookup, devDefaults(dataDir, secrets)))
	sys := &System{Config: LoadConfig(env), Services: loadServiceConfigs(env), Secrets: secrets, metricsErr: make(chan error, 1)}
	if err := env.Err(); err != nil {
		return nil, err
	}
	if sys.log, err = logging.New(sys.Config.LogLevel, errOut); err != nil {
		return nil, fmt.Errorf("%s: %w", EnvLogLevel, err)
	}
	if sys.pgLog, err = openPostgresLog(sys.Config.DataDir); err != nil {
		return nil, err
	}
	if err := sys.start(ctx); err != nil {
		_ = sys.Stop()
		return nil, err
	}
	return sys, nil
}

func (sys *System) start(ctx context.Context) error {
	var outline []system.Node
	if d := sys.Services.Demo; d.Enabled {
		var err error
		if sys.demo, err = startDemo(d); err != nil {
			return err
		}
		a := sys.demo.outline.Addr()
		outline = append(outline, system.Node{Region: d.Region, IP: a.IP.String(), Port: a.Port, Method: d.OutlineMethod, Password: d.OutlinePassword, MaxSessions: 1000})
	}
	s, err := system.Start(ctx, systemConfig(sys.Config, sys.Services, sys.pgLog, outline), sys.log)
	if err != nil {
		return infraError(sys.Config, err)
	}
	sys.sys = s
	if sys.demo != nil {
		if err := sys.demo.startAgent(ctx, s, outline[0], sys.Services.NodeRegistry.HeartbeatInterval); err != nil {
			return err
		}
	}
	if sys.metrics, err = sys.serveMetrics(); err != nil {
		return err
	}
	if sys.demo != nil {
		if err := sys.demo.seedWithRetry(ctx, s.Admin(), seedWait); err != nil {
			return err
		}
	}
	return nil
}

func (sys *System) serveMetrics() (*http.Server, error) {
	if sys.Config.MetricsAddr == "" {
		return nil, nil
	}
	process := prometheus.NewRegistry()
	process.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	gatherers := append(prometheus.Gatherers{process}, sys.sys.Gatherers()...)
	srv, err := app.ServeMetrics(sys.Config.MetricsAddr, promhttp.HandlerFor(gatherers, promhttp.HandlerOpts{}), sys.metricsErr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvMetricsAddr, err)
	}
	return srv, nil
}

func (sys *System) Stop() error {
	sys.stopOnce.Do(func() { sys.stopErr = sys.stop() })
	return sys.stopErr
}

func (sys *System) stop() error {
	var err error
	if sys.sys != nil {
		err = sys.sys.Stop()
	}
	if sys.metrics != nil {
		app.ShutdownHTTP(sys.metrics, time.Second)
	}
	if sys.demo != nil {
		sys.demo.Close()
	}
	if sys.pgLog != nil {
		_ = sys.pgLog.Close()
	}
	return err
}

func devDefaults(dataDir string, secrets map[string]string) map[string]string {
	d := map[string]string{
		config.EnvMode:                 config.ModeDevelopment,
		"HTTVPS_GATEWAY_LISTEN":        "127.0.0.1:8443",
		"HTTVPS_GATEWAY_TLS_DIR":       filepath.Join(dataDir, "tls"),
		"HTTVPS_GATEWAY_ALLOW_TARGETS": "127.0.0.0/8,::1/128",
		"HTTVPS_GATEWAY_ID":            "gw-local",
		"HTTVPS_GATEWAY_REGION":        "local-1",
	}
	for k, v := range secrets {
		d[k] = v
	}
	return d
}

func (sys *System) NATSURL() string { return sys.sys.NATSURL() }

func (sys *System) DSN() string { return sys.sys.DSN() }

func (sys *System) EdgeAddr() string { return sys.sys.Edges()[0].Service.Addr() }

func (sys *System) GatewayAddr() string { return sys.sys.Gateways()[0].Service.Addr() }

func (sys *System) DemoUser() (userID int64, token string) {
	if sys.demo == nil {
		return 0, ""
	}
	return sys.demo.seed.UserID, sys.demo.seed.Token
}

func (sys *System) DemoPageURL() string { return sys.demo.page.URL() }
