package store

import (
	"context"
	"fmt"
	"time"
)

type GatewayBeat struct {
	Name            string
	RegionCode      string
	PublicIP        string
	InternalIP      string
	Status          string
	Sessions        int
	Streams         int
	BytesUpPerSec   float64
	BytesDownPerSec float64
	Version         string
	// At is when NATS stored the heartbeat; it becomes last_heartbeat_at (capped at now()).
	At time.Time
}

// ApplyGatewayHeartbeat upserts the gateway row by name. A heartbeat older than the stored one
// changes nothing (applied false); one older than offlineAfter stores the gateway as offline.
func (s *Store) ApplyGatewayHeartbeat(ctx context.Context, b GatewayBeat, offlineAfter time.Duration) (bool, error) {
	res, err := s.db.NewRaw(`INSERT INTO gateway_nodes AS g
		(name, region_id, public_ip, internal_ip, status, last_heartbeat_at,
		 sessions, streams, bytes_up_per_sec, bytes_down_per_sec, version)
		VALUES (?0, (SELECT id FROM regions WHERE code = ?1), ?2, ?3,
			CASE WHEN ?4::timestamptz < now() - make_interval(secs => ?5) THEN 'offline' ELSE ?6 END,
			LEAST(?4::timestamptz, now()), ?7, ?8, ?9, ?10, ?11)
		ON CONFLICT (name) DO UPDATE SET
			region_id = COALESCE(EXCLUDED.region_id, g.region_id),
			public_ip = COALESCE(NULLIF(EXCLUDED.public_ip, ''), g.public_ip),
			internal_ip = COALESCE(NULLIF(EXCLUDED.internal_ip, ''), g.internal_ip),
			status = EXCLUDED.status,
			last_heartbeat_at = EXCLUDED.last_heartbeat_at,
			sessions = EXCLUDED.sessions,
			streams = EXCLUDED.streams,
			bytes_up_per_sec = EXCLUDED.bytes_up_per_sec,
			bytes_down_per_sec = EXCLUDED.bytes_down_per_sec,
			version = COALESCE(NULLIF(EXCLUDED.version, ''), g.version)
		WHERE g.last_heartbeat_at IS NULL OR g.last_heartbeat_at <= EXCLUDED.last_heartbeat_at`,
		b.Name, b.RegionCode, b.PublicIP, b.InternalIP, b.At.UTC(), offlineAfter.Seconds(), b.Status,
		b.Sessions, b.Streams, b.BytesUpPerSec, b.BytesDownPerSec, b.Version).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("upsert gateway heartbeat %s: %w", b.Name, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

type OutlineBeat struct {
	NodeID            int64
	HealthStatus      string
	Reason            string
	ActiveConnections int
	BytesPerSec       float64
	ProbeMS           *float64
	At                time.Time
}

type BeatResult int

const (
	BeatApplied BeatResult = iota
	BeatStale
	BeatUnknownNode
)

// ApplyOutlineHeartbeat sets the health, reason, load and last_heartbeat_at of a known node,
// unless a newer heartbeat was already stored. left reports a node that was healthy and is not
// any more: its sessions must move.
func (s *Store) ApplyOutlineHeartbeat(ctx context.Context, b OutlineBeat, offlineAfter time.Duration) (result BeatResult, left bool, err error) {
	var row struct {
		Result string `bun:"result"`
		Left   bool   `bun:"left"`
	}
	err = s.db.NewRaw(`WITH node AS (SELECT id, health_status AS old FROM outline_nodes WHERE id = ?0 FOR UPDATE),
		updated AS (
			UPDATE outline_nodes n SET
				health_status = CASE WHEN ?1::timestamptz < now() - make_interval(secs => ?2) THEN 'offline' ELSE ?3 END,
				health_reason = ?4,
				active_connections = ?5,
				bytes_per_sec = ?6,
				probe_ms = ?7,
				last_heartbeat_at = LEAST(?1::timestamptz, now())
			FROM node
			WHERE n.id = node.id AND (n.last_heartbeat_at IS NULL OR n.last_heartbeat_at <= LEAST(?1::timestamptz, now()))
			RETURNING node.old, n.health_status)
		SELECT CASE WHEN EXISTS (SELECT 1 FROM updated) THEN 'applied'
			WHEN EXISTS (SELECT 1 FROM node) THEN 'stale' ELSE 'unknown' END AS result,
			EXISTS (SELECT 1 FROM updated WHERE old = 'healthy' AND health_status <> 'healthy') AS left`,
		b.NodeID, b.At.UTC(), offlineAfter.Seconds(), b.HealthStatus, b.Reason, b.ActiveConnections, b.BytesPerSec, b.ProbeMS).Scan(ctx, &row)
	if err != nil {
		return 0, false, fmt.Errorf("apply outline heartbeat %d: %w", b.NodeID, err)
	}
	switch row.Result {
	case "applied":
		return BeatApplied, row.Left, nil
	case "stale":
		return BeatStale, false, nil
	default:
		return BeatUnknownNode, false, nil
	}
}
