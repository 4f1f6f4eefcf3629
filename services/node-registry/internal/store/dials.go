package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DialCount is one gateway's connects to one node since its last report.
type DialCount struct {
	NodeID    int64
	Failures  int
	Successes int
	LastOK    bool
	LastError string
}

// DialRule is when gateways' failed connects take a node out: Failures consecutive failures
// (summed over the gateways still failing), the latest within Window.
type DialRule struct {
	Failures int
	Window   time.Duration
}

// DialChange is a node whose passive mark changed: Down set, or cleared (Down false).
type DialChange struct {
	NodeID int64  `bun:"id"`
	Down   bool   `bun:"down"`
	Error  string `bun:"dial_error"`
}

// ApplyDialCount stores what a gateway saw when it dialed a node and re-evaluates the node's
// mark. It returns the change, if any, and false when the node does not exist.
func (s *Store) ApplyDialCount(ctx context.Context, gateway string, c DialCount, rule DialRule) (*DialChange, bool, error) {
	if c.Failures == 0 {
		return s.applyDialSuccesses(ctx, gateway, c, rule)
	}
	res, err := s.db.NewRaw(`INSERT INTO outline_node_dials AS d
			(outline_node_id, gateway_node_name, failures, last_failure_at, last_success_at, last_error)
		SELECT n.id, ?1,
			CASE WHEN ?2 THEN 0 ELSE ?3::int END,
			CASE WHEN ?3::int > 0 THEN now() END,
			CASE WHEN ?4::int > 0 THEN now() END,
			?5
		FROM outline_nodes n WHERE n.id = ?0
		ON CONFLICT (outline_node_id, gateway_node_name) DO UPDATE SET
			failures = CASE WHEN ?2 THEN 0 ELSE d.failures + ?3::int END,
			last_failure_at = COALESCE(EXCLUDED.last_failure_at, d.last_failure_at),
			last_success_at = COALESCE(EXCLUDED.last_success_at, d.last_success_at),
			last_error = CASE WHEN ?3::int > 0 THEN EXCLUDED.last_error ELSE d.last_error END`,
		c.NodeID, gateway, c.LastOK, c.Failures, c.Successes, c.LastError).Exec(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("store dials of node %d from %s: %w", c.NodeID, gateway, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, false, nil
	}
	return s.reevaluateNode(ctx, c.NodeID, rule)
}

// applyDialSuccesses resets a failing gateway's count; connects that only succeed, the usual
// report, write nothing.
func (s *Store) applyDialSuccesses(ctx context.Context, gateway string, c DialCount, rule DialRule) (*DialChange, bool, error) {
	res, err := s.db.NewRaw(`UPDATE outline_node_dials SET failures = 0, last_success_at = now()
		WHERE outline_node_id = ? AND gateway_node_name = ? AND failures > 0`, c.NodeID, gateway).Exec(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("store successes of node %d from %s: %w", c.NodeID, gateway, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, true, nil
	}
	return s.reevaluateNode(ctx, c.NodeID, rule)
}

func (s *Store) reevaluateNode(ctx context.Context, nodeID int64, rule DialRule) (*DialChange, bool, error) {
	changes, err := s.reevaluateDials(ctx, "n.id = ?", rule, nodeID)
	if err != nil || len(changes) == 0 {
		return nil, true, err
	}
	return &changes[0], true, nil
}

// ClearStaleDialMarks re-evaluates every marked node, so a mark whose failures left the window
// (the gateways that saw them stopped reporting) is cleared, and forgets old dial rows.
func (s *Store) ClearStaleDialMarks(ctx context.Context, rule DialRule) ([]DialChange, error) {
	changes, err := s.reevaluateDials(ctx, "n.dial_failed_at IS NOT NULL", rule)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.NewRaw(`DELETE FROM outline_node_dials
		WHERE COALESCE(last_failure_at, '-infinity') < now() - make_interval(secs => ?0)
			AND COALESCE(last_success_at, '-infinity') < now() - make_interval(secs => ?0)`, rule.Window.Seconds()).Exec(ctx); err != nil {
		return nil, fmt.Errorf("forget old dial rows: %w", err)
	}
	return changes, nil
}

func (s *Store) reevaluateDials(ctx context.Context, where string, rule DialRule, args ...any) ([]DialChange, error) {
	var changes []DialChange
	query := `WITH failing AS (
			SELECT n.id, COALESCE(sum(d.failures), 0) AS failures,
				(array_agg(d.last_error ORDER BY d.last_failure_at DESC) FILTER (WHERE d.outline_node_id IS NOT NULL))[1] AS last_error
			FROM outline_nodes n
			LEFT JOIN outline_node_dials d ON d.outline_node_id = n.id AND d.failures > 0
				AND d.last_failure_at > now() - make_interval(secs => ?)
			WHERE ` + where + `
			GROUP BY n.id)
		UPDATE outline_nodes n SET
			dial_failed_at = CASE WHEN f.failures >= ? THEN now() END,
			dial_error = CASE WHEN f.failures >= ? THEN format('%s failed connects from gateways: %s', f.failures, f.last_error) ELSE '' END
		FROM failing f
		WHERE n.id = f.id AND (f.failures >= ?) <> (n.dial_failed_at IS NOT NULL)
		RETURNING n.id, n.dial_failed_at IS NOT NULL AS down, n.dial_error`
	all := append([]any{rule.Window.Seconds()}, args...)
	all = append(all, rule.Failures, rule.Failures, rule.Failures)
	err := s.db.NewRaw(query, all...).Scan(ctx, &changes)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("re-evaluate dial marks: %w", err)
	}
	return changes, nil
}
