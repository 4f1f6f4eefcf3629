package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// MarkSilentGatewaysOffline marks offline the gateways whose last heartbeat is older than
// offlineAfter. Gateways that never sent one keep their status.
func (s *Store) MarkSilentGatewaysOffline(ctx context.Context, offlineAfter time.Duration) ([]string, error) {
	var names []string
	err := s.db.NewRaw(`UPDATE gateway_nodes SET status = 'offline'
		WHERE status <> 'offline' AND last_heartbeat_at < now() - make_interval(secs => ?)
		RETURNING name`, offlineAfter.Seconds()).Scan(ctx, &names)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("mark silent gateways offline: %w", err)
	}
	return names, nil
}

// MarkSilentOutlineNodesOffline marks offline the outline nodes whose last heartbeat is older than
// offlineAfter. Nodes that never sent one keep their admin-set health.
func (s *Store) MarkSilentOutlineNodesOffline(ctx context.Context, offlineAfter time.Duration) ([]int64, error) {
	var ids []int64
	err := s.db.NewRaw(`UPDATE outline_nodes SET health_status = 'offline'
		WHERE health_status <> 'offline' AND last_heartbeat_at < now() - make_interval(secs => ?)
		RETURNING id`, offlineAfter.Seconds()).Scan(ctx, &ids)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("mark silent outline nodes offline: %w", err)
	}
	return ids, nil
}

type StatusCount struct {
	Kind   string `bun:"kind"`
	Status string `bun:"status"`
	Count  int64  `bun:"count"`
}

// CountNodesByStatus counts gateway nodes by status and outline nodes by health.
func (s *Store) CountNodesByStatus(ctx context.Context) ([]StatusCount, error) {
	var out []StatusCount
	err := s.db.NewRaw(`SELECT 'gateway' AS kind, status, count(*) AS count FROM gateway_nodes GROUP BY status
		UNION ALL
		SELECT 'outline', health_status, count(*) FROM outline_nodes GROUP BY health_status`).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("count nodes by status: %w", err)
	}
	return out, nil
}
