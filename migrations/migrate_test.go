package migrations_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/httvps/httvps/migrations"
	"github.com/httvps/httvps/shared/db"
	"github.com/httvps/httvps/shared/testkit"
)

// baseMigrations come first; services add theirs after them.
var baseMigrations = []string{
	"20260101000001_updated_at",
	"20260101000002_accounts",
	"20260101000003_nodes",
	"20260101000004_usage",
}

func statuses(tb testing.TB, bdb *bun.DB) []migrations.MigrationStatus {
	tb.Helper()
	s, err := migrations.Status(tb.Context(), bdb)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func appliedNames(tb testing.TB, bdb *bun.DB) []string {
	tb.Helper()
	var names []string
	for _, s := range statuses(tb, bdb) {
		if s.Applied {
			names = append(names, s.Name)
		}
	}
	return names
}

func allNames(tb testing.TB, bdb *bun.DB) []string {
	tb.Helper()
	var names []string
	for _, s := range statuses(tb, bdb) {
		names = append(names, s.Name)
	}
	return names
}

func wantAllTables(tb testing.TB, bdb *bun.DB) {
	tb.Helper()
	got := publicTables(tb, bdb)
	for _, table := range bookkeepingTables {
		if !slices.Contains(got, table) {
			tb.Fatalf("table %s missing; have %v", table, got)
		}
	}
	for _, s := range wantSchema {
		if !slices.Contains(got, s.table) {
			tb.Fatalf("table %s missing; have %v", s.table, got)
		}
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	bdb := openDB(t)
	before := statuses(t, bdb)
	var names []string
	for _, s := range before {
		names = append(names, s.Name)
		if s.Applied {
			t.Errorf("%s applied on an empty database", s.Name)
		}
	}
	if len(names) < len(baseMigrations) || !slices.Equal(names[:len(baseMigrations)], baseMigrations) {
		t.Fatalf("migrations %v, want them to start with %v", names, baseMigrations)
	}
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Fatalf("migration names not strictly increasing: %v", names)
	}
	if tables := publicTables(t, bdb); len(tables) != 0 {
		t.Fatalf("Status wrote to the database: %v", tables)
	}
	up(t, bdb)
	for _, s := range statuses(t, bdb) {
		if !s.Applied || s.GroupID != 1 || s.MigratedAt.IsZero() {
			t.Errorf("after Up: %+v", s)
		}
	}
}

func TestUpIsIdempotent(t *testing.T) {
	t.Parallel()
	bdb := openDB(t)
	up(t, bdb)
	first := statuses(t, bdb)
	up(t, bdb)
	if second := statuses(t, bdb); !slices.Equal(first, second) {
		t.Fatalf("second Up changed the status:\n%+v\n%+v", first, second)
	}
	if n, want := queryInt(t, bdb, "SELECT count(*) FROM bun_migrations"), len(first); n != int64(want) {
		t.Fatalf("%d rows in bun_migrations, want %d", n, want)
	}
	wantAllTables(t, bdb)
}

func TestDownRemovesEverything(t *testing.T) {
	t.Parallel()
	bdb := migratedDB(t)
	seed(t, bdb)
	down(t, bdb)
	if got := publicTables(t, bdb); !slices.Equal(got, bookkeepingTables) {
		t.Fatalf("tables after Down: %v, want only %v", got, bookkeepingTables)
	}
	if n := queryInt(t, bdb, "SELECT count(*) FROM pg_proc WHERE proname = 'httvps_set_updated_at'"); n != 0 {
		t.Fatal("function httvps_set_updated_at survived Down")
	}
	if n := queryInt(t, bdb, "SELECT count(*) FROM bun_migrations"); n != 0 {
		t.Fatalf("%d migrations still recorded", n)
	}
	if names := appliedNames(t, bdb); len(names) != 0 {
		t.Fatalf("still applied: %v", names)
	}
	down(t, bdb)
}

func TestUpDownUp(t *testing.T) {
	t.Parallel()
	bdb := migratedDB(t)
	seed(t, bdb)
	down(t, bdb)
	up(t, bdb)
	wantAllTables(t, bdb)
	if n := queryInt(t, bdb, "SELECT count(*) FROM users"); n != 0 {
		t.Fatalf("%d users survived down and up", n)
	}
	seed(t, bdb)
	if applied, all := appliedNames(t, bdb), allNames(t, bdb); !slices.Equal(applied, all) {
		t.Fatalf("applied %v, want %v", applied, all)
	}
}

func TestUpConcurrently(t *testing.T) {
	t.Parallel()
	dsn := testkit.Postgres(t)
	const processes = 4
	dbs := make([]*bun.DB, processes)
	for i := range dbs {
		bdb, err := db.Open(t.Context(), dsn, db.DefaultPool())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = bdb.Close() })
		dbs[i] = bdb
	}
	var wg sync.WaitGroup
	errs := make([]error, processes)
	for i, bdb := range dbs {
		wg.Go(func() { errs[i] = migrations.Up(t.Context(), bdb) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i, err)
		}
	}
	if n, want := queryInt(t, dbs[0], "SELECT count(*) FROM bun_migrations"), len(allNames(t, dbs[0])); n != int64(want) {
		t.Fatalf("%d rows in bun_migrations, want %d", n, want)
	}
	wantAllTables(t, dbs[0])
}

func TestUpWaitsForTheLock(t *testing.T) {
	t.Parallel()
	bdb := openDB(t)
	tx, err := bdb.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	exec(t, tx, "SELECT pg_advisory_xact_lock(?)", migrations.LockKey)

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	err = migrations.Up(ctx, bdb)
	if err == nil || !strings.Contains(err.Error(), "wait for another migrator") {
		t.Fatalf("Up with the lock held elsewhere: %v", err)
	}
	if tables := publicTables(t, bdb); len(tables) != 0 {
		t.Fatalf("tables created without the lock: %v", tables)
	}

	done := make(chan error, 1)
	go func() { done <- migrations.Up(t.Context(), bdb) }()
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Up after the lock was released: %v", err)
	}
	wantAllTables(t, bdb)
}

func TestFailedMigrationIsNotRecorded(t *testing.T) {
	t.Parallel()
	bdb := openDB(t)
	exec(t, bdb, "CREATE TABLE plans (id int)")
	if err := migrations.Up(t.Context(), bdb); err == nil {
		t.Fatal("Up succeeded over a conflicting table")
	}
	if names := appliedNames(t, bdb); !slices.Equal(names, baseMigrations[:1]) {
		t.Fatalf("applied %v, want only %v", names, baseMigrations[:1])
	}
	if n := queryInt(t, bdb, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'users'"); n != 0 {
		t.Fatal("a failed migration left a partial schema")
	}
	exec(t, bdb, "DROP TABLE plans")
	up(t, bdb)
	wantAllTables(t, bdb)
}

func TestSingleConnectionPoolIsRefused(t *testing.T) {
	t.Parallel()
	pool := db.DefaultPool()
	pool.MaxOpenConns = 1
	bdb, err := db.Open(t.Context(), testkit.Postgres(t), pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bdb.Close() })
	for name, fn := range map[string]func(context.Context, *bun.DB) error{"up": migrations.Up, "down": migrations.Down} {
		t.Run(name, func(t *testing.T) {
			if err := fn(t.Context(), bdb); err == nil {
				t.Fatal("ran with a one-connection pool, which deadlocks")
			}
		})
	}
}
