package edge_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/httvps/httvps/migrations"
	"github.com/httvps/httvps/services/accounts"
	noderegistry "github.com/httvps/httvps/services/node-registry"
	usageaggregator "github.com/httvps/httvps/services/usage-aggregator"
	"github.com/httvps/httvps/shared/db"
	"github.com/httvps/httvps/shared/natsauth"
	"github.com/httvps/httvps/shared/testkit"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// startSystem runs the real accounts, node-registry and usage-aggregator services on a fresh
// PostgreSQL database and the shipped production NATS configuration, each service and the edge
// with its own identity: a permission one of them lacks fails the test.
func startSystem(tb testing.TB) *harness {
	tb.Helper()
	ns := testkit.StartSecureNATS(tb, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bdb, err := db.Open(ctx, testkit.Postgres(tb), db.DefaultPool())
	if err != nil {
		tb.Fatalf("open database: %v", err)
	}
	tb.Cleanup(func() { _ = bdb.Close() })
	if err := migrations.Up(ctx, bdb); err != nil {
		tb.Fatalf("migrations: %v", err)
	}
	log := testkit.Logger(tb)

	acfg := accounts.DefaultConfig()
	acfg.SecretKey = []byte("edge-system-test-secret-key-0123456789abcdef")
	acc, err := accounts.New(acfg, accounts.Deps{NC: ns.Conn(tb, natsauth.RoleService, natsauth.Accounts), DB: bdb, Log: log, Registerer: prometheus.NewRegistry()})
	if err != nil {
		tb.Fatalf("accounts: %v", err)
	}
	ncfg := noderegistry.DefaultConfig()
	ncfg.FetchWait = 50 * time.Millisecond
	nreg, err := noderegistry.New(ncfg, noderegistry.Deps{NC: ns.Conn(tb, natsauth.RoleService, natsauth.NodeRegistry), DB: bdb, Log: log, Registerer: prometheus.NewRegistry()})
	if err != nil {
		tb.Fatalf("node-registry: %v", err)
	}
	ucfg := usageaggregator.DefaultConfig()
	ucfg.FetchWait = 50 * time.Millisecond
	agg, err := usageaggregator.New(ucfg, usageaggregator.Deps{NC: ns.Conn(tb, natsauth.RoleService, natsauth.UsageAggregator), DB: bdb, Log: log, Registerer: prometheus.NewRegistry()})
	if err != nil {
		tb.Fatalf("usage-aggregator: %v", err)
	}
	runUntilCleanup(tb, "accounts", acc.Run)
	runUntilCleanup(tb, "node-registry", nreg.Run)
	runUntilCleanup(tb, "usage-aggregator", agg.Run)

	operator, err := jetstream.New(ns.Conn(tb, natsauth.RoleService, natsauth.Operator))
	if err != nil {
		tb.Fatal(err)
	}
	h := startEdgeWith(tb, ns.Conn(tb, natsauth.RoleService, natsauth.Edge), operator)
	testkit.Eventually(tb, 15*time.Second, "health 200", func() bool {
		return h.do(http.MethodGet, "/api/v1/health", "", "").status == http.StatusOK
	})
	return h
}

func runUntilCleanup(tb testing.TB, name string, run func(context.Context) error) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("%s Run: %v", name, err)
			}
		case <-time.After(20 * time.Second):
			tb.Errorf("%s Run did not return after cancel", name)
		}
	})
}
