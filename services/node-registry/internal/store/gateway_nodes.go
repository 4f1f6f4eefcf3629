package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

type GatewayNode struct {
	bun.BaseModel `bun:"table:gateway_nodes"`

	ID              int64      `bun:"id,pk,autoincrement" json:"id"`
	Name            string     `bun:"name" json:"name"`
	RegionID        *int64     `bun:"region_id" json:"region_id"`
	Region          *string    `bun:"region,scanonly" json:"region"`
	PublicIP        string     `bun:"public_ip" json:"public_ip"`
	InternalIP      string     `bun:"internal_ip" json:"internal_ip"`
	Status          string     `bun:"status" json:"status"`
	LastHeartbeatAt *time.Time `bun:"last_heartbeat_at" json:"last_heartbeat_at"`
	Sessions        int        `bun:"sessions" json:"sessions"`
	Streams         int        `bun:"streams" json:"streams"`
	BytesUpPerSec   float64    `bun:"bytes_up_per_sec" json:"bytes_up_per_sec"`
	BytesDownPerSec float64    `bun:"bytes_down_per_sec" json:"bytes_down_per_sec"`
	Version         string     `bun:"version" json:"version"`
	CreatedAt       time.Time  `bun:"created_at" json:"created_at"`
	UpdatedAt       time.Time  `bun:"updated_at" json:"updated_at"`
}

type NewGatewayNode struct {
	Name       string
	RegionID   *int64
	PublicIP   string
	InternalIP string
	Status     string
}

const gatewaySelect = `SELECT g.id, g.name, g.region_id, r.code AS region, g.public_ip, g.internal_ip, g.status,
	g.last_heartbeat_at, g.sessions, g.streams, g.bytes_up_per_sec, g.bytes_down_per_sec, g.version,
	g.created_at, g.updated_at
	FROM gateway_nodes g LEFT JOIN regions r ON r.id = g.region_id`

const gatewayFrom = "gateway_nodes g LEFT JOIN regions r ON r.id = g.region_id"

func (s *Store) CreateGatewayNode(ctx context.Context, n NewGatewayNode) (GatewayNode, error) {
	var id int64
	err := s.db.NewRaw(`INSERT INTO gateway_nodes (name, region_id, public_ip, internal_ip, status)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, n.Name, n.RegionID, n.PublicIP, n.InternalIP, n.Status).Scan(ctx, &id)
	if isUniqueViolation(err) {
		return GatewayNode{}, ErrDuplicate
	}
	if err != nil {
		return GatewayNode{}, fmt.Errorf("insert gateway node: %w", err)
	}
	return s.GatewayNodeByID(ctx, id)
}

func (s *Store) ListGatewayNodes(ctx context.Context, f NodeFilter, p Page) ([]GatewayNode, int64, error) {
	var w where
	if f.RegionCode != "" {
		w.add("r.code = ?", f.RegionCode)
	}
	if f.RegionID != 0 {
		w.add("g.region_id = ?", f.RegionID)
	}
	if f.Status != "" {
		w.add("g.status = ?", f.Status)
	}
	total, err := s.count(ctx, gatewayFrom, w)
	if err != nil {
		return nil, 0, fmt.Errorf("gateway nodes: %w", err)
	}
	out := []GatewayNode{}
	args := append(w.args, p.Limit, p.Offset)
	if err := s.db.NewRaw(gatewaySelect+" WHERE "+w.sql()+" ORDER BY g.id LIMIT ? OFFSET ?", args...).Scan(ctx, &out); err != nil {
		return nil, 0, fmt.Errorf("list gateway nodes: %w", err)
	}
	return out, total, nil
}

func (s *Store) GatewayNodeByID(ctx context.Context, id int64) (GatewayNode, error) {
	return s.gatewayWhere(ctx, "g.id = ?", id)
}

func (s *Store) GatewayNodeByName(ctx context.Context, name string) (GatewayNode, error) {
	return s.gatewayWhere(ctx, "g.name = ?", name)
}

func (s *Store) gatewayWhere(ctx context.Context, cond string, arg any) (GatewayNode, error) {
	var g GatewayNode
	if err := s.db.NewRaw(gatewaySelect+" WHERE "+cond, arg).Scan(ctx, &g); err != nil {
		return GatewayNode{}, fmt.Errorf("get gateway node: %w", notFound(err))
	}
	return g, nil
}

func (s *Store) SetGatewayStatus(ctx context.Context, id int64, status string) (GatewayNode, error) {
	res, err := s.db.NewRaw("UPDATE gateway_nodes SET status = ? WHERE id = ?", status, id).Exec(ctx)
	if err != nil {
		return GatewayNode{}, fmt.Errorf("set gateway node status: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return GatewayNode{}, fmt.Errorf("set gateway node status: %w", ErrNotFound)
	}
	return s.GatewayNodeByID(ctx, id)
}
