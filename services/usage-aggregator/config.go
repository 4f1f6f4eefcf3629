// Package usageaggregator stores usage reports and session events exactly once, closes sessions of
// lost gateways and publishes traffic-limit control events.
package usageaggregator

import (
	"fmt"
	"time"

	"github.com/httvps/httvps/shared/config"
)

const (
	EnvBatchSize       = "HTTVPS_AGGREGATOR_BATCH"
	EnvWorkers         = "HTTVPS_AGGREGATOR_WORKERS"
	EnvFetchWait       = "HTTVPS_AGGREGATOR_FETCH_WAIT"
	EnvNakDelay        = "HTTVPS_AGGREGATOR_NAK_DELAY"
	EnvDBTimeout       = "HTTVPS_AGGREGATOR_DB_TIMEOUT"
	EnvGatewayTimeout  = "HTTVPS_AGGREGATOR_GATEWAY_TIMEOUT"
	EnvSweepInterval   = "HTTVPS_AGGREGATOR_SWEEP_INTERVAL"
	EnvSweepBatch      = "HTTVPS_AGGREGATOR_SWEEP_BATCH"
	EnvPendingInterval = "HTTVPS_AGGREGATOR_PENDING_INTERVAL"
	EnvRequestTimeout  = "HTTVPS_AGGREGATOR_REQUEST_TIMEOUT"
	EnvMetricsAddr     = "HTTVPS_USAGE_AGGREGATOR_METRICS_ADDR"
	EnvSlotTTL         = "HTTVPS_SESSION_SLOT_TTL"
	EnvLeaseMin        = "HTTVPS_LEASE_MIN_BYTES"
	EnvSlotWorkers     = "HTTVPS_AGGREGATOR_SLOT_WORKERS"
)

const (
	minInterval    = 10 * time.Millisecond
	maxBatch       = 10000
	maxWorkers     = 16
	minSlotTTL     = 300 * time.Millisecond
	maxLeaseMin    = 1 << 30
	maxSlotWorkers = 256
)

type Config struct {
	BatchSize       int
	Workers         int
	FetchWait       time.Duration
	NakDelay        time.Duration
	DBTimeout       time.Duration
	GatewayTimeout  time.Duration
	SweepInterval   time.Duration
	SweepBatch      int
	PendingInterval time.Duration
	RequestTimeout  time.Duration
	// SlotTTL is how long a live-session slot and its lease outlive the last keepalive of their gateway.
	SlotTTL time.Duration
	// LeaseMin is the smallest lease granted while more than that remains of the quota.
	LeaseMin int64
	// SlotWorkers serve session-open, lease, session-close and keepalive requests side by side.
	SlotWorkers int
	// MetricsAddr is where httvps-usage-aggregator serves /metrics; the service itself ignores it.
	MetricsAddr string
}

func DefaultConfig() Config {
	return Config{
		BatchSize:       1000,
		Workers:         2,
		FetchWait:       time.Second,
		NakDelay:        time.Second,
		DBTimeout:       30 * time.Second,
		GatewayTimeout:  60 * time.Second,
		SweepInterval:   10 * time.Second,
		SweepBatch:      500,
		PendingInterval: 10 * time.Second,
		RequestTimeout:  5 * time.Second,
		SlotTTL:         30 * time.Second,
		LeaseMin:        64 << 10,
		SlotWorkers:     8,
		MetricsAddr:     "127.0.0.1:9103",
	}
}

func LoadConfig(env *config.Env) Config {
	d := DefaultConfig()
	return Config{
		BatchSize:       env.Int(EnvBatchSize, d.BatchSize, 1, maxBatch),
		Workers:         env.Int(EnvWorkers, d.Workers, 1, maxWorkers),
		FetchWait:       env.Duration(EnvFetchWait, d.FetchWait, minInterval),
		NakDelay:        env.Duration(EnvNakDelay, d.NakDelay, minInterval),
		DBTimeout:       env.Duration(EnvDBTimeout, d.DBTimeout, minInterval),
		GatewayTimeout:  env.Duration(EnvGatewayTimeout, d.GatewayTimeout, time.Second),
		SweepInterval:   env.Duration(EnvSweepInterval, d.SweepInterval, minInterval),
		SweepBatch:      env.Int(EnvSweepBatch, d.SweepBatch, 1, maxBatch),
		PendingInterval: env.Duration(EnvPendingInterval, d.PendingInterval, minInterval),
		RequestTimeout:  env.Duration(EnvRequestTimeout, d.RequestTimeout, minInterval),
		SlotTTL:         env.Duration(EnvSlotTTL, d.SlotTTL, minSlotTTL),
		LeaseMin:        int64(env.Int(EnvLeaseMin, int(d.LeaseMin), 1, maxLeaseMin)),
		SlotWorkers:     env.Int(EnvSlotWorkers, d.SlotWorkers, 1, maxSlotWorkers),
		MetricsAddr:     env.HostPort(EnvMetricsAddr, d.MetricsAddr),
	}
}

func (c Config) Validate() error {
	checks := []struct {
		name string
		bad  bool
		want string
	}{
		{EnvBatchSize, c.BatchSize < 1 || c.BatchSize > maxBatch, fmt.Sprintf("from 1 to %d", maxBatch)},
		{EnvWorkers, c.Workers < 1 || c.Workers > maxWorkers, fmt.Sprintf("from 1 to %d", maxWorkers)},
		{EnvFetchWait, c.FetchWait < minInterval, "at least " + minInterval.String()},
		{EnvNakDelay, c.NakDelay < minInterval, "at least " + minInterval.String()},
		{EnvDBTimeout, c.DBTimeout < minInterval, "at least " + minInterval.String()},
		{EnvGatewayTimeout, c.GatewayTimeout < minInterval, "at least " + minInterval.String()},
		{EnvSweepInterval, c.SweepInterval < minInterval, "at least " + minInterval.String()},
		{EnvSweepBatch, c.SweepBatch < 1 || c.SweepBatch > maxBatch, fmt.Sprintf("from 1 to %d", maxBatch)},
		{EnvPendingInterval, c.PendingInterval < minInterval, "at least " + minInterval.String()},
		{EnvRequestTimeout, c.RequestTimeout < minInterval, "at least " + minInterval.String()},
		{EnvSlotTTL, c.SlotTTL < minSlotTTL, "at least " + minSlotTTL.String()},
		{EnvLeaseMin, c.LeaseMin < 1 || c.LeaseMin > maxLeaseMin, fmt.Sprintf("from 1 to %d", maxLeaseMin)},
		{EnvSlotWorkers, c.SlotWorkers < 1 || c.SlotWorkers > maxSlotWorkers, fmt.Sprintf("from 1 to %d", maxSlotWorkers)},
	}
	for _, ch := range checks {
		if ch.bad {
			return fmt.Errorf("usage-aggregator config: %s must be %s", ch.name, ch.want)
		}
	}
	return nil
}
