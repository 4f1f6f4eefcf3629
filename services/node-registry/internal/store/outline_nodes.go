package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// OutlineNode is the admin view of an outline node: it never carries ss_password.
type OutlineNode struct {
	bun.BaseModel `bun:"table:outline_nodes"`

	ID             int64  `bun:"id,pk,autoincrement" json:"id"`
	RegionID       int64  `bun:"region_id" json:"region_id"`
	Region         string `bun:"region,scanonly" json:"region"`
	Name           string `bun:"name" json:"name"`
	InternalIP     string `bun:"internal_ip" json:"internal_ip"`
	SSPort         int    `bun:"ss_port" json:"ss_port"`
	SSMethod       string `bun:"ss_method" json:"ss_method"`
	MaxSessions    int    `bun:"max_sessions" json:"max_sessions"`
	ActiveSessions int    `bun:"active_sessions,scanonly" json:"active_sessions"`
	// HealthStatus is what node-registry assigns by: the reported or admin status, shown as
	// unhealthy while gateways' failed connects mark the node (DialFailedAt).
	HealthStatus      string     `bun:"health_status" json:"health_status"`
	HealthReason      string     `bun:"health_reason" json:"health_reason,omitempty"`
	ActiveConnections int        `bun:"active_connections" json:"active_connections"`
	BytesPerSec       float64    `bun:"bytes_per_sec" json:"bytes_per_sec"`
	ProbeMS           *float64   `bun:"probe_ms" json:"probe_ms"`
	DialFailedAt      *time.Time `bun:"dial_failed_at" json:"dial_failed_at"`
	LastHeartbeatAt   *time.Time `bun:"last_heartbeat_at" json:"last_heartbeat_at"`
	CreatedAt         time.Time  `bun:"created_at" json:"created_at"`
	UpdatedAt         time.Time  `bun:"updated_at" json:"updated_at"`
}

type NewOutlineNode struct {
	RegionID     int64
	Name         string
	InternalIP   string
	SSPort       int
	SSMethod     string
	SSPassword   string
	MaxSessions  int
	HealthStatus string
}

const outlineSelect = `SELECT n.id, n.region_id, r.code AS region, n.name, n.internal_ip, n.ss_port, n.ss_method,
	n.max_sessions, n.last_heartbeat_at, n.created_at, n.updated_at,
	` + effectiveHealth + ` AS health_status,
	CASE WHEN n.dial_failed_at IS NOT NULL THEN n.dial_error ELSE n.health_reason END AS health_reason,
	n.active_connections, n.bytes_per_sec, n.probe_ms, n.dial_failed_at,
	(SELECT count(*) FROM outline_node_sessions s WHERE s.outline_node_id = n.id AND s.ended_at IS NULL) AS active_sessions
	FROM outline_nodes n JOIN regions r ON r.id = n.region_id`

// effectiveHealth is the health assignment goes by: a dial-failed node counts as unhealthy.
const effectiveHealth = "CASE WHEN n.dial_failed_at IS NOT NULL AND n.health_status = 'healthy' THEN 'unhealthy' ELSE n.health_status END"

const outlineFrom = "outline_nodes n JOIN regions r ON r.id = n.region_id"

func (s *Store) CreateOutlineNode(ctx context.Context, n NewOutlineNode) (OutlineNode, error) {
	var id int64
	err := s.db.NewRaw(`INSERT INTO outline_nodes
		(region_id, name, internal_ip, ss_port, ss_method, ss_password, max_sessions, health_status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		n.RegionID, n.Name, n.InternalIP, n.SSPort, n.SSMethod, n.SSPassword, n.MaxSessions, n.HealthStatus).Scan(ctx, &id)
	if isUniqueViolation(err) {
		return OutlineNode{}, ErrDuplicate
	}
	if err != nil {
		return OutlineNode{}, fmt.Errorf("insert outline node: %w", err)
	}
	return s.OutlineNodeByID(ctx, id)
}

func (s *Store) ListOutlineNodes(ctx context.Context, f NodeFilter, p Page) ([]OutlineNode, int64, error) {
	var w where
	if f.RegionCode != "" {
		w.add("r.code = ?", f.RegionCode)
	}
	if f.RegionID != 0 {
		w.add("n.region_id = ?", f.RegionID)
	}
	if f.Status != "" {
		w.add(effectiveHealth+" = ?", f.Status)
	}
	total, err := s.count(ctx, outlineFrom, w)
	if err != nil {
		return nil, 0, fmt.Errorf("outline nodes: %w", err)
	}
	out := []OutlineNode{}
	args := append(w.args, p.Limit, p.Offset)
	if err := s.db.NewRaw(outlineSelect+" WHERE "+w.sql()+" ORDER BY n.id LIMIT ? OFFSET ?", args...).Scan(ctx, &out); err != nil {
		return nil, 0, fmt.Errorf("list outline nodes: %w", err)
	}
	return out, total, nil
}

func (s *Store) OutlineNodeByID(ctx context.Context, id int64) (OutlineNode, error) {
	var n OutlineNode
	if err := s.db.NewRaw(outlineSelect+" WHERE n.id = ?", id).Scan(ctx, &n); err != nil {
		return OutlineNode{}, fmt.Errorf("get outline node: %w", notFound(err))
	}
	return n, nil
}

// SetOutlineHealth is the admin override. Setting healthy also clears the gateways' failed
// connects, so the node is assigned again at once.
func (s *Store) SetOutlineHealth(ctx context.Context, id int64, status string) (OutlineNode, error) {
	res, err := s.db.NewRaw(`WITH forget AS (DELETE FROM outline_node_dials WHERE outline_node_id = ?1 AND ?0 = 'healthy')
		UPDATE outline_nodes SET health_status = ?0, health_reason = '',
			dial_failed_at = CASE WHEN ?0 = 'healthy' THEN NULL ELSE dial_failed_at END,
			dial_error = CASE WHEN ?0 = 'healthy' THEN '' ELSE dial_error END
		WHERE id = ?1`, status, id).Exec(ctx)
	if err != nil {
		return OutlineNode{}, fmt.Errorf("set outline node health: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return OutlineNode{}, fmt.Errorf("set outline node health: %w", ErrNotFound)
	}
	return s.OutlineNodeByID(ctx, id)
}
