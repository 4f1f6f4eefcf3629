package pglocal

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

func pgOpen(tb testing.TB, dsn string) *sql.DB {
	tb.Helper()
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn)))
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

func pgQueryInt(tb testing.TB, db *sql.DB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := db.QueryRowContext(tb.Context(), query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

func pgExec(tb testing.TB, db *sql.DB, query string) {
	tb.Helper()
	if _, err := db.ExecContext(tb.Context(), query); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

func TestPostgresGivesFreshIsolatedDatabases(t *testing.T) {
	first, second := Postgres(t), Postgres(t)
	if first == second {
		t.Fatalf("two calls returned the same DSN %s", first)
	}
	for _, dsn := range []string{first, second} {
		if !strings.HasPrefix(dsn, "postgres://") || !strings.Contains(dsn, "sslmode=disable") {
			t.Errorf("DSN %q: want postgres://...?sslmode=disable", dsn)
		}
	}
	a, b := pgOpen(t, first), pgOpen(t, second)
	const tables = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
	if n := pgQueryInt(t, a, tables); n != 0 {
		t.Fatalf("fresh database has %d tables", n)
	}
	pgExec(t, a, "CREATE TABLE only_here (id int)")
	if n := pgQueryInt(t, b, tables); n != 0 {
		t.Fatalf("table leaked into the other database: %d tables", n)
	}
}

func TestPostgresDropsDatabaseOnCleanup(t *testing.T) {
	var name string
	t.Run("user", func(t *testing.T) {
		db := pgOpen(t, Postgres(t))
		if err := db.QueryRowContext(t.Context(), "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
	})
	c, err := pgShared.get()
	if err != nil {
		t.Fatal(err)
	}
	if n := pgQueryInt(t, c.admin, "SELECT count(*) FROM pg_database WHERE datname = $1", name); n != 0 {
		t.Fatalf("database %s still exists after cleanup", name)
	}
}

func TestPostgresParallel(t *testing.T) {
	for i := range 8 {
		t.Run(fmt.Sprintf("db%d", i), func(t *testing.T) {
			t.Parallel()
			db := pgOpen(t, Postgres(t))
			if n := pgQueryInt(t, db, "SELECT 1 + $1::int", i); n != i+1 {
				t.Fatalf("got %d", n)
			}
		})
	}
}

func TestPostgresDBNames(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "TestX", "testx"},
		{"subtest", "TestX/Case_1", "testx_case_1"},
		{"unicode", "Test/ü b", "test___b"},
		{"long", strings.Repeat("a", 60), strings.Repeat("a", pgTestDBSlugLen)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pgSlug(tt.in, pgTestDBSlugLen); got != tt.want {
				t.Fatalf("pgSlug(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFindPGBinDirMissing(t *testing.T) {
	_, err := findPGBinDir(filepath.Join(t.TempDir(), "pg_config"), filepath.Join(t.TempDir(), "*", "bin"))
	if err == nil || !strings.Contains(err.Error(), "make deps") {
		t.Fatalf("error %v: want a hint to run make deps", err)
	}
}

func TestFindPGBinDirInstalled(t *testing.T) {
	dir, err := pgBinDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{"initdb", "postgres"} {
		if !pgIsExecutable(filepath.Join(dir, bin)) {
			t.Errorf("%s missing in %s", bin, dir)
		}
	}
}

func pgReachableTempDir(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

type pgSyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *pgSyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *pgSyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func pgStartCluster(tb testing.TB, dir string, log *pgSyncBuffer) *Cluster {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), pgTestStartTimeout)
	defer cancel()
	c, err := StartCluster(ctx, dir, 0, log)
	if err != nil {
		tb.Fatalf("start cluster: %v\n%s", err, log)
	}
	tb.Cleanup(func() { _ = c.Stop(context.Background()) })
	return c
}

func pgStopCluster(tb testing.TB, c *Cluster) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), pgTestStopTimeout)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		tb.Fatal(err)
	}
	select {
	case <-c.exited:
	default:
		tb.Fatal("postgres still running after Stop")
	}
}

func TestStartClusterReusesDataDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(pgReachableTempDir(t), "nested", "postgres")
	log := &pgSyncBuffer{}
	c := pgStartCluster(t, dir, log)
	if !strings.Contains(log.String(), "The files belonging to this database system") {
		t.Fatalf("initdb did not run on an empty dir:\n%s", log.String())
	}
	for range 2 {
		if err := c.CreateDatabase(t.Context(), "app"); err != nil {
			t.Fatal(err)
		}
	}
	pgExec(t, pgOpen(t, c.DSN("app")), "CREATE TABLE kept (id int)")
	pgStopCluster(t, c)
	if err := c.Stop(t.Context()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}

	log = &pgSyncBuffer{}
	c = pgStartCluster(t, dir, log)
	if strings.Contains(log.String(), "The files belonging to this database system") {
		t.Fatalf("initdb ran again on an initialized dir:\n%s", log.String())
	}
	db := pgOpen(t, c.DSN("app"))
	if n := pgQueryInt(t, db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'kept'"); n != 1 {
		t.Fatal("table created before the restart is gone")
	}
	_ = db.Close()
	if err := c.DropDatabase(t.Context(), "app"); err != nil {
		t.Fatal(err)
	}
	if err := c.DropDatabase(t.Context(), "app"); err != nil {
		t.Fatalf("dropping a missing database: %v", err)
	}
	pgStopCluster(t, c)
}

func TestStartClusterFixedPortInUse(t *testing.T) {
	t.Parallel()
	c, err := pgShared.get()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err = StartCluster(ctx, filepath.Join(pgReachableTempDir(t), "pg"), c.Port(), nil)
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("error %v: want port in use", err)
	}
}

func TestStartClusterRejectsForeignDir(t *testing.T) {
	t.Parallel()
	dir := pgReachableTempDir(t)
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := StartCluster(t.Context(), dir, 0, nil)
	if err == nil || !strings.Contains(err.Error(), "neither empty nor") {
		t.Fatalf("error %v: want a refusal to use a foreign directory", err)
	}
}

func TestOwnerMustReachDataDir(t *testing.T) {
	stranger := &pgOwner{uid: 54321, gid: 54321}
	tests := []struct {
		name string
		mode os.FileMode
		ok   bool
	}{
		{"private parent", 0o700, false},
		{"searchable parent", 0o711, true},
		{"open parent", 0o755, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := pgReachableTempDir(t)
			if err := os.Chmod(parent, tt.mode); err != nil {
				t.Fatal(err)
			}
			err := stranger.checkReachable(filepath.Join(parent, "pg"))
			if tt.ok != (err == nil) {
				t.Fatalf("checkReachable: %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "not searchable") {
				t.Fatalf("unclear error: %v", err)
			}
		})
	}
}
