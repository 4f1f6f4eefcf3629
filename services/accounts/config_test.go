package accounts

import (
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/shared/config"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/prometheus/client_golang/prometheus"
)

func TestLoadConfig(t *testing.T) {
	key := strings.Repeat("k", 32)
	t.Run("defaults", func(t *testing.T) {
		env := config.FromMap(map[string]string{EnvSecretKey: key})
		cfg := LoadConfig(env)
		if err := env.Err(); err != nil {
			t.Fatal(err)
		}
		want := DefaultConfig()
		want.SecretKey = []byte(key)
		if cfg.TokenTTL != 0 || cfg.ExpiryInterval != 30*time.Second || string(cfg.SecretKey) != key || cfg.Workers != want.Workers {
			t.Fatalf("cfg = %+v", cfg)
		}
	})
	t.Run("set", func(t *testing.T) {
		env := config.FromMap(map[string]string{EnvSecretKey: key, EnvTokenTTL: "720h", EnvExpiryInterval: "5s", EnvWorkers: "8"})
		cfg := LoadConfig(env)
		if err := env.Err(); err != nil {
			t.Fatal(err)
		}
		if cfg.TokenTTL != 720*time.Hour || cfg.ExpiryInterval != 5*time.Second || cfg.Workers != 8 {
			t.Fatalf("cfg = %+v", cfg)
		}
	})
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no secret", map[string]string{}, "HTTVPS_SECRET_KEY: is required"},
		{"short secret", map[string]string{EnvSecretKey: "short"}, "HTTVPS_SECRET_KEY: must be at least 32 bytes"},
		{"ttl too short", map[string]string{EnvSecretKey: key, EnvTokenTTL: "10s"}, "HTTVPS_TOKEN_TTL"},
		{"ttl garbage", map[string]string{EnvSecretKey: key, EnvTokenTTL: "forever"}, "HTTVPS_TOKEN_TTL"},
		{"expiry interval", map[string]string{EnvSecretKey: key, EnvExpiryInterval: "0"}, "HTTVPS_ACCOUNTS_EXPIRY_INTERVAL"},
		{"workers", map[string]string{EnvSecretKey: key, EnvWorkers: "0"}, "HTTVPS_ACCOUNTS_WORKERS"},
		{"metrics addr", map[string]string{EnvSecretKey: key, EnvMetricsAddr: "nope"}, "HTTVPS_ACCOUNTS_METRICS_ADDR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := config.FromMap(tc.env)
			LoadConfig(env)
			if err := env.Err(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q in it", err, tc.want)
			}
		})
	}
}

func TestNewRejectsShortKey(t *testing.T) {
	ns := testkit.NATS(t)
	cfg := testConfig()
	cfg.SecretKey = []byte("short")
	_, err := New(cfg, Deps{NC: ns.Conn(t), DB: openDB(t), Log: testkit.Logger(t), Registerer: prometheus.NewRegistry()})
	if err == nil || !strings.Contains(err.Error(), "HTTVPS_SECRET_KEY") || !strings.Contains(err.Error(), "at least 32") {
		t.Fatalf("err = %v", err)
	}
}
