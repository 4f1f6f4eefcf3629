package noderegistry_test

import (
	"strings"
	"testing"
	"time"

	noderegistry "github.com/httvps/httvps/services/node-registry"
	"github.com/httvps/httvps/shared/config"
)

func TestLoadConfig(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		env := config.FromMap(nil)
		cfg := noderegistry.LoadConfig(env)
		if err := env.Err(); err != nil {
			t.Fatal(err)
		}
		if cfg != noderegistry.DefaultConfig() || cfg.OfflineAfter() != 30*time.Second {
			t.Fatalf("cfg = %+v", cfg)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("set", func(t *testing.T) {
		env := config.FromMap(map[string]string{
			noderegistry.EnvHeartbeatInterval: "2s",
			noderegistry.EnvMissedHeartbeats:  "5",
			noderegistry.EnvSweepInterval:     "1s",
			noderegistry.EnvTombstoneTTL:      "24h",
		})
		cfg := noderegistry.LoadConfig(env)
		if err := env.Err(); err != nil {
			t.Fatal(err)
		}
		if cfg.OfflineAfter() != 10*time.Second || cfg.SweepInterval != time.Second || cfg.TombstoneTTL != 24*time.Hour {
			t.Fatalf("cfg = %+v", cfg)
		}
	})
	bad := []struct {
		name, value string
	}{
		{noderegistry.EnvHeartbeatInterval, "ten seconds"},
		{noderegistry.EnvHeartbeatInterval, "1ms"},
		{noderegistry.EnvMissedHeartbeats, "0"},
		{noderegistry.EnvMissedHeartbeats, "three"},
		{noderegistry.EnvSweepInterval, "-1s"},
		{noderegistry.EnvRequestTimeout, "0s"},
		{noderegistry.EnvDBTimeout, "x"},
		{noderegistry.EnvBatchSize, "0"},
		{noderegistry.EnvFetchWait, "1"},
		{noderegistry.EnvNakDelay, "soon"},
		{noderegistry.EnvTombstoneTTL, "1s"},
		{noderegistry.EnvWorkers, "0"},
		{noderegistry.EnvMetricsAddr, "9102"},
	}
	for _, tc := range bad {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			env := config.FromMap(map[string]string{tc.name: tc.value})
			noderegistry.LoadConfig(env)
			err := env.Err()
			if err == nil || !strings.Contains(err.Error(), tc.name) {
				t.Fatalf("err = %v, want one naming %s", err, tc.name)
			}
		})
	}
	t.Run("validate names the variable", func(t *testing.T) {
		cfg := noderegistry.DefaultConfig()
		cfg.MissedHeartbeats = 0
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), noderegistry.EnvMissedHeartbeats) {
			t.Fatalf("err = %v", err)
		}
		if _, err := noderegistry.New(cfg, noderegistry.Deps{}); err == nil {
			t.Fatal("New accepted an invalid config")
		}
	})
}
