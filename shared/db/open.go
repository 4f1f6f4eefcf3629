package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
)

// Open connects to PostgreSQL at dsn (a postgres:// URL), applies pool and
// pings within ctx. Errors never contain the password.
func Open(ctx context.Context, dsn string, pool PoolConfig) (*bun.DB, error) {
	if err := pool.Validate(); err != nil {
		return nil, fmt.Errorf("database: pool: %w", err)
	}
	if _, err := parseDSN(dsn); err != nil {
		return nil, fmt.Errorf("database: invalid DSN: %w", err)
	}
	connector, err := pgdriver.NewDriver().OpenConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("database: invalid DSN %s: %w", RedactDSN(dsn), err)
	}
	sqldb := sql.OpenDB(connector)
	sqldb.SetMaxOpenConns(pool.MaxOpenConns)
	sqldb.SetMaxIdleConns(pool.MaxIdleConns)
	sqldb.SetConnMaxLifetime(pool.ConnMaxLifetime)
	sqldb.SetConnMaxIdleTime(pool.ConnMaxIdleTime)
	db := bun.NewDB(sqldb, pgdialect.New())
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("database: connect to %s: %w", dsnAddr(connector), err)
	}
	return db, nil
}

func dsnAddr(c driver.Connector) string {
	if pc, ok := c.(*pgdriver.Connector); ok {
		return pc.Config().Addr
	}
	return "postgres"
}
