package httvps

import (
	"path/filepath"
	"time"

	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/db"
	"github.com/httvps/httvps/shared/natsx"
)

const (
	EnvDataDir         = "HTTVPS_DATA_DIR"
	EnvNATSListen      = "HTTVPS_NATS_LISTEN"
	EnvNATSURL         = "HTTVPS_NATS_URL"
	EnvNATSReplicas    = natsx.EnvReplicas
	EnvDatabaseURL     = "HTTVPS_DATABASE_URL"
	EnvLocalPGPort     = "HTTVPS_LOCAL_PG_PORT"
	EnvLogLevel        = "HTTVPS_LOG_LEVEL"
	EnvShutdownTimeout = "HTTVPS_SHUTDOWN_TIMEOUT"
	EnvDBMaxOpenConns  = "HTTVPS_DB_MAX_OPEN_CONNS"
	EnvMetricsAddr     = "HTTVPS_METRICS_ADDR"
)

type Config struct {
	DataDir         string
	NATSListen      string
	NATSURL         string
	DatabaseURL     string
	LocalPGPort     int
	LogLevel        string
	MetricsAddr     string
	ShutdownTimeout time.Duration
	Streams         natsx.StreamsConfig
	Pool            db.PoolConfig
}

func LoadConfig(env *config.Env) Config {
	c := Config{
		DataDir:         env.String(EnvDataDir, ".data"),
		NATSListen:      env.HostPort(EnvNATSListen, "127.0.0.1:4222"),
		NATSURL:         env.String(EnvNATSURL, ""),
		DatabaseURL:     env.String(EnvDatabaseURL, ""),
		LocalPGPort:     env.Int(EnvLocalPGPort, 55432, 0, 65535),
		LogLevel:        env.OneOf(EnvLogLevel, "info", "trace", "debug", "info", "warn", "error"),
		ShutdownTimeout: env.Duration(EnvShutdownTimeout, 15*time.Second, time.Second),
		MetricsAddr:     env.HostPort(EnvMetricsAddr, "127.0.0.1:9100"),
		Streams:         natsx.LoadStreams(env, 1),
		Pool:            db.DefaultPool(),
	}
	if env.Production() && c.NATSURL == "" {
		env.Refuse(EnvNATSURL, "is empty, so the all-in-one would run an embedded NATS server; run the services on their own against a NATS cluster")
	}
	c.Pool.MaxOpenConns = env.Int(EnvDBMaxOpenConns, c.Pool.MaxOpenConns, 1, 1000)
	return c
}

func (c Config) natsStoreDir() string { return filepath.Join(c.DataDir, "nats") }

func (c Config) postgresDir() string { return filepath.Join(c.DataDir, "postgres") }

func (c Config) tlsDir() string { return filepath.Join(c.DataDir, "tls") }
