// Package app is the process bootstrap every HTTVPS binary shares: config, logger, NATS,
// PostgreSQL, metrics endpoint, signals and ordered shutdown.
package app

import (
	"net/url"
	"strings"
	"time"

	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/natsauth"
	"github.com/httvps/httvps/shared/natsx"
)

const (
	EnvNATSURL         = natsx.EnvURL
	EnvDatabaseURL     = "HTTVPS_DATABASE_URL"
	EnvLogLevel        = "HTTVPS_LOG_LEVEL"
	EnvMetricsAddr     = "HTTVPS_METRICS_ADDR"
	EnvShutdownTimeout = "HTTVPS_SHUTDOWN_TIMEOUT"

	DefaultNATSURL = natsx.DefaultURL
)

type Process struct {
	Name            string
	NATSURL         string
	NATSAuth        natsx.Auth
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
		LogLevel:        env.OneOf(EnvLogLevel, "info", "trace", "debug", "info", "warn", "error"),
		MetricsAddr:     env.HostPort(EnvMetricsAddr, metricsAddr),
		ShutdownTimeout: env.Duration(EnvShutdownTimeout, 15*time.Second, time.Second),
	}
	identity := strings.TrimPrefix(name, "httvps-")
	p.NATSURL, p.NATSAuth = natsx.LoadClient(env, DefaultNATSURL, natsauth.ServiceInbox(identity))
	if needs == NATSAndDB {
		p.DatabaseURL = env.Required(EnvDatabaseURL)
		checkDatabasePassword(env, p.DatabaseURL)
	}
	return p
}

// checkDatabasePassword refuses, in production, a PostgreSQL password that is not a secret.
func checkDatabasePassword(env *config.Env, dsn string) {
	if !env.Production() || !strings.HasPrefix(dsn, "postgres") {
		return
	}
	u, err := url.Parse(dsn)
	if err != nil {
		env.Failf(EnvDatabaseURL, "is not a postgres:// URL")
		return
	}
	pass, _ := u.User.Password()
	if problem := config.SecretProblem(pass); problem != "" {
		env.Refuse(EnvDatabaseURL, "password %s", problem)
	}
}
