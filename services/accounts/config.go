// Package accounts owns users, devices, plans and subscriptions: device validation,
// access tokens, the admin commands for those tables and the control events they cause.
package accounts

import (
	"time"

	"github.com/httvps/httvps/services/accounts/internal/token"
	"github.com/httvps/httvps/shared/config"
)

const (
	EnvSecretKey        = "HTTVPS_SECRET_KEY"
	EnvTokenTTL         = "HTTVPS_TOKEN_TTL"
	EnvExpiryInterval   = "HTTVPS_ACCOUNTS_EXPIRY_INTERVAL"
	EnvLastSeenInterval = "HTTVPS_ACCOUNTS_LAST_SEEN_INTERVAL"
	EnvLastSeenBatch    = "HTTVPS_ACCOUNTS_LAST_SEEN_BATCH"
	EnvWorkers          = "HTTVPS_ACCOUNTS_WORKERS"
	EnvRequestTimeout   = "HTTVPS_ACCOUNTS_REQUEST_TIMEOUT"
	EnvShutdownTimeout  = "HTTVPS_ACCOUNTS_SHUTDOWN_TIMEOUT"
	EnvMetricsAddr      = "HTTVPS_ACCOUNTS_METRICS_ADDR"
)

type Config struct {
	SecretKey        []byte
	TokenTTL         time.Duration
	ExpiryInterval   time.Duration
	LastSeenInterval time.Duration
	LastSeenBatch    int
	Workers          int
	RequestTimeout   time.Duration
	ShutdownTimeout  time.Duration
	MetricsAddr      string
}

func DefaultConfig() Config {
	return Config{
		ExpiryInterval:   30 * time.Second,
		LastSeenInterval: 5 * time.Second,
		LastSeenBatch:    5000,
		Workers:          64,
		RequestTimeout:   5 * time.Second,
		ShutdownTimeout:  10 * time.Second,
		MetricsAddr:      "127.0.0.1:9101",
	}
}

func LoadConfig(env *config.Env) Config {
	d := DefaultConfig()
	cfg := Config{
		TokenTTL:         env.Duration(EnvTokenTTL, 0, 0),
		ExpiryInterval:   env.Duration(EnvExpiryInterval, d.ExpiryInterval, 100*time.Millisecond),
		LastSeenInterval: env.Duration(EnvLastSeenInterval, d.LastSeenInterval, 10*time.Millisecond),
		LastSeenBatch:    env.Int(EnvLastSeenBatch, d.LastSeenBatch, 1, 1_000_000),
		Workers:          env.Int(EnvWorkers, d.Workers, 1, 4096),
		RequestTimeout:   env.Duration(EnvRequestTimeout, d.RequestTimeout, 10*time.Millisecond),
		ShutdownTimeout:  env.Duration(EnvShutdownTimeout, d.ShutdownTimeout, 0),
		MetricsAddr:      env.HostPort(EnvMetricsAddr, d.MetricsAddr),
	}
	if key := env.Secret(EnvSecretKey); key != "" {
		if len(key) < token.MinKeyBytes {
			env.Failf(EnvSecretKey, "must be at least %d bytes long (got %d); generate one with `openssl rand -base64 48`", token.MinKeyBytes, len(key))
		}
		cfg.SecretKey = []byte(key)
	}
	if cfg.TokenTTL > 0 && cfg.TokenTTL < time.Minute {
		env.Failf(EnvTokenTTL, "must be 0 (tokens never expire) or at least 1m, got %s", cfg.TokenTTL)
	}
	return cfg
}
