package migrations_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/httvps/httvps/migrations"
	"github.com/httvps/httvps/shared/db"
	"github.com/httvps/httvps/shared/testkit"
)

func openDB(tb testing.TB) *bun.DB {
	tb.Helper()
	bdb, err := db.Open(tb.Context(), testkit.Postgres(tb), db.DefaultPool())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = bdb.Close() })
	return bdb
}

func migratedDB(tb testing.TB) *bun.DB {
	tb.Helper()
	bdb := openDB(tb)
	up(tb, bdb)
	return bdb
}

func up(tb testing.TB, bdb *bun.DB) {
	tb.Helper()
	if err := migrations.Up(tb.Context(), bdb); err != nil {
		tb.Fatal(err)
	}
}

func down(tb testing.TB, bdb *bun.DB) {
	tb.Helper()
	if err := migrations.Down(tb.Context(), bdb); err != nil {
		tb.Fatal(err)
	}
}

func exec(tb testing.TB, bdb bun.IDB, query string, args ...any) {
	tb.Helper()
	if _, err := bdb.ExecContext(tb.Context(), query, args...); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

func queryStrings(tb testing.TB, bdb bun.IDB, query string, args ...any) []string {
	tb.Helper()
	var out []string
	if err := bdb.NewRaw(query, args...).Scan(tb.Context(), &out); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	slices.Sort(out)
	return out
}

func queryInt(tb testing.TB, bdb bun.IDB, query string, args ...any) int64 {
	tb.Helper()
	var n int64
	if err := bdb.NewRaw(query, args...).Scan(tb.Context(), &n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

func publicTables(tb testing.TB, bdb bun.IDB) []string {
	tb.Helper()
	return queryStrings(tb, bdb, "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'")
}

func sqlState(err error) string {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		return pgErr.Field('C')
	}
	return ""
}

func constraintName(err error) string {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		return pgErr.Field('n')
	}
	return ""
}
