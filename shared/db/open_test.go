package db_test

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun/dialect"

	"github.com/httvps/httvps/shared/db"
	"github.com/httvps/httvps/shared/testkit"
)

const secret = "s3cr3t-pa55"

func closedPort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		tb.Fatal(err)
	}
	return port
}

func withDatabase(tb testing.TB, dsn, name string) string {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func TestOpenConnects(t *testing.T) {
	pool := db.PoolConfig{MaxOpenConns: 3, MaxIdleConns: 2, ConnMaxLifetime: time.Minute, ConnMaxIdleTime: time.Second}
	bdb, err := db.Open(t.Context(), testkit.Postgres(t), pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bdb.Close() })
	if got := bdb.Dialect().Name(); got != dialect.PG {
		t.Errorf("dialect %s, want pg", got)
	}
	if got := bdb.Stats().MaxOpenConnections; got != pool.MaxOpenConns {
		t.Errorf("MaxOpenConnections %d, want %d", got, pool.MaxOpenConns)
	}
	var tz string
	if err := bdb.NewSelect().ColumnExpr("current_setting('TimeZone')").Scan(t.Context(), &tz); err != nil {
		t.Fatal(err)
	}
	if tz != "UTC" {
		t.Errorf("server time zone %q, want UTC", tz)
	}
}

func TestOpenFailsClearly(t *testing.T) {
	port := closedPort(t)
	missingDB := withDatabase(t, testkit.Postgres(t), "no_such_database")
	tests := []struct {
		name  string
		dsn   string
		pool  db.PoolConfig
		wants []string
	}{
		{
			name:  "unreachable",
			dsn:   "postgres://app:" + secret + "@127.0.0.1:" + strconv.Itoa(port) + "/app?sslmode=disable",
			pool:  db.DefaultPool(),
			wants: []string{"database: connect to 127.0.0.1:" + strconv.Itoa(port) + ":", "refused"},
		},
		{
			name:  "missing database",
			dsn:   missingDB,
			pool:  db.DefaultPool(),
			wants: []string{"database: connect to 127.0.0.1:", "no_such_database"},
		},
		{
			name:  "wrong scheme",
			dsn:   "mysql://app:" + secret + "@127.0.0.1/app",
			pool:  db.DefaultPool(),
			wants: []string{"database: invalid DSN", "postgres://"},
		},
		{
			name:  "malformed",
			dsn:   "postgres://app:" + secret + "%zz@127.0.0.1/app",
			pool:  db.DefaultPool(),
			wants: []string{"database: invalid DSN"},
		},
		{
			name:  "key value form",
			dsn:   "host=127.0.0.1 password=" + secret,
			pool:  db.DefaultPool(),
			wants: []string{"database: invalid DSN"},
		},
		{
			name:  "bad sslmode",
			dsn:   "postgres://app:" + secret + "@127.0.0.1/app?sslmode=sometimes",
			pool:  db.DefaultPool(),
			wants: []string{"database: invalid DSN postgres://app:xxxxx@127.0.0.1/app", "sslmode"},
		},
		{
			name:  "negative pool",
			dsn:   "postgres://app@127.0.0.1/app",
			pool:  db.PoolConfig{MaxOpenConns: -1},
			wants: []string{"database: pool:", "MaxOpenConns"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			bdb, err := db.Open(ctx, tt.dsn, tt.pool)
			if err == nil {
				_ = bdb.Close()
				t.Fatal("Open succeeded")
			}
			t.Log(err)
			for _, want := range tt.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q leaks the password", err)
			}
		})
	}
}

func TestOpenHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	bdb, err := db.Open(ctx, testkit.Postgres(t), db.DefaultPool())
	if err == nil {
		_ = bdb.Close()
		t.Fatal("Open succeeded with a cancelled context")
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("Open took %v with a cancelled context", elapsed)
	}
}

func TestRedactDSN(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"password", "postgres://app:" + secret + "@db:5432/httvps?sslmode=disable", "postgres://app:xxxxx@db:5432/httvps?sslmode=disable"},
		{"no password", "postgres://app@db/httvps", "postgres://app@db/httvps"},
		{"password param", "postgresql://app@db/httvps?password=" + secret + "&sslmode=require", "postgresql://app@db/httvps?password=xxxxx&sslmode=require"},
		{"malformed", "postgres://app:" + secret + "%zz@db/x", "[unparseable DSN]"},
		{"key value form", "host=db password=" + secret, "[unparseable DSN]"},
		{"opaque", "postgres:app:" + secret + "@db", "[unparseable DSN]"},
		{"empty", "", "[unparseable DSN]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := db.RedactDSN(tt.in); got != tt.want {
				t.Fatalf("RedactDSN(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDefaultPool(t *testing.T) {
	p := db.DefaultPool()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.MaxOpenConns <= 0 || p.MaxIdleConns <= 0 || p.MaxIdleConns > p.MaxOpenConns {
		t.Fatalf("unexpected default pool %+v", p)
	}
}
