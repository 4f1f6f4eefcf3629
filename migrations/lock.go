package migrations

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

const (
	lockKey          int64 = 0x4854545650530001
	lockPollInterval       = 100 * time.Millisecond
)

var errOneConn = errors.New("migrations: the pool must allow at least 2 connections (one holds the lock)")

// withLock serialises migrators across processes with a transaction-level
// advisory lock, released even if this process dies.
func withLock(ctx context.Context, db *bun.DB, fn func() error) error {
	if db.Stats().MaxOpenConnections == 1 {
		return errOneConn
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return lockErr(ctx, err)
	}
	defer func() { _ = tx.Rollback() }()
	for {
		var locked bool
		if err := tx.QueryRowContext(ctx, "SELECT pg_try_advisory_xact_lock(?)", lockKey).Scan(&locked); err != nil {
			return lockErr(ctx, err)
		}
		if locked {
			return fn()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("migrations: wait for another migrator: %w", ctx.Err())
		case <-time.After(lockPollInterval):
		}
	}
}

// lockErr says the wait ran out when ctx ended during a lock query (a loaded machine).
func lockErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("migrations: wait for another migrator: %w", ctx.Err())
	}
	return fmt.Errorf("migrations: lock: %w", err)
}
