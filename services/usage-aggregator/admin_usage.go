package usageaggregator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/admin"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

type periodRow struct {
	bun.BaseModel `bun:"table:usage_periods,alias:p"`

	UserID      int64     `bun:"user_id,pk"`
	PeriodStart time.Time `bun:"period_start,pk"`
	BytesUp     int64     `bun:"bytes_up"`
	BytesDown   int64     `bun:"bytes_down"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

type periodObject struct {
	UserID      int64      `json:"user_id"`
	PeriodStart string     `json:"period_start"`
	BytesUp     int64      `json:"bytes_up"`
	BytesDown   int64      `json:"bytes_down"`
	TotalBytes  int64      `json:"total_bytes"`
	UpdatedAt   *time.Time `json:"updated_at"`
}

type usageObject struct {
	periodObject
	TrafficLimitBytes *int64 `json:"traffic_limit_bytes"`
	RemainingBytes    *int64 `json:"remaining_bytes"`
}

func (r periodRow) object() periodObject {
	updated := r.UpdatedAt.UTC()
	return periodObject{
		UserID:      r.UserID,
		PeriodStart: r.PeriodStart.Format(dateLayout),
		BytesUp:     r.BytesUp,
		BytesDown:   r.BytesDown,
		TotalBytes:  r.BytesUp + r.BytesDown,
		UpdatedAt:   &updated,
	}
}

func (s *Service) listUsage(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	limit, offset, err := admin.Page(req)
	if err != nil {
		return nil, 0, err
	}
	f, err := admin.Filters(req, filterUserID)
	if err != nil {
		return nil, 0, err
	}
	var rows []periodRow
	q := s.db.NewSelect().Model(&rows).OrderExpr("p.user_id, p.period_start DESC").Limit(limit).Offset(offset)
	if v, ok := f[filterUserID]; ok {
		id, err := admin.PositiveID("filter user_id", v)
		if err != nil {
			return nil, 0, err
		}
		q = q.Where("p.user_id = ?", id)
	}
	total, err := q.ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list usage: %w", err)
	}
	out := make([]periodObject, len(rows))
	for i, r := range rows {
		out[i] = r.object()
	}
	return out, int64(total), nil
}

func (s *Service) getUsage(ctx context.Context, req schemas.AdminRequest) (any, int64, error) {
	if req.ID <= 0 {
		return nil, 0, admin.Invalid("id: the user id is required")
	}
	exists, err := s.db.NewSelect().Table("users").Where("id = ?", req.ID).Exists(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("get usage: user: %w", err)
	}
	if !exists {
		return nil, 0, admin.NotFound("user %d not found", req.ID)
	}
	period := periodStart(time.Now())
	row := periodRow{UserID: req.ID, PeriodStart: period}
	err = s.db.NewSelect().Model(&row).Where("p.user_id = ? AND p.period_start = ?", req.ID, period.Format(dateLayout)).Scan(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("get usage: period: %w", err)
	}
	obj := usageObject{periodObject: row.object()}
	if errors.Is(err, sql.ErrNoRows) {
		obj.UpdatedAt = nil
	}
	limitBytes, err := trafficLimit(ctx, s.db, req.ID)
	if err != nil {
		return nil, 0, err
	}
	if limitBytes != nil {
		remaining := max(*limitBytes-obj.TotalBytes, 0)
		obj.TrafficLimitBytes, obj.RemainingBytes = limitBytes, &remaining
	}
	return obj, 0, nil
}

const trafficLimitSQL = `
SELECT CASE WHEN lim.traffic_limit_gb IS NULL THEN NULL ELSE LEAST(lim.traffic_limit_gb * 1000000000, 9223372036854775807)::bigint END
FROM (` + activeLimitSQL + `) lim`

// trafficLimit is nil when the user has no active subscription or the plan is unlimited.
func trafficLimit(ctx context.Context, db bun.IDB, userID int64) (*int64, error) {
	var limit sql.NullInt64
	err := db.QueryRowContext(ctx, trafficLimitSQL, pgdialect.Array([]int64{userID})).Scan(&limit)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !limit.Valid) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("traffic limit of user %d: %w", userID, err)
	}
	return &limit.Int64, nil
}
