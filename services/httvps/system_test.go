package httvps_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/uptrace/bun/driver/pgdriver"
)

func TestSystemStartsKeepsDataAndLeavesNothingBehind(t *testing.T) {
	dataDir := reachableDir(t)
	env := baseEnv(t, dataDir)

	first := startSystem(t, env)
	checkStreams(t, first.NATSURL())
	checkTables(t, first.DSN())
	checkDemoAgent(t, first.DSN())
	userID, token := first.DemoUser()
	if userID == 0 || token == "" {
		t.Fatalf("demo data missing: user %d token %q", userID, token)
	}
	if err := first.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if pids := postgresFor(t, dataDir); len(pids) > 0 {
		t.Fatalf("postgres still running after stop: %v", pids)
	}

	second := startSystem(t, env)
	again, _ := second.DemoUser()
	if again != userID {
		t.Fatalf("demo user id %d after restart, want %d (data not kept)", again, userID)
	}
	checkTables(t, second.DSN())
}

func checkStreams(t *testing.T, url string) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, name := range []string{schemas.StreamUsage, schemas.StreamSessions, schemas.StreamHeartbeats} {
		if _, err := js.Stream(ctx, name); err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
	}
}

func checkTables(t *testing.T, dsn string) {
	t.Helper()
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn)))
	defer db.Close()
	for _, table := range []string{"users", "devices", "subscriptions", "plans", "regions", "outline_nodes", "gateway_nodes", "sessions", "usage_periods"} {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			t.Fatalf("table %s: %v", table, err)
		}
	}
}

// checkDemoAgent waits for the demo node's agent to prove the node healthy through it.
func checkDemoAgent(t *testing.T, dsn string) {
	t.Helper()
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn)))
	defer db.Close()
	testkit.Eventually(t, 10*time.Second, "the demo node's heartbeat from its agent", func() bool {
		var healthy bool
		err := db.QueryRow(`SELECT health_status = 'healthy' AND last_heartbeat_at IS NOT NULL AND probe_ms > 0
			FROM outline_nodes ORDER BY id LIMIT 1`).Scan(&healthy)
		return err == nil && healthy
	})
}

func postgresFor(t *testing.T, dataDir string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if strings.Contains(string(cmdline), "postgres") && strings.Contains(string(cmdline), dataDir) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}
