package usageaggregator

import (
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/shared/config"
)

func TestLoadConfig(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		check   func(Config) bool
		wantErr string
	}{
		{"defaults", nil, func(c Config) bool {
			return c == DefaultConfig() && c.BatchSize == 1000 && c.Workers == 2 && c.GatewayTimeout == time.Minute
		}, ""},
		{"batch, workers and timeout", map[string]string{EnvBatchSize: "500", EnvWorkers: "4", EnvGatewayTimeout: "90s"},
			func(c Config) bool { return c.BatchSize == 500 && c.Workers == 4 && c.GatewayTimeout == 90*time.Second }, ""},
		{"batch zero", map[string]string{EnvBatchSize: "0"}, nil, `HTTVPS_AGGREGATOR_BATCH="0": must be a whole number from 1 to 10000`},
		{"batch not a number", map[string]string{EnvBatchSize: "many"}, nil, `HTTVPS_AGGREGATOR_BATCH="many"`},
		{"workers too many", map[string]string{EnvWorkers: "17"}, nil, `HTTVPS_AGGREGATOR_WORKERS="17": must be a whole number from 1 to 16`},
		{"gateway timeout too short", map[string]string{EnvGatewayTimeout: "100ms"}, nil, `HTTVPS_AGGREGATOR_GATEWAY_TIMEOUT="100ms": must be a duration`},
		{"sweep interval garbage", map[string]string{EnvSweepInterval: "often"}, nil, `HTTVPS_AGGREGATOR_SWEEP_INTERVAL="often"`},
		{"fetch wait", map[string]string{EnvFetchWait: "1ms"}, nil, `HTTVPS_AGGREGATOR_FETCH_WAIT="1ms"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := config.FromMap(c.env)
			cfg := LoadConfig(env)
			err := env.Err()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatalf("validate: %v", err)
			}
			if !c.check(cfg) {
				t.Errorf("config %+v", cfg)
			}
		})
	}
}

func TestValidateNamesTheVariable(t *testing.T) {
	c := DefaultConfig()
	c.SweepBatch = 0
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), EnvSweepBatch) {
		t.Errorf("error %v, want it to name %s", err, EnvSweepBatch)
	}
}

func TestFoldTotals(t *testing.T) {
	at := func(min int) time.Time { return time.Date(2025, 11, 30, 23, min, 0, 0, time.UTC) }
	in := []sessionTotals{
		{SessionID: "b", Seq: 2, Up: 20, Down: 5, GatewayID: "gw", ReportedAt: at(2), StartedAt: at(0), Reports: 1},
		{SessionID: "a", Seq: 1, Up: 1, Down: 1, GatewayID: "gw", ReportedAt: at(1), StartedAt: at(0), Reports: 1},
		{SessionID: "b", Seq: 1, Up: 10, Down: 9, UserID: 7, GatewayID: "gw", ReportedAt: at(1), StartedAt: at(0), Reports: 1},
		{SessionID: "b", Seq: 2, Up: 20, Down: 5, GatewayID: "gw", ReportedAt: at(2), StartedAt: at(0), Reports: 1},
		{SessionID: "b", Seq: 3, Up: 90, Down: 90, UserID: 8, GatewayID: "gw-other", ReportedAt: at(3), StartedAt: at(0), Reports: 1},
	}
	out := foldTotals(in)
	if len(out) != 2 || out[0].SessionID != "a" || out[1].SessionID != "b" {
		t.Fatalf("fold order %+v", out)
	}
	b := out[1]
	if b.Seq != 2 || b.Up != 20 || b.Down != 9 || b.UserID != 7 || b.GatewayID != "gw" || b.Reports != 4 || !b.ReportedAt.Equal(at(2)) {
		t.Errorf("folded %+v", b)
	}
	cases := []struct {
		name   string
		stored byteTotals
		want   int
	}{
		{"nothing stored", byteTotals{}, 2},
		{"first report stored", byteTotals{Up: 10, Down: 9}, 1},
		{"all stored", byteTotals{Up: 20, Down: 9}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := b.changedReports(c.stored); got != c.want {
				t.Errorf("changed reports %d, want %d", got, c.want)
			}
		})
	}
}

func TestNewRejectsMissingDeps(t *testing.T) {
	bad := DefaultConfig()
	bad.BatchSize = 0
	cases := []struct {
		name string
		cfg  Config
		deps Deps
		want string
	}{
		{"invalid config", bad, Deps{}, EnvBatchSize},
		{"no nats", DefaultConfig(), Deps{}, "Deps.NC is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := New(c.cfg, c.deps); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}
