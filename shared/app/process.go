// Package app is the process bootstrap every HTTVPS binary shares: config, logger, NATS,
// PostgreSQL, metrics endpoint, signals and ordered shutdown.
package app

import (
	"time"

	"github.com/httvps/httvps/shared/config"
)

const (
	EnvNATSURL         = "HTTVPS_NATS_URL"
	EnvDatabaseURL     = "HTTVPS_DATABASE_URL"
	EnvLogLevel        = "HTTVPS_LOG_LEVEL"
	EnvMetricsAddr     = "HTTVPS_METRICS_ADDR"
	EnvShutdownTimeout = "HTTVPS_SHUTDOWN_TIMEOUT"

	DefaultNATSURL = "nats://127.0.0.1:4222"
)

type Process struct {
	Name            string
	NATSURL         string
	DatabaseURL     string
	LogLevel        string
	MetricsAddr     string
	ShutdownTimeout time.Duration
}

type Needs int

const (
	NATSOnly Needs = iota
	NATSAndDB
)

func LoadProcess(env *config.Env, name string, needs Needs, metricsAddr string) Process {
	p := Process{
		Name:            name,
		NATSURL:         env.String(EnvNATSURL, DefaultNATSURL),
		LogLevel:        env.OneOf(EnvLogLevel, "info", "trace", "debug", "info", "warn", "error"),
		MetricsAddr:     env.HostPort(EnvMetricsAddr, metricsAddr),
		ShutdownTimeout: env.Duration(EnvShutdownTimeout, 15*time.Second, time.Second),
	}
	if needs == NATSAndDB {
		p.DatabaseURL = env.Required(EnvDatabaseURL)
	}
	return p
}
