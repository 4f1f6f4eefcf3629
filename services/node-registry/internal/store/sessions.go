package store

import (
	"context"
	"fmt"
	"time"
)

type SessionResult int

const (
	SessionApplied SessionResult = iota
	SessionDuplicate
	SessionUnknownNode
)

// StartSession counts a session against its outline node. A session that is already known,
// active or ended (a tombstone), is left as it is.
func (s *Store) StartSession(ctx context.Context, sessionID string, nodeID int64, gateway string, startedAt time.Time) (SessionResult, error) {
	res, err := s.db.NewRaw(`INSERT INTO outline_node_sessions (session_id, outline_node_id, gateway_node_name, started_at)
		SELECT ?::uuid, id, ?, ? FROM outline_nodes WHERE id = ?
		ON CONFLICT (session_id) DO NOTHING`, sessionID, gateway, orNow(startedAt), nodeID).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("start session %s: %w", sessionID, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return SessionApplied, nil
	}
	return s.sessionOutcome(ctx, nodeID)
}

// EndSession stops counting a session. When its started event has not been seen yet, it leaves a
// tombstone (ended_at set) so the late started event does nothing. Without a node id (0) it can
// only end a session already counted.
func (s *Store) EndSession(ctx context.Context, sessionID string, nodeID int64, gateway string, startedAt, endedAt time.Time) (SessionResult, error) {
	if nodeID > 0 {
		res, err := s.db.NewRaw(`INSERT INTO outline_node_sessions AS s (session_id, outline_node_id, gateway_node_name, started_at, ended_at)
			SELECT ?0::uuid, id, ?1, ?2, ?3 FROM outline_nodes WHERE id = ?4
			ON CONFLICT (session_id) DO UPDATE SET ended_at = EXCLUDED.ended_at WHERE s.ended_at IS NULL`,
			sessionID, gateway, orNow(startedAt), orNow(endedAt), nodeID).Exec(ctx)
		if err != nil {
			return 0, fmt.Errorf("end session %s: %w", sessionID, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return SessionApplied, nil
		}
	}
	res, err := s.db.NewRaw(`UPDATE outline_node_sessions SET ended_at = ? WHERE session_id = ?::uuid AND ended_at IS NULL`,
		orNow(endedAt), sessionID).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("end session %s: %w", sessionID, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return SessionApplied, nil
	}
	if nodeID == 0 {
		return SessionDuplicate, nil
	}
	return s.sessionOutcome(ctx, nodeID)
}

func (s *Store) sessionOutcome(ctx context.Context, nodeID int64) (SessionResult, error) {
	var known bool
	if err := s.db.NewRaw("SELECT EXISTS (SELECT 1 FROM outline_nodes WHERE id = ?)", nodeID).Scan(ctx, &known); err != nil {
		return 0, fmt.Errorf("outline node %d: %w", nodeID, err)
	}
	if known {
		return SessionDuplicate, nil
	}
	return SessionUnknownNode, nil
}

// EndSessionsOfOfflineGateways ends the active sessions of gateways marked offline: a gateway that
// stopped sending heartbeats has lost its sessions. Only sessions known before the gateway went
// offline, or started before its last heartbeat, are ended, so a restarted gateway whose first
// heartbeat is still on its way keeps its new sessions.
func (s *Store) EndSessionsOfOfflineGateways(ctx context.Context) (int64, error) {
	res, err := s.db.NewRaw(`UPDATE outline_node_sessions s SET ended_at = now()
		FROM gateway_nodes g
		WHERE s.ended_at IS NULL AND s.gateway_node_name = g.name AND g.status = 'offline'
			AND (s.created_at <= g.updated_at OR s.started_at <= g.last_heartbeat_at)`).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("end sessions of offline gateways: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// PurgeTombstones deletes ended sessions older than ttl.
func (s *Store) PurgeTombstones(ctx context.Context, ttl time.Duration) (int64, error) {
	res, err := s.db.NewRaw(`DELETE FROM outline_node_sessions WHERE ended_at < now() - make_interval(secs => ?)`, ttl.Seconds()).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("purge ended sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func orNow(t time.Time) any {
	if t.IsZero() {
		return time.Now().UTC()
	}
	return t.UTC()
}
