package httvps_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/services/httvps"
	"github.com/httvps/httvps/shared/testkit"
)

func reachableDir(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	for d := dir; d != os.TempDir() && d != "/" && strings.HasPrefix(d, os.TempDir()); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

func baseEnv(tb testing.TB, dataDir string) map[string]string {
	return map[string]string{
		"HTTVPS_DATA_DIR":          dataDir,
		"HTTVPS_NATS_LISTEN":       "127.0.0.1:0",
		"HTTVPS_LOCAL_PG_PORT":     "0",
		"HTTVPS_EDGE_ADDR":         "127.0.0.1:0",
		"HTTVPS_GATEWAY_LISTEN":    "127.0.0.1:0",
		"HTTVPS_METRICS_ADDR":      "127.0.0.1:0",
		"HTTVPS_DEMO_OUTLINE_ADDR": "127.0.0.1:0",
		"HTTVPS_DEMO_PAGE_ADDR":    "127.0.0.1:0",
		"HTTVPS_LOG_LEVEL":         "warn",
		"HTTVPS_USAGE_INTERVAL":    "200ms",
	}
}

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func startSystem(tb testing.TB, env map[string]string) *httvps.System {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sys, err := httvps.Start(ctx, lookup(env), testkit.LogWriter(tb))
	if err != nil {
		tb.Fatalf("start: %v", err)
	}
	tb.Cleanup(func() {
		if err := sys.Stop(); err != nil {
			tb.Errorf("stop: %v", err)
		}
	})
	return sys
}
