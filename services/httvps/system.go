package httvps

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"time"

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
	Config   Config
	Services serviceConfigs
	Secrets  map[string]string
	log      zerolog.Logger
	infra    *infra
	built    *built
	demo     *demo
	group    *group
	metrics  *http.Server
	stopOnce sync.Once
	stopErr  error
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
	case runErr = <-sys.group.failed:
		sys.log.Error().Err(runErr).Msg("a component failed, shutting down")
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
	sys := &System{Config: LoadConfig(env), Services: loadServiceConfigs(env), Secrets: secrets}
	if err := env.Err(); err != nil {
		return nil, err
	}
	if sys.log, err = logging.New(sys.Config.LogLevel, errOut); err != nil {
		return nil, fmt.Errorf("%s: %w", EnvLogLevel, err)
	}
	pgLog, err := openPostgresLog(sys.Config.DataDir)
	if err != nil {
		return nil, err
	}
	if sys.infra, err = startInfra(ctx, sys.Config, sys.log, pgLog); err != nil {
		pgLog.Close()
		return nil, err
	}
	sys.infra.pgLog = pgLog
	if err := sys.startServices(ctx); err != nil {
		_ = sys.Stop()
		return nil, err
	}
	return sys, nil
}

func (sys *System) startServices(ctx context.Context) error {
	var err error
	if sys.Services.Demo.Enabled {
		if sys.demo, err = startDemo(sys.Services.Demo); err != nil {
			return err
		}
	}
	if sys.built, err = buildServices(sys.Services, sys.infra, sys.log); err != nil {
		return err
	}
	sys.group = newGroup(sys.log)
	if sys.metrics, err = sys.serveMetrics(); err != nil {
		return err
	}
	for _, c := range sys.built.components {
		sys.group.start(context.WithoutCancel(ctx), c)
	}
	if sys.demo != nil {
		admin := adminClient{nc: sys.infra.nc, timeout: 5 * time.Second}
		if err := sys.demo.seedWithRetry(ctx, admin, seedWait); err != nil {
			return err
		}
		agent, err := sys.demo.agent(sys.infra, sys.Services.NodeRegistry.HeartbeatInterval, sys.log, nil)
		if err != nil {
			return err
		}
		sys.group.start(context.WithoutCancel(ctx), component{"outline-agent", agent})
	}
	return nil
}

func (sys *System) serveMetrics() (*http.Server, error) {
	if sys.Config.MetricsAddr == "" {
		return nil, nil
	}
	process := prometheus.NewRegistry()
	process.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	gatherers := append(prometheus.Gatherers{process}, sys.built.gatherers()...)
	srv, err := app.ServeMetrics(sys.Config.MetricsAddr, promhttp.HandlerFor(gatherers, promhttp.HandlerOpts{}), sys.group.failed)
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
	if sys.group != nil {
		err = sys.group.stopAll(sys.Config.ShutdownTimeout)
	}
	if sys.metrics != nil {
		app.ShutdownHTTP(sys.metrics, time.Second)
	}
	if sys.demo != nil {
		sys.demo.Close()
	}
	if sys.infra != nil {
		sys.infra.close(context.Background(), sys.log)
	}
	return err
}

func devDefaults(dataDir string, secrets map[string]string) map[string]string {
	d := map[string]string{
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

func (sys *System) NATSURL() string { return sys.infra.natsURL }

func (sys *System) DSN() string { return sys.infra.dsn }

func (sys *System) EdgeAddr() string { return sys.built.edge.Addr() }

func (sys *System) GatewayAddr() string { return sys.built.gateway.Addr() }

func (sys *System) DemoUser() (userID int64, token string) {
	if sys.demo == nil {
		return 0, ""
	}
	return sys.demo.seed.UserID, sys.demo.seed.Token
}

func (sys *System) DemoPageURL() string { return sys.demo.page.URL() }
