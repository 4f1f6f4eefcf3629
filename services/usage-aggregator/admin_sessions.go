package usageaggregator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/admin"
	"github.com/uptrace/bun"
)

const (
	filterUserID  = "user_id"
	filterDevice  = "device_id"
	filterGateway = "gateway"
	filterActive  = "active"
)

type sessionObject struct {
	bun.BaseModel `bun:"table:sessions,alias:s"`

	ID              string     `bun:"id,pk" json:"id"`
	UserID          *int64     `bun:"user_id" json:"user_id"`
	DeviceID        *int64     `bun:"device_id" json:"device_id"`
	DeviceUUID      string     `bun:"device_uuid" json:"device_uuid"`
	GatewayNodeName string     `bun:"gateway_node_name" json:"gateway_node_name"`
	GatewayNodeID   *int64     `bun:"gateway_node_id" json:"gateway_node_id"`
	OutlineNodeID   *int64     `bun:"outline_node_id" json:"outline_node_id"`
	Region          string     `bun:"region" json:"region"`
	StartedAt       time.Time  `bun:"started_at" json:"started_at"`
	EndedAt         *time.Time `bun:"ended_at" json:"ended_at"`
	EndReason       *string    `bun:"end_reason" json:"end_reason"`
	BytesUp         int64      `bun:"bytes_up" json:"bytes_up"`
	BytesDown       int64      `bun:"bytes_down" json:"bytes_down"`
	TotalBytes      int64      `bun:"-" json:"total_bytes"`
	LastSeq         int64      `bun:"last_seq" json:"last_seq"`
	Active          bool       `bun:"-" json:"active"`
	CreatedAt       time.Time  `bun:"created_at" json:"created_at"`
	UpdatedAt       time.Time  `bun:"updated_at" json:"updated_at"`
}

func (o *sessionObject) finish() {
	o.TotalBytes = o.BytesUp + o.BytesDown
	o.Active = o.EndedAt == nil
	o.StartedAt, o.CreatedAt, o.UpdatedAt = o.StartedAt.UTC(), o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	if o.EndedAt != nil {
		t := o.EndedAt.UTC()
		o.EndedAt = &t
	}
}

func (s *Service) listSessions(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	limit, offset, err := admin.Page(req)
	if err != nil {
		return nil, 0, err
	}
	f, err := admin.Filters(req, filterUserID, filterDevice, filterGateway, filterActive)
	if err != nil {
		return nil, 0, err
	}
	rows := []sessionObject{}
	q := s.db.NewSelect().Model(&rows).OrderExpr("s.started_at DESC, s.id").Limit(limit).Offset(offset)
	if v, ok := f[filterUserID]; ok {
		id, err := admin.PositiveID("filter user_id", v)
		if err != nil {
			return nil, 0, err
		}
		q = q.Where("s.user_id = ?", id)
	}
	if v, ok := f[filterDevice]; ok {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			q = q.Where("s.device_id = ?", id)
		} else if v == "" {
			return nil, 0, admin.Invalid("filter device_id: a device id or device_uuid is required")
		} else {
			q = q.Where("s.device_uuid = ?", v)
		}
	}
	if v, ok := f[filterGateway]; ok {
		q = q.Where("s.gateway_node_name = ?", v)
	}
	if v, ok := f[filterActive]; ok {
		switch v {
		case "true":
			q = q.Where("s.ended_at IS NULL")
		case "false":
			q = q.Where("s.ended_at IS NOT NULL")
		default:
			return nil, 0, admin.Invalid("filter active: must be true or false, got %q", truncate(v))
		}
	}
	total, err := q.ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list sessions: %w", err)
	}
	for i := range rows {
		rows[i].finish()
	}
	return rows, int64(total), nil
}

func (s *Service) getSession(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	if req.Key == "" {
		return nil, 0, admin.Invalid("key: the session uuid is required (sessions have no numeric id)")
	}
	if !isUUID(req.Key) {
		return nil, 0, admin.Invalid("key: must be a session uuid, got %q", truncate(req.Key))
	}
	var row sessionObject
	err := s.db.NewSelect().Model(&row).Where("s.id = ?", strings.ToLower(req.Key)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, admin.NotFound("session %s not found", req.Key)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("get session: %w", err)
	}
	row.finish()
	return row, 0, nil
}
