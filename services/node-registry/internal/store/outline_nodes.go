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

	ID              int64      `bun:"id,pk,autoincrement" json:"id"`
	RegionID        int64      `bun:"region_id" json:"region_id"`
	Region          string     `bun:"region,scanonly" json:"region"`
	Name            string     `bun:"name" json:"name"`
	InternalIP      string     `bun:"internal_ip" json:"internal_ip"`
	SSPort          int        `bun:"ss_port" json:"ss_port"`
	SSMethod        string     `bun:"ss_method" json:"ss_method"`
	MaxSessions     int        `bun:"max_sessions" json:"max_sessions"`
	ActiveSessions  int        `bun:"active_sessions,scanonly" json:"active_sessions"`
	HealthStatus    string     `bun:"health_status" json:"health_status"`
	LastHeartbeatAt *time.Time `bun:"last_heartbeat_at" json:"last_heartbeat_at"`
	CreatedAt       time.Time  `bun:"created_at" json:"created_at"`
	UpdatedAt       time.Time  `bun:"updated_at" json:"updated_at"`
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
	n.max_sessions, n.health_status, n.last_heartbeat_at, n.created_at, n.updated_at,
	(SELECT count(*) FROM outline_node_sessions s WHERE s.outline_node_id = n.id AND s.ended_at IS NULL) AS active_sessions
	FROM outline_nodes n JOIN regions r ON r.id = n.region_id`

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
		w.add("n.health_status = ?", f.Status)
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

func (s *Store) SetOutlineHealth(ctx context.Context, id int64, status string) (OutlineNode, error) {
	res, err := s.db.NewRaw("UPDATE outline_nodes SET health_status = ? WHERE id = ?", status, id).Exec(ctx)
	if err != nil {
		return OutlineNode{}, fmt.Errorf("set outline node health: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return OutlineNode{}, fmt.Errorf("set outline node health: %w", ErrNotFound)
	}
	return s.OutlineNodeByID(ctx, id)
}
