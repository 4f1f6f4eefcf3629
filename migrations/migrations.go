// Package migrations holds the HTTVPS PostgreSQL schema as embedded SQL
// migrations and applies them with bun's migrate package.
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

const migrationsTable = "bun_migrations"

//go:embed sql/*.sql
var sqlFiles embed.FS

var migrationSet = sync.OnceValues(func() (*migrate.Migrations, error) {
	fsys, err := fs.Sub(sqlFiles, "sql")
	if err != nil {
		return nil, err
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(fsys); err != nil {
		return nil, err
	}
	return ms, nil
})

// MigrationStatus describes one migration known to this build.
type MigrationStatus struct {
	Name       string
	Applied    bool
	GroupID    int64
	MigratedAt time.Time
}

// Up applies every pending migration. It is a no-op when none is pending and
// safe to call from several processes at once.
func Up(ctx context.Context, db *bun.DB) error {
	return withMigrator(ctx, db, func(m *migrate.Migrator) error {
		if _, err := m.Migrate(ctx); err != nil {
			return fmt.Errorf("migrations: up: %w", err)
		}
		return nil
	})
}

// Down rolls back every applied migration, newest first.
func Down(ctx context.Context, db *bun.DB) error {
	return withMigrator(ctx, db, func(m *migrate.Migrator) error {
		for {
			group, err := m.Rollback(ctx)
			if err != nil {
				return fmt.Errorf("migrations: down: %w", err)
			}
			if group.IsZero() {
				return nil
			}
		}
	})
}

// Status lists the migrations of this build in order, with what the
// database records about them. It does not write.
func Status(ctx context.Context, db *bun.DB) ([]MigrationStatus, error) {
	m, err := newMigrator(db)
	if err != nil {
		return nil, err
	}
	var exists bool
	if err := db.NewSelect().ColumnExpr("to_regclass(?) IS NOT NULL", migrationsTable).Scan(ctx, &exists); err != nil {
		return nil, fmt.Errorf("migrations: status: %w", err)
	}
	var ms migrate.MigrationSlice
	if exists {
		if ms, err = m.MigrationsWithStatus(ctx); err != nil {
			return nil, fmt.Errorf("migrations: status: %w", err)
		}
	} else {
		set, _ := migrationSet()
		ms = set.Sorted()
	}
	out := make([]MigrationStatus, len(ms))
	for i, mig := range ms {
		out[i] = MigrationStatus{
			Name:       mig.String(),
			Applied:    mig.IsApplied(),
			GroupID:    mig.GroupID,
			MigratedAt: mig.MigratedAt,
		}
	}
	return out, nil
}

func newMigrator(db *bun.DB) (*migrate.Migrator, error) {
	ms, err := migrationSet()
	if err != nil {
		return nil, fmt.Errorf("migrations: load embedded SQL: %w", err)
	}
	return migrate.NewMigrator(db, ms,
		migrate.WithTableName(migrationsTable),
		migrate.WithMarkAppliedOnSuccess(true),
	), nil
}

func withMigrator(ctx context.Context, db *bun.DB, fn func(*migrate.Migrator) error) error {
	m, err := newMigrator(db)
	if err != nil {
		return err
	}
	return withLock(ctx, db, func() error {
		if err := m.Init(ctx); err != nil {
			return fmt.Errorf("migrations: create %s: %w", migrationsTable, err)
		}
		return fn(m)
	})
}
