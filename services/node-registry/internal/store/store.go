// Package store reads and writes the node-registry tables: regions, outline_nodes,
// gateway_nodes and outline_node_sessions.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

type Store struct {
	db bun.IDB
}

func New(db bun.IDB) *Store { return &Store{db: db} }

// InTx runs fn with a Store bound to one transaction.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx *Store) error) error {
	return s.db.RunInTx(ctx, &sql.TxOptions{}, func(ctx context.Context, tx bun.Tx) error {
		return fn(ctx, New(tx))
	})
}

type Page struct {
	Limit  int
	Offset int
}

// NodeFilter selects gateway or outline nodes; Status is an outline node's health_status.
type NodeFilter struct {
	RegionCode string
	RegionID   int64
	Status     string
}

// where collects SQL conditions with bun placeholders.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return "TRUE"
	}
	return strings.Join(w.conds, " AND ")
}

func (s *Store) count(ctx context.Context, from string, w where) (int64, error) {
	var n int64
	if err := s.db.NewRaw("SELECT count(*) FROM "+from+" WHERE "+w.sql(), w.args...).Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	return n, nil
}
