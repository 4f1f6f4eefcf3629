package noderegistry

import (
	"fmt"
	"time"

	"github.com/httvps/httvps/shared/config"
)

const (
	EnvHeartbeatInterval = "HTTVPS_HEARTBEAT_INTERVAL"
	EnvMissedHeartbeats  = "HTTVPS_REGISTRY_MISSED_HEARTBEATS"
	EnvSweepInterval     = "HTTVPS_REGISTRY_SWEEP_INTERVAL"
	EnvRequestTimeout    = "HTTVPS_REGISTRY_REQUEST_TIMEOUT"
	EnvDBTimeout         = "HTTVPS_REGISTRY_DB_TIMEOUT"
	EnvBatchSize         = "HTTVPS_REGISTRY_BATCH_SIZE"
	EnvFetchWait         = "HTTVPS_REGISTRY_FETCH_WAIT"
	EnvNakDelay          = "HTTVPS_REGISTRY_NAK_DELAY"
	EnvTombstoneTTL      = "HTTVPS_REGISTRY_TOMBSTONE_TTL"
	EnvWorkers           = "HTTVPS_REGISTRY_WORKERS"
	EnvDialFailures      = "HTTVPS_REGISTRY_DIAL_FAILURES"
	EnvDialWindow        = "HTTVPS_REGISTRY_DIAL_WINDOW"
	EnvConnsPerSession   = "HTTVPS_REGISTRY_CONNECTIONS_PER_SESSION"
	EnvMetricsAddr       = "HTTVPS_NODE_REGISTRY_METRICS_ADDR"
)

const minInterval = 10 * time.Millisecond

type Config struct {
	HeartbeatInterval time.Duration
	MissedHeartbeats  int
	SweepInterval     time.Duration
	RequestTimeout    time.Duration
	DBTimeout         time.Duration
	BatchSize         int
	FetchWait         time.Duration
	NakDelay          time.Duration
	TombstoneTTL      time.Duration
	Workers           int
	// DialFailures failed connects from gateways, the latest within DialWindow, take a node
	// out of assignment until a gateway connects to it again.
	DialFailures int
	DialWindow   time.Duration
	// ConnsPerSession turns an agent's live connection count into sessions for the load.
	ConnsPerSession int
	// MetricsAddr is where httvps-node-registry serves /metrics; the service itself ignores it.
	MetricsAddr string
}

func DefaultConfig() Config {
	return Config{
		HeartbeatInterval: 10 * time.Second,
		MissedHeartbeats:  3,
		SweepInterval:     5 * time.Second,
		RequestTimeout:    5 * time.Second,
		DBTimeout:         10 * time.Second,
		BatchSize:         200,
		FetchWait:         time.Second,
		NakDelay:          time.Second,
		TombstoneTTL:      7 * 24 * time.Hour,
		Workers:           32,
		DialFailures:      3,
		DialWindow:        time.Minute,
		ConnsPerSession:   8,
		MetricsAddr:       "127.0.0.1:9102",
	}
}

func LoadConfig(env *config.Env) Config {
	d := DefaultConfig()
	return Config{
		HeartbeatInterval: env.Duration(EnvHeartbeatInterval, d.HeartbeatInterval, minInterval),
		MissedHeartbeats:  env.Int(EnvMissedHeartbeats, d.MissedHeartbeats, 1, 1000),
		SweepInterval:     env.Duration(EnvSweepInterval, d.SweepInterval, minInterval),
		RequestTimeout:    env.Duration(EnvRequestTimeout, d.RequestTimeout, minInterval),
		DBTimeout:         env.Duration(EnvDBTimeout, d.DBTimeout, minInterval),
		BatchSize:         env.Int(EnvBatchSize, d.BatchSize, 1, 10000),
		FetchWait:         env.Duration(EnvFetchWait, d.FetchWait, minInterval),
		NakDelay:          env.Duration(EnvNakDelay, d.NakDelay, minInterval),
		TombstoneTTL:      env.Duration(EnvTombstoneTTL, d.TombstoneTTL, time.Minute),
		Workers:           env.Int(EnvWorkers, d.Workers, 1, 4096),
		DialFailures:      env.Int(EnvDialFailures, d.DialFailures, 1, 10000),
		DialWindow:        env.Duration(EnvDialWindow, d.DialWindow, minInterval),
		ConnsPerSession:   env.Int(EnvConnsPerSession, d.ConnsPerSession, 1, 100000),
		MetricsAddr:       env.HostPort(EnvMetricsAddr, d.MetricsAddr),
	}
}

// OfflineAfter is how old the last heartbeat of a node may get before the sweeper marks it offline.
func (c Config) OfflineAfter() time.Duration {
	return time.Duration(c.MissedHeartbeats) * c.HeartbeatInterval
}

func (c Config) Validate() error {
	checks := []struct {
		name string
		bad  bool
		want string
	}{
		{EnvHeartbeatInterval, c.HeartbeatInterval < minInterval, "at least " + minInterval.String()},
		{EnvMissedHeartbeats, c.MissedHeartbeats < 1, "at least 1"},
		{EnvSweepInterval, c.SweepInterval < minInterval, "at least " + minInterval.String()},
		{EnvRequestTimeout, c.RequestTimeout <= 0, "positive"},
		{EnvDBTimeout, c.DBTimeout <= 0, "positive"},
		{EnvBatchSize, c.BatchSize < 1, "at least 1"},
		{EnvFetchWait, c.FetchWait <= 0, "positive"},
		{EnvNakDelay, c.NakDelay <= 0, "positive"},
		{EnvTombstoneTTL, c.TombstoneTTL < time.Minute, "at least 1m"},
		{EnvWorkers, c.Workers < 1, "at least 1"},
		{EnvDialFailures, c.DialFailures < 1, "at least 1"},
		{EnvDialWindow, c.DialWindow < minInterval, "at least " + minInterval.String()},
		{EnvConnsPerSession, c.ConnsPerSession < 1, "at least 1"},
	}
	for _, ch := range checks {
		if ch.bad {
			return fmt.Errorf("node-registry config: %s must be %s", ch.name, ch.want)
		}
	}
	return nil
}
