package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun/dialect/pgdialect"
)

type Assignment struct {
	NodeID         int64  `bun:"id"`
	Region         string `bun:"region"`
	InternalIP     string `bun:"internal_ip"`
	SSPort         int    `bun:"ss_port"`
	SSMethod       string `bun:"ss_method"`
	SSPassword     string `bun:"ss_password"`
	ActiveSessions int    `bun:"active_sessions"`
	MaxSessions    int    `bun:"max_sessions"`
	Connections    int    `bun:"active_connections"`
}

// PickOutlineNode returns the healthy node of the region with the lowest load (ties: lowest
// id), skipping full, excluded and dial-failed nodes. The load is the larger of the share of
// max_sessions in use and the live connections its agent reports over max_sessions ×
// connsPerSession.
func (s *Store) PickOutlineNode(ctx context.Context, regionCode string, exclude []int64, connsPerSession int) (Assignment, error) {
	if exclude == nil {
		exclude = []int64{}
	}
	var a Assignment
	err := s.db.NewRaw(`SELECT n.id, r.code AS region, n.internal_ip, n.ss_port, n.ss_method, n.ss_password,
			n.max_sessions, a.active_sessions, n.active_connections
		FROM outline_nodes n
		JOIN regions r ON r.id = n.region_id
		CROSS JOIN LATERAL (SELECT count(*) AS active_sessions FROM outline_node_sessions s
			WHERE s.outline_node_id = n.id AND s.ended_at IS NULL) a
		WHERE r.code = ? AND n.health_status = 'healthy' AND n.dial_failed_at IS NULL AND n.id <> ALL(?::bigint[])
			AND a.active_sessions < n.max_sessions
		ORDER BY GREATEST(a.active_sessions::float8 / n.max_sessions,
			n.active_connections::float8 / (n.max_sessions::float8 * ?)), n.id
		LIMIT 1`, regionCode, pgdialect.Array(exclude), connsPerSession).Scan(ctx, &a)
	if err == nil {
		return a, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Assignment{}, fmt.Errorf("pick outline node in %s: %w", regionCode, err)
	}
	if _, err := s.RegionByCode(ctx, regionCode); err != nil {
		if errors.Is(err, ErrNotFound) {
			return Assignment{}, ErrRegionUnknown
		}
		return Assignment{}, err
	}
	return Assignment{}, ErrNoCapacity
}
